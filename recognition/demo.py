"""Demo recognition: values from the expectations document, a few weeks of kudos between the
reps of Inbound East (maria) and Inbound West (sam), automatic kudos for the goals met and
leads saved in the demo data, a monthly "Lead saver" award with past winners, leaderboard off.

Dates are relative to ctx.now; a second run finds the peer kudos already there and gives none,
and every automatic kudos and award winner is a keyed row, so nothing is created twice.
"""

import datetime as dt

from accountability.demo import DemoContext
from accountability.timezones import site_time_zone
from leads.models import Lead
from recognition import auto, awards, services
from recognition.models import AutoRule, Award, CompanyValue, Kudos
from recognition.selectors import settings_get

# days ago, giver, recipients, values, message, evidence ("lead": a lead of the giver's)
KUDOS = [
    (
        26,
        "alice",
        ["bob"],
        ["Own it"],
        "Took my Friday callbacks when I was off sick and logged every one of them.",
        "",
    ),
    (
        24,
        "erin",
        ["frank"],
        ["Honesty first"],
        "Told the Northwind buyer straight that we don't do SSO yet. They stayed.",
        "",
    ),
    (
        21,
        "bob",
        ["carlos", "dana"],
        ["Own it"],
        "Cleared the whole stale-lead list in two days, with a note on each.",
        "",
    ),
    (
        19,
        "grace",
        ["henry"],
        ["Respect the no"],
        "Let a bad-fit prospect go politely and they referred a better one.",
        "",
    ),
    (
        17,
        "carlos",
        ["alice"],
        ["Own it", "Honesty first"],
        "Walked me through her follow-up routine; my overdue list is empty.",
        "lead",
    ),
    (
        14,
        "frank",
        ["erin", "grace"],
        ["Own it"],
        "Ran the webinar follow-ups together: every attendee called within a day.",
        "",
    ),
    (
        12,
        "dana",
        ["bob"],
        ["Honesty first"],
        "Corrected a mis-logged call on my lead instead of letting it slide.",
        "lead",
    ),
    (10, "henry", ["frank"], ["Own it"], "Picked up a West lead at 7 pm so the customer was not left waiting.", "lead"),
    (8, "alice", ["erin"], ["Respect the no"], "Shared her script for a graceful 'not now' with the East team.", ""),
    (6, "erin", ["alice"], ["Own it"], "Covered our time zone on Monday morning and saved two hot leads.", ""),
    (4, "bob", ["alice"], ["Own it"], "Booked the Contoso demo from a lead I had parked. Proper ownership.", "lead"),
    (
        2,
        "grace",
        ["dana"],
        ["Honesty first"],
        "Flagged that a discount was outside the price book before we sent it.",
        "",
    ),
    (
        1,
        "sam",
        ["grace", "henry"],
        ["Own it"],
        "Every West follow-up this week went out on the day promised. Thank you.",
        "",
    ),
]


def _evidence(ctx: DemoContext, giver) -> dict:
    lead = Lead.objects.filter(owner=giver).order_by("arrived_at", "id").first()
    return {"lead": lead} if lead else {}


def seed(ctx: DemoContext) -> None:
    settings_get()  # leaderboard off, organisation feed on: the defaults
    services.values_seed()
    values = {v.name: v for v in CompanyValue.objects.all()}
    for rule in auto.rules_ensure():
        if rule.value_id is None and auto.RULE_VALUES.get(rule.code) in values:
            AutoRule.objects.filter(pk=rule.pk).update(value=values[auto.RULE_VALUES[rule.code]])
    if not Kudos.objects.filter(giver__isnull=False).exists():
        for days, giver, recipients, names, message, evidence in KUDOS:
            given_by = ctx.users[giver]
            services.kudos_give(
                actor=given_by,
                recipients=[ctx.users[r] for r in recipients],
                message=message,
                values=[values[n] for n in names if n in values] or list(values.values())[:1],
                now=ctx.now - dt.timedelta(days=days, hours=days % 5),
                **(_evidence(ctx, given_by) if evidence else {}),
            )
    # Recognition "arrived" a month ago: what happened since is recognised, dated when it happened.
    automatic = auto.auto_catch_up(since=ctx.now - dt.timedelta(days=30))

    award, _ = Award.objects.get_or_create(
        name="Lead saver of the month",
        team=None,
        defaults={
            "criteria": "The rep who saved the most leads in the month: first contact on a lead someone else "
            "received and left waiting. A tie goes to the longest-serving rep.",
            "metric": awards.LEADS_SAVED,
        },
    )
    team_award, _ = Award.objects.get_or_create(
        name="Team of the month",
        team=None,
        defaults={
            "criteria": "The team whose members received the most kudos in the month: a team reward.",
            "metric": awards.KUDOS_RECEIVED,
            "winner_kind": Award.Winner.TEAM,
        },
    )
    today = ctx.now.astimezone(site_time_zone()).date()
    winners = 0
    start, _end = awards.previous_period(award, today)
    for _ in range(3):
        winners += awards.award_compute(award=award, period_start=start) is not None
        start, _end = awards.previous_period(award, start)
    last_month, _end = awards.previous_period(team_award, today)
    winners += awards.award_compute(award=team_award, period_start=last_month) is not None
    peer = Kudos.objects.filter(giver__isnull=False).count()
    ctx.created.append(
        f"Recognition: {len(values)} values, {peer} peer kudos; {automatic} automatic kudos and "
        f"{winners} award winners added."
    )
