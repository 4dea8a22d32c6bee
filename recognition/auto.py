"""Automatic recognition from accountability events, each exactly once per cause.

Every rule reads the database (never a payload): a task passes an id, the rule re-reads the
row and checks the event really happened. `_grant` records the cause as an `AutoKudos` row
under a unique constraint on (rule, cause) in the same transaction that posts the kudos, so a
retried task, a second worker or the nightly catch-up finds the row and does nothing.

Rules:
- goal met: from goals.services.goal_mark_met (on commit), and the nightly catch-up;
- lead saved: a rep makes the first contact of a lead someone else received and left
  untouched for `untouched_hours` (default: the neglect line of leads.metrics, 24 h);
- SLA streak: `business_days` (default 20) business days in a row in which every lead the rep
  received got its first contact within `first_contact_hours` and every follow-up due was done
  on time (leads.metrics' follow-up rule), with at least one of them; nightly;
- commitments kept: every commitment of each of the last `weeks` (default 4) weeks done; nightly.
- a review's action items all done by their due dates: the reviews app (above recognition) checks
  its own rows when an item is closed and calls `auto_review_actions_done`; the grant is keyed here.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from accountability.models import Membership, User
from accountability.notifications.services import notification_create
from accountability.scoping import descendant_team_ids, managed_team_ids
from accountability.timezones import figures_time_zone
from goals.models import Commitment, Goal
from goals.selectors import week_start
from leads.models import FollowUp, Lead
from recognition import notices
from recognition.models import AutoKudos, AutoRule, CompanyValue
from recognition.services import kudos_post_automatic

logger = logging.getLogger(__name__)

Code = AutoRule.Code

RULE_DEFAULTS: dict[str, dict] = {
    Code.GOAL_MET: {},
    Code.LEAD_SAVED: {"untouched_hours": 24},
    Code.SLA_STREAK: {"business_days": 20, "first_contact_hours": 24},
    Code.COMMITMENTS_KEPT: {"weeks": 4},
    Code.ACTION_ITEMS_DONE: {},
}
# Which value each rule's kudos is tagged with, by name, when that value exists.
RULE_VALUES = {Code.GOAL_MET: "Own it", Code.LEAD_SAVED: "Own it", Code.SLA_STREAK: "Honesty first"}


def rule_get(code: str) -> AutoRule:
    rule, created = AutoRule.objects.get_or_create(code=code, defaults={"params": dict(RULE_DEFAULTS[code])})
    if created and code in RULE_VALUES:
        value = CompanyValue.objects.filter(name=RULE_VALUES[code], retired=False).first()
        if value:
            AutoRule.objects.filter(pk=rule.pk).update(value=value)
            rule.value = value
    return rule


def rules_ensure() -> list[AutoRule]:
    return [rule_get(code) for code in Code.values]


def param(rule: AutoRule, name: str) -> int:
    try:
        return int(rule.params.get(name, RULE_DEFAULTS[rule.code][name]))
    except (TypeError, ValueError):
        return int(RULE_DEFAULTS[rule.code][name])


def _managers_of(users: list[User]) -> list[User]:
    team_ids = Membership.objects.filter(user__in=users).values("team_id")
    return list(User.objects.filter(managed_teams__id__in=team_ids, is_active=True).distinct())


def _grant(
    *, rule: AutoRule, cause: str, recipients: list[User], message: str, lead=None, goal=None, data=None, now=None
) -> AutoKudos | None:
    """Record the cause once and post its kudos (or queue it for the manager's co-sign).
    None when the rule is off, nobody is to be recognised, or the cause was already recorded."""
    recipients = [r for r in recipients if r.is_active]
    if not rule.enabled or not recipients:
        return None
    now = now or timezone.now()
    try:
        with transaction.atomic():
            grant = AutoKudos.objects.create(
                rule=rule, cause=cause[:100], message=message, lead=lead, goal=goal, data=data or {}
            )
            grant.recipients.set(recipients)
            if rule.requires_cosign:
                for manager in _managers_of(recipients):
                    notification_create(
                        recipient=manager,
                        kind=notices.KUDOS_COSIGN,
                        title=f"Co-sign an automatic kudos for {', '.join(map(str, recipients))}: {message[:100]}",
                        key=f"kudos-cosign:{grant.pk}",
                        url=reverse("recognition:cosign-list"),
                    )
            else:
                grant.kudos = kudos_post_automatic(
                    rule=rule, recipients=recipients, message=message, lead=lead, goal=goal, now=now
                )
                grant.state = AutoKudos.State.POSTED
                grant.decided_at = now
                grant.save(update_fields=["kudos", "state", "decided_at"])
    except IntegrityError:
        return None  # already recorded: a retry, a second worker or the catch-up
    return grant


@transaction.atomic
def auto_kudos_cosign(*, actor: User, grant: AutoKudos, approve: bool) -> AutoKudos:
    """A manager of a recipient (or an admin) posts or declines a queued automatic kudos, once."""
    recipients = list(grant.recipients.all())
    if not actor.is_admin:
        managed = managed_team_ids(actor) if actor.is_manager else set()
        if not Membership.objects.filter(user__in=recipients, team_id__in=managed).exists():
            raise PermissionDenied
    now = timezone.now()
    state = AutoKudos.State.POSTED if approve else AutoKudos.State.DECLINED
    updated = AutoKudos.objects.filter(pk=grant.pk, state=AutoKudos.State.PENDING).update(
        state=state, decided_by=actor, decided_at=now
    )
    if not updated:
        raise ValidationError("This automatic kudos was already decided.")
    grant.refresh_from_db()
    if approve:
        grant.kudos = kudos_post_automatic(
            rule=grant.rule, recipients=recipients, message=grant.message, lead=grant.lead, goal=grant.goal, now=now
        )
        grant.save(update_fields=["kudos"])
    return grant


# --- Event-driven rules -----------------------------------------------------------------------


def auto_goal_met(*, goal_id: int) -> AutoKudos | None:
    goal = Goal.objects.select_related("owner", "team").filter(pk=goal_id, outcome=Goal.Outcome.MET).first()
    if goal is None:
        return None
    rule = rule_get(Code.GOAL_MET)
    if goal.owner_id:
        recipients = [goal.owner]
    else:
        team_ids = descendant_team_ids([goal.team_id])
        recipients = list(User.objects.filter(memberships__team_id__in=team_ids, role=User.Role.REP).distinct())
    target = f"{goal.get_direction_display().lower()} {goal.target.normalize():f} {goal.unit}"
    message = f"Met the goal “{goal.title}”: {target}."
    # Dated when the goal was met, so a late run (the catch-up) files it in the right review period.
    return _grant(
        rule=rule, cause=f"goal:{goal.pk}", recipients=recipients, message=message, goal=goal, now=goal.outcome_at
    )


def auto_lead_saved(*, lead_id: int) -> AutoKudos | None:
    lead = (
        Lead.objects.filter(pk=lead_id, first_contacted_at__isnull=False, received_by__isnull=False)
        .exclude(received_by_id=F("first_contacted_by_id"))
        .select_related("first_contacted_by")
        .first()
    )
    if lead is None or lead.first_contacted_by is None:
        return None
    rule = rule_get(Code.LEAD_SAVED)
    hours = param(rule, "untouched_hours")
    waited = lead.first_contacted_at - lead.arrived_at
    if waited < dt.timedelta(hours=hours):
        return None
    message = (
        f"Saved a neglected lead: made its first contact after {int(waited.total_seconds() // 3600)} hours "
        "without a reply, though it was someone else's."
    )
    return _grant(
        rule=rule,
        cause=f"lead:{lead.pk}",
        recipients=[lead.first_contacted_by],
        message=message,
        lead=lead,
        now=lead.first_contacted_at,
    )


def auto_review_actions_done(*, review_id: int, rep: User, items: int, done_at: dt.datetime) -> AutoKudos | None:
    """Every action item of review `review_id` was done by its due date (the reviews app decided it
    from its rows, since recognition sits below reviews and does not read them). Once per review."""
    rule = rule_get(Code.ACTION_ITEMS_DONE)
    plural = "s" if items != 1 else ""
    message = f"Did all {items} action item{plural} agreed in their review, each by its due date."
    return _grant(rule=rule, cause=f"review-actions:{review_id}", recipients=[rep], message=message, now=done_at)


# --- Nightly rules ----------------------------------------------------------------------------


def business_days_before(today: dt.date, n: int) -> list[dt.date]:
    """The n business days (Monday to Friday) before `today`, oldest first."""
    days: list[dt.date] = []
    day = today
    while len(days) < n:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return sorted(days)


def _midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def _last_window_end(rule: AutoRule, user_ids) -> dict[int, str]:
    """Per person, where their last recognition of this rule ended (streaks never overlap)."""
    ends: dict[int, str] = {}
    for grant in AutoKudos.objects.filter(rule=rule, recipients__in=user_ids).prefetch_related("recipients"):
        for person in grant.recipients.all():
            end = grant.data.get("end", "")
            ends[person.pk] = max(ends.get(person.pk, ""), end)
    return ends


def _streak_totals(ids: list[int], *, start, end, hours: int, tz) -> dict[int, list[int]]:
    """Per rep, [items decided, items late] in [start, end): leads they received on a business
    day (first contact within `hours`) and follow-ups due (done by their due time). Two queries."""
    with timezone.override(tz):  # "a weekend day" in the reps' own zone
        leads = list(
            Lead.objects.filter(received_by_id__in=ids, arrived_at__gte=start, arrived_at__lt=end)
            .exclude(arrived_at__week_day__in=[1, 7])  # Sunday, Saturday
            .values("received_by_id")
            .annotate(
                total=Count("id"),
                late=Count(
                    "id",
                    filter=Q(first_contacted_at__isnull=True)
                    | Q(first_contacted_at__gt=F("arrived_at") + dt.timedelta(hours=hours)),
                ),
            )
        )
    follow_ups = (
        FollowUp.objects.filter(owner_id__in=ids, due_at__gte=start, due_at__lt=end)
        .exclude(state=FollowUp.State.CANCELLED)
        .values("owner_id")
        .annotate(
            total=Count("id"),
            late=Count("id", filter=Q(state=FollowUp.State.OPEN) | Q(done_at__gt=F("due_at"))),
        )
    )
    totals: dict[int, list[int]] = {}
    for key, rows in (("received_by_id", leads), ("owner_id", follow_ups)):
        for row in rows:
            pair = totals.setdefault(row[key], [0, 0])
            pair[0] += row["total"]
            pair[1] += row["late"]
    return totals


def auto_sla_streaks(*, today: dt.date | None = None) -> int:
    """Recognise reps whose last `business_days` business days were all on time. Returns how many.
    Days are cut in each rep's figures zone (their first team's), as every figure of theirs is."""
    rule = rule_get(Code.SLA_STREAK)
    if not rule.enabled:
        return 0
    n = param(rule, "business_days")
    hours = param(rule, "first_contact_hours")
    by_zone: dict = {}
    for rep in User.objects.filter(role=User.Role.REP, is_active=True):
        by_zone.setdefault(figures_time_zone(rep), []).append(rep)
    ends = _last_window_end(rule, [rep.pk for reps in by_zone.values() for rep in reps])
    granted = 0
    for tz, reps in by_zone.items():
        days = business_days_before(today or timezone.localdate(timezone=tz), n)
        start, end = _midnight(days[0], tz), _midnight(days[-1] + dt.timedelta(days=1), tz)
        totals = _streak_totals([r.pk for r in reps], start=start, end=end, hours=hours, tz=tz)
        for rep in reps:
            total, late = totals.get(rep.pk, (0, 0))
            if not total or late or ends.get(rep.pk, "") >= days[0].isoformat():
                continue  # nothing decided, something late, or inside the streak already recognised
            message = (
                f"{n} business days in a row with every first contact and follow-up on time "
                f"({days[0]:%d %b} to {days[-1]:%d %b})."
            )
            data = {"start": days[0].isoformat(), "end": days[-1].isoformat(), "items": total}
            cause = f"sla_streak:{rep.pk}:{days[0].isoformat()}"
            granted += _grant(rule=rule, cause=cause, recipients=[rep], message=message, data=data) is not None
    return granted


def auto_commitments_kept(*, today: dt.date | None = None) -> int:
    """Recognise people who kept every weekly commitment for the last `weeks` whole weeks."""
    rule = rule_get(Code.COMMITMENTS_KEPT)
    if not rule.enabled:
        return 0
    today = today or timezone.localdate()
    weeks = param(rule, "weeks")
    this_week = week_start(today)
    first = this_week - dt.timedelta(weeks=weeks)
    rows = (
        Commitment.objects.filter(week_start__gte=first, week_start__lt=this_week)
        .values("owner_id", "week_start")
        .annotate(total=Count("id"), done=Count("id", filter=Q(status=Commitment.Status.DONE)))
    )
    kept: dict[int, int] = {}
    broken: set[int] = set()
    for row in rows:
        if row["done"] == row["total"]:
            kept[row["owner_id"]] = kept.get(row["owner_id"], 0) + 1
        else:
            broken.add(row["owner_id"])
    winners = [pk for pk, n in kept.items() if n == weeks and pk not in broken]
    if not winners:
        return 0
    ends = _last_window_end(rule, winners)
    last_week = this_week - dt.timedelta(weeks=1)
    granted = 0
    for person in User.objects.filter(pk__in=winners, is_active=True):
        if ends.get(person.pk, "") >= first.isoformat():
            continue
        message = (
            f"Kept every weekly commitment for {weeks} weeks in a row (weeks of {first:%d %b} to {last_week:%d %b})."
        )
        data = {"start": first.isoformat(), "end": (last_week + dt.timedelta(days=6)).isoformat()}
        if _grant(
            rule=rule,
            cause=f"commitments:{person.pk}:{first.isoformat()}",
            recipients=[person],
            message=message,
            data=data,
        ):
            granted += 1
    return granted


def auto_catch_up(*, since: dt.datetime) -> int:
    """Post what the event-driven rules missed (a lost message, the broker down): goals met and
    leads saved since `since`. Safe to run any number of times."""
    done = 0
    for goal_id in Goal.objects.filter(outcome=Goal.Outcome.MET, outcome_at__gte=since).values_list("pk", flat=True):
        done += auto_goal_met(goal_id=goal_id) is not None
    saved = (
        Lead.objects.filter(first_contacted_at__gte=since, received_by__isnull=False)
        .exclude(received_by_id=F("first_contacted_by_id"))
        .values_list("pk", flat=True)
    )
    for lead_id in saved:
        done += auto_lead_saved(lead_id=lead_id) is not None
    return done
