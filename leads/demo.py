"""Demo leads: 300 leads over the last 90 days for Inbound East and Inbound West.

The story it tells on the dashboard and the neglected report:
- Alice answers within minutes and keeps her follow-ups; Erin is the team's best closer.
- Bob is slow and lets leads go cold: Maria reassigned several of his untouched leads to
  Carlos, who saved them (saved-lead credit for Carlos, received for Bob).
- Frank calls quickly but keeps his follow-ups late; Henry is new and slow.
- A few leads wait in the unassigned queues, some neglected (never contacted, follow-up
  overdue, or silent for more than a week).

Rows are bulk-created for speed, with every derived column as leads.services would leave it:
first_contacted_at/by from the first call, email, meeting or SMS (and first_contact_business_minutes,
speed to lead in business time); last_activity_at from the last
logged entry; next_follow_up_at from the one open FollowUp; closed_at and a stage entry for won
and lost leads; an `assigned` entry {"from_owner", "to_owner", "reason"} for every assignment.
Deterministic for a given ctx.now and ctx.rng; does nothing when the demo leads exist.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F

from leads.models import Activity, FollowUp, IntakeSource, Lead
from leads.rollup import rollup_build
from leads.sla.selectors import PolicyBook, business_minutes_to_first_contact

EMAIL_DOMAIN = "demo-lead.example"
LEADS = 300


@dataclass(frozen=True)
class Style:
    speed_minutes: float  # typical time to first contact
    never: float  # share of leads never contacted
    on_time: float  # share of follow-ups done by their due time
    wins: float  # share of closed leads that are won
    drops: float  # chance, after a touch, of promising no next date (the lead goes silent)


STYLES = {
    "alice": Style(8, 0.0, 0.95, 0.45, 0.01),
    "bob": Style(600, 0.30, 0.55, 0.25, 0.10),
    "carlos": Style(20, 0.02, 0.85, 0.40, 0.02),
    "dana": Style(45, 0.05, 0.80, 0.35, 0.03),
    "erin": Style(25, 0.02, 0.90, 0.55, 0.02),
    "frank": Style(15, 0.05, 0.45, 0.30, 0.04),
    "grace": Style(40, 0.05, 0.80, 0.35, 0.03),
    "henry": Style(240, 0.15, 0.65, 0.20, 0.08),
}
TEAMS = {"Inbound East": ["alice", "bob", "carlos", "dana"], "Inbound West": ["erin", "frank", "grace", "henry"]}
FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Ethan", "Zara", "Omar", "Priya"]
LAST = ["Garcia", "Smith", "Chen", "Patel", "Rossi", "Novak", "Okoro", "Silva", "Murphy", "Haddad", "Berg", "Tanaka"]
COMPANIES = [
    "Acme Roofing",
    "Bluebird Dental",
    "Cobalt Logistics",
    "Delta Fitness",
    "Evergreen Homes",
    "Fjord Foods",
    "Granite Legal",
    "Harbor Clinics",
    "Indigo Studios",
    "Juniper Schools",
    "Keystone Auto",
    "Lumen Solar",
]
LOST_REASONS = ["Chose a competitor", "No budget this year", "Went silent", "Not a fit", "Price"]
# The outcomes a rep can pick in the activity form (leads.services.OUTCOMES), most common first.
OUTCOMES = {
    "call": ["connected", "connected", "voicemail", "no_answer"],
    "email": ["sent", "sent", "replied"],
    "meeting": ["held", "held", "rescheduled"],
    "sms": ["sent", "replied"],
}


def seed(ctx) -> None:
    if not Lead.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists():
        with transaction.atomic():
            _seed(ctx)
    seed_rollup(ctx)


def seed_rollup(ctx) -> None:
    """The daily rollup of the demo's 90 days, as the nightly task would have left it (PostgreSQL:
    SQLite's `make run` reads raw rows). An upsert: running it twice writes the same rows."""
    if connection.vendor != "postgresql":
        return
    today = ctx.now.date()
    result = rollup_build(start=today - timedelta(days=92), end=today, now=ctx.now)
    ctx.created.append(f"Daily rollup: {result.rep_rows} person-days, {result.team_rows} team-days")


def _seed(ctx) -> None:
    rng, now, users, teams = ctx.rng, ctx.now, ctx.users, ctx.teams
    # A token of its own, never shown (an admin rotates it to use the API): the source's API page
    # then shows its prefix in the curl example, as for a real source. From `secrets`, never from the
    # seeded rng: a predictable token would open the API of every demo.
    token = "acc_" + secrets.token_urlsafe(32)
    website, _ = IntakeSource.objects.get_or_create(
        name="Website",
        defaults={
            "slug": "website",
            "team": teams["Inbound East"],
            "token_prefix": token[:12],
            "token_hash": hashlib.sha256(token.encode()).hexdigest(),
            "token_rotated_at": now,
        },
    )
    leads: list[Lead] = []
    plans: list[dict] = []
    turn = dict.fromkeys(TEAMS, 0)
    for i in range(LEADS):
        team_name = "Inbound East" if rng.random() < 0.55 else "Inbound West"
        arrived = now - timedelta(minutes=rng.uniform(30, 90 * 24 * 60))
        reps = TEAMS[team_name]
        owner_name = reps[turn[team_name] % len(reps)]
        turn[team_name] += 1
        queued = (now - arrived < timedelta(days=2) and rng.random() < 0.25) or i in (7, 150)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        lead = Lead(
            name=f"{first} {last}",
            company=rng.choice(COMPANIES),
            email=f"{first}.{last}.{i}@{EMAIL_DOMAIN}".lower(),
            phone=f"+1555{rng.randint(1000000, 9999999)}",
            channel=Lead.Channel.WEB_FORM if team_name == "Inbound East" else rng.choice(["api", "manual"]),
            source=website if team_name == "Inbound East" else None,
            team=teams[team_name],
            owner=None if queued else users[owner_name],
            received_by=None if queued else users[owner_name],  # kept when Maria reassigns it below
            value=Decimal(rng.choice([500, 1200, 2500, 4000, 7500, 12000, 25000])),
            arrived_at=arrived,
            assigned_at=None if queued else arrived + timedelta(minutes=1),
        )
        leads.append(lead)
        plans.append({"owner": None if queued else owner_name, "queued": queued})
    Lead.objects.bulk_create(leads)

    activities: list[Activity] = []
    follow_ups: list[tuple[Lead, dict]] = []
    saved = neglected_queue = 0
    for lead, plan in zip(leads, plans, strict=True):
        activities.append(
            Activity(
                lead=lead,
                kind=Activity.Kind.ARRIVED,
                data={"channel": lead.channel, "source": lead.source.name if lead.source else ""},
                occurred_at=lead.arrived_at,
            )
        )
        if plan["queued"]:
            neglected_queue += now - lead.arrived_at > timedelta(hours=24)
            activities.append(
                _assigned(lead, None, None, lead.arrived_at, "Waiting in the team's unassigned queue", "queue")
            )
            continue
        owner = users[plan["owner"]]
        activities.append(_assigned(lead, None, owner, lead.assigned_at, "Round-robin", "round_robin"))
        style = STYLES[plan["owner"]]
        contactor = owner
        first_touch = lead.arrived_at + timedelta(minutes=rng.lognormvariate(0, 0.8) * style.speed_minutes)
        if rng.random() < style.never:
            # Never contacted by its owner. Maria hands older ones from Bob to Carlos, who saves them.
            if plan["owner"] == "bob" and now - lead.arrived_at > timedelta(days=3) and rng.random() < 0.6:
                moved = lead.arrived_at + timedelta(hours=rng.uniform(26, 40))
                contactor = users["carlos"]
                activities.append(_assigned(lead, owner, contactor, moved, "Not contacted within 24 hours", "reassign"))
                lead.owner, lead.assigned_at = contactor, moved
                first_touch = moved + timedelta(minutes=rng.uniform(10, 60))
                saved += 1
            else:
                continue
        if first_touch >= now:
            continue
        _timeline(lead, contactor, first_touch, STYLES.get(contactor.username, style), rng, now, activities, follow_ups)

    Activity.objects.bulk_create(activities)  # ids come back (RETURNING), so follow-ups can point at them
    FollowUp.objects.bulk_create(
        FollowUp(
            lead=lead,
            owner=f["owner"],
            due_at=f["due"],
            state=f["state"],
            set_by=f["set_by"],
            done_at=f.get("done_at"),
            done_by=f.get("done_by"),
        )
        for lead, f in follow_ups
    )
    # Entries and leads were written when they happened, not now (the edit window and the lists
    # read created_at): auto_now_add set them to now on insert.
    Activity.objects.filter(lead__in=leads).update(created_at=F("occurred_at"))
    # Speed to lead in business time, as activity_log stores it at the first contact: with the
    # policy in force (the SLA demo saves its own after this; until then the built-in hours).
    book = PolicyBook.load()
    for lead in leads:
        lead.created_at = lead.arrived_at
        if lead.first_contacted_at is not None:
            lead.first_contact_business_minutes = business_minutes_to_first_contact(book, lead, lead.first_contacted_at)
    Lead.objects.bulk_update(
        leads,
        [
            "owner",
            "assigned_at",
            "first_contacted_at",
            "first_contacted_by",
            "first_contact_business_minutes",
            "last_activity_at",
            "next_follow_up_at",
            "closed_at",
            "stage",
            "lost_reason",
            "created_at",
        ],
    )
    won = sum(lead.stage == Lead.Stage.WON for lead in leads)
    ctx.created.append(
        f"{len(leads)} leads over 90 days ({won} won, {saved} saved by Carlos, {sum(p['queued'] for p in plans)} "
        f"in the queues, {neglected_queue} of them neglected), {len(activities)} timeline entries, "
        f"{len(follow_ups)} follow-ups"
    )


def _assigned(lead, from_owner, to_owner, at, reason, how) -> Activity:
    """The entry leads.services writes for every assignment (same data keys)."""
    return Activity(
        lead=lead,
        kind=Activity.Kind.ASSIGNED,
        body=reason,
        data={
            "from_owner": from_owner.pk if from_owner else None,
            "from_owner_name": str(from_owner) if from_owner else "",
            "to_owner": to_owner.pk if to_owner else None,
            "to_owner_name": str(to_owner) if to_owner else "",
            "reason": reason,
            "how": how,
        },
        occurred_at=at,
    )


def _timeline(lead, rep, first_touch, style, rng, now, activities, follow_ups) -> None:
    """First contact, then follow-ups promised and kept (or not), until won, lost or still open now."""
    when = first_touch
    stage_path = [Lead.Stage.CONTACTED, Lead.Stage.QUALIFIED, Lead.Stage.PROPOSAL]
    lead.first_contacted_at, lead.first_contacted_by = when, rep
    open_follow_up = None
    for n in range(12):
        kind = "call" if n == 0 else rng.choice(["call", "call", "email", "email", "meeting", "sms"])
        entry = Activity(
            lead=lead,
            kind=kind,
            actor=rep,
            outcome=rng.choice(OUTCOMES[kind]),
            occurred_at=when,
            body=rng.choice(["Discussed needs.", "Sent pricing.", "Left a message.", "Booked a demo.", ""]),
        )
        activities.append(entry)
        if open_follow_up is not None:
            open_follow_up.update(state=FollowUp.State.DONE, done_at=when, done_by=rep)
            open_follow_up = None
        if rng.random() < 0.15:
            activities.append(Activity(lead=lead, kind="note", actor=rep, body="Internal note.", occurred_at=when))
        lead.last_activity_at = when
        lead.stage = stage_path[min(n, 2)]
        if n >= 2 and rng.random() < 0.35:
            won = rng.random() < style.wins
            lead.stage = Lead.Stage.WON if won else Lead.Stage.LOST
            lead.lost_reason = "" if won else rng.choice(LOST_REASONS)
            lead.closed_at = when + timedelta(minutes=5)
            activities.append(
                Activity(
                    lead=lead,
                    kind=Activity.Kind.STAGE,
                    actor=rep,
                    occurred_at=lead.closed_at,
                    body=lead.lost_reason,
                    data={"from": stage_path[min(n, 2)], "to": lead.stage, "lost_reason": lead.lost_reason},
                )
            )
            return
        if rng.random() < style.drops:  # no next date promised: the lead goes silent
            return
        due = when + timedelta(days=rng.uniform(1, 5))
        open_follow_up = {"owner": rep, "due": due, "state": FollowUp.State.OPEN, "set_by": entry}
        follow_ups.append((lead, open_follow_up))
        on_time = rng.random() < style.on_time
        when = due - timedelta(hours=rng.uniform(1, 20)) if on_time else due + timedelta(hours=rng.uniform(4, 72))
        if when >= now:
            lead.next_follow_up_at = due  # still open: overdue when due is already past
            return
    lead.next_follow_up_at = open_follow_up["due"] if open_follow_up else None
