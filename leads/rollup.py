"""Building the daily rollup: leads.models.RepDay (per person and local day) and TeamDay (per team).

`rollup_build(start=, end=)` recomputes every row of a range of days from the raw rows (an upsert:
running it twice writes the same rows) in a few grouped queries per time zone. `rollup_refresh()`
is the nightly run: the day just ended, plus every closed day whose raw rows changed since the
last run (a lead first contacted days after it arrived, a follow-up cancelled, an entry logged
for an earlier day), found from the rows' own timestamps. leads.metrics reads the rows
(leads.metrics.rollup) for the closed days of a period and raw rows for the rest.

Days are cut in the person's figures zone (their first team's, as the dashboards cut periods)
and in a team's own zone; each row records its exact interval, so a row is right for that
interval whatever zone a period is later cut in.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import transaction
from django.db.models import Count, F, FloatField, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from accountability.models import Membership, Team, User
from leads.metrics import LOGGABLE_KINDS, closedcache, first_contact_minutes
from leads.metrics.queries import first_contact_wall_minutes
from leads.models import Activity, FollowUp, Lead, RepDay, RollupState, TeamDay
from leads.sla.models import SlaNotice

logger = logging.getLogger(__name__)

# The first nightly run (no RollupState yet) rolls up this many days back.
INITIAL_DAYS = 120
BATCH = 2000
KIND_COLUMNS = {"call": "calls", "email": "emails", "meeting": "meetings", "sms": "sms", "note": "notes"}
REP_FIELDS = [
    "time_zone",
    "starts_at",
    "ends_at",
    "received",
    "contacted",
    "first_contact_minutes",
    "first_contact_wall_minutes",
    "follow_ups_due",
    "follow_ups_kept",
    "follow_ups_missed",
    *KIND_COLUMNS.values(),
    "won",
    "lost",
    "value_won",
    "saved",
    "breaches",
    "escalations",
    "computed_at",
]
TEAM_FIELDS = [
    "time_zone",
    "starts_at",
    "ends_at",
    "received",
    "contacted",
    "first_contact_minutes",
    "first_contact_wall_minutes",
    "won",
    "lost",
    "value_won",
    "computed_at",
]


def _zone(name: str | None):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def figures_zones() -> dict[int, str]:
    """Every person's figures zone (accountability.timezones.figures_time_zone, for everyone at
    once in three queries): their first team's; else their own; else the first team they manage;
    else the site's."""
    first_team: dict[int, str] = {}
    for user_id, tz in Membership.objects.order_by("id").values_list("user_id", "team__time_zone"):
        first_team.setdefault(user_id, tz)
    managed: dict[int, str] = {}
    for manager_id, tz in (
        Team.objects.filter(manager__isnull=False).order_by("id").values_list("manager_id", "time_zone")
    ):
        managed.setdefault(manager_id, tz)
    zones = {}
    for user_id, own in User.objects.values_list("id", "time_zone"):
        for name in (first_team.get(user_id), own, managed.get(user_id), settings.TIME_ZONE):
            if _zone(name) is not None:
                zones[user_id] = name
                break
    return zones


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass
class BuildResult:
    rep_rows: int = 0
    team_rows: int = 0
    start: date | None = None
    end: date | None = None


def rollup_build(*, start: date, end: date, now: datetime | None = None) -> BuildResult:
    """Recompute RepDay and TeamDay rows for the local days start..end (both included) of every
    person and team, up to each zone's yesterday (a day still running is never rolled up)."""
    now = now or timezone.now()
    result = BuildResult(start=start, end=end)
    people_by_zone: dict[str, list[int]] = defaultdict(list)
    for user_id, name in figures_zones().items():
        people_by_zone[name].append(user_id)
    teams_by_zone: dict[str, list[int]] = defaultdict(list)
    for team_id, name in Team.objects.values_list("id", "time_zone"):
        teams_by_zone[name if _zone(name) else settings.TIME_ZONE].append(team_id)
    for name in sorted(set(people_by_zone) | set(teams_by_zone)):
        zone = zoneinfo.ZoneInfo(name)
        last = min(end, now.astimezone(zone).date() - timedelta(days=1))
        if last < start:
            continue
        with transaction.atomic():
            if people_by_zone.get(name):
                result.rep_rows += _build_people(people_by_zone[name], zone, name, start, last, now)
            if teams_by_zone.get(name):
                result.team_rows += _build_teams(teams_by_zone[name], zone, name, start, last, now)
    # New rows: what leads.metrics cached from the old ones is unreachable from now on. Again once
    # committed, so a reader that cached the old rows meanwhile is not kept either.
    closedcache.bump(now)
    transaction.on_commit(lambda: closedcache.bump(now))
    return result


def _days(start: date, last: date):
    day = start
    while day <= last:
        yield day
        day += timedelta(days=1)


def _in(field: str, s: datetime, e: datetime) -> dict:
    return {f"{field}__gte": s, f"{field}__lt": e}


def _minutes_agg():
    """The cohort's business minutes (a contacted lead without them is left out, as the raw
    percentiles leave out its NULL)."""
    return ArrayAgg(
        Cast(first_contact_minutes(), FloatField()),
        filter=Q(first_contacted_at__isnull=False, first_contact_business_minutes__isnull=False),
    )


def _wall_minutes_agg():
    """The cohort's wall-clock minutes to first contact (every contacted lead)."""
    return ArrayAgg(Cast(first_contact_wall_minutes(), FloatField()), filter=Q(first_contacted_at__isnull=False))


def _cohort_values(r) -> dict:
    return {
        "received": r["received"],
        "contacted": r["contacted"],
        "first_contact_minutes": sorted(r["minutes"] or []),
        "first_contact_wall_minutes": sorted(r["wall_minutes"] or []),
    }


def _build_people(user_ids, zone, name, start, last, now) -> int:
    s, e = _midnight(start, zone), _midnight(last + timedelta(days=1), zone)
    rows: dict[tuple[int, date], dict] = defaultdict(dict)

    def day(field):
        return TruncDate(field, tzinfo=zone)

    cohort = (
        Lead.objects.filter(received_by_id__in=user_ids, **_in("arrived_at", s, e))
        .annotate(day=day("arrived_at"))
        .values("received_by_id", "day")
        .annotate(
            received=Count("*"),
            contacted=Count("first_contacted_at"),
            minutes=_minutes_agg(),
            wall_minutes=_wall_minutes_agg(),
        )
    )
    for r in cohort:
        rows[(r["received_by_id"], r["day"])].update(_cohort_values(r))
    on_time = Q(state=FollowUp.State.DONE, done_at__lte=F("due_at"))
    missed = Q(state=FollowUp.State.DONE, done_at__gt=F("due_at")) | Q(state=FollowUp.State.OPEN, due_at__lt=now)
    follow_ups = (
        FollowUp.objects.filter(owner_id__in=user_ids, **_in("due_at", s, e))
        .exclude(state=FollowUp.State.CANCELLED)
        .annotate(day=day("due_at"))
        .values("owner_id", "day")
        .annotate(due=Count("*"), kept=Count("id", filter=on_time), missed=Count("id", filter=missed))
    )
    for r in follow_ups:
        rows[(r["owner_id"], r["day"])].update(
            follow_ups_due=r["due"], follow_ups_kept=r["kept"], follow_ups_missed=r["missed"]
        )
    activities = (
        Activity.objects.filter(
            actor_id__in=user_ids, kind__in=LOGGABLE_KINDS, corrects__isnull=True, **_in("occurred_at", s, e)
        )
        .annotate(day=day("occurred_at"))
        .values("actor_id", "day", "kind")
        .annotate(n=Count("*"))
    )
    for r in activities:
        rows[(r["actor_id"], r["day"])][KIND_COLUMNS[r["kind"]]] = r["n"]
    won = Q(stage=Lead.Stage.WON)
    closed = (
        Lead.objects.filter(owner_id__in=user_ids, stage__in=Lead.CLOSED_STAGES, **_in("closed_at", s, e))
        .annotate(day=day("closed_at"))
        .values("owner_id", "day")
        .annotate(
            won=Count("id", filter=won),
            lost=Count("id", filter=Q(stage=Lead.Stage.LOST)),
            value_won=Coalesce(Sum("value", filter=won), Decimal("0.00")),
        )
    )
    for r in closed:
        rows[(r["owner_id"], r["day"])].update(won=r["won"], lost=r["lost"], value_won=r["value_won"])
    saved = (
        Lead.objects.filter(first_contacted_by_id__in=user_ids, **_in("first_contacted_at", s, e))
        .filter(Q(received_by__isnull=True) | ~Q(received_by_id=F("first_contacted_by_id")))
        .annotate(day=day("first_contacted_at"))
        .values("first_contacted_by_id", "day")
        .annotate(n=Count("id"))
    )
    for r in saved:
        rows[(r["first_contacted_by_id"], r["day"])]["saved"] = r["n"]
    sent = SlaNotice.objects.filter(state=SlaNotice.State.SENT, **_in("finished_at", s, e))
    breaches = (
        sent.filter(step=SlaNotice.Step.OVERDUE, recipient_id__in=user_ids)
        .annotate(day=day("finished_at"))
        .values("recipient_id", "day")
        .annotate(n=Count("id"))
    )
    for r in breaches:
        rows[(r["recipient_id"], r["day"])]["breaches"] = r["n"]
    # An escalation counts for the person the clock's overdue notice went to (the owner then),
    # not the manager it was escalated to.
    owner_then = SlaNotice.objects.filter(clock_id=OuterRef("clock_id"), step=SlaNotice.Step.OVERDUE).values(
        "recipient_id"
    )[:1]
    escalations = (
        sent.filter(step=SlaNotice.Step.ESCALATION_1)
        .annotate(rep=Subquery(owner_then), day=day("finished_at"))
        .filter(rep__in=user_ids)
        .values("rep", "day")
        .annotate(n=Count("id"))
    )
    for r in escalations:
        rows[(r["rep"], r["day"])]["escalations"] = r["n"]

    objs = []
    for user_id in user_ids:
        for d in _days(start, last):
            values = rows.get((user_id, d), {})
            objs.append(
                RepDay(
                    user_id=user_id,
                    day=d,
                    time_zone=name,
                    starts_at=_midnight(d, zone),
                    ends_at=_midnight(d + timedelta(days=1), zone),
                    computed_at=now,
                    **values,
                )
            )
    RepDay.objects.bulk_create(
        objs, batch_size=BATCH, update_conflicts=True, unique_fields=["user", "day"], update_fields=REP_FIELDS
    )
    return len(objs)


def _build_teams(team_ids, zone, name, start, last, now) -> int:
    s, e = _midnight(start, zone), _midnight(last + timedelta(days=1), zone)
    rows: dict[tuple[int, date], dict] = defaultdict(dict)
    cohort = (
        Lead.objects.filter(team_id__in=team_ids, **_in("arrived_at", s, e))
        .annotate(day=TruncDate("arrived_at", tzinfo=zone))
        .values("team_id", "day")
        .annotate(
            received=Count("*"),
            contacted=Count("first_contacted_at"),
            minutes=_minutes_agg(),
            wall_minutes=_wall_minutes_agg(),
        )
    )
    for r in cohort:
        rows[(r["team_id"], r["day"])].update(_cohort_values(r))
    won = Q(stage=Lead.Stage.WON)
    closed = (
        Lead.objects.filter(team_id__in=team_ids, stage__in=Lead.CLOSED_STAGES, **_in("closed_at", s, e))
        .annotate(day=TruncDate("closed_at", tzinfo=zone))
        .values("team_id", "day")
        .annotate(
            won=Count("id", filter=won),
            lost=Count("id", filter=Q(stage=Lead.Stage.LOST)),
            value_won=Coalesce(Sum("value", filter=won), Decimal("0.00")),
        )
    )
    for r in closed:
        rows[(r["team_id"], r["day"])].update(won=r["won"], lost=r["lost"], value_won=r["value_won"])
    objs = [
        TeamDay(
            team_id=team_id,
            day=d,
            time_zone=name,
            starts_at=_midnight(d, zone),
            ends_at=_midnight(d + timedelta(days=1), zone),
            computed_at=now,
            **rows.get((team_id, d), {}),
        )
        for team_id in team_ids
        for d in _days(start, last)
    ]
    TeamDay.objects.bulk_create(
        objs, batch_size=BATCH, update_conflicts=True, unique_fields=["team", "day"], update_fields=TEAM_FIELDS
    )
    return len(objs)


def _changed_since(since: datetime) -> date | None:
    """The earliest day whose figures may have changed since `since` (UTC date, a day early so
    it covers every zone): the days of leads updated since (arrival, first contact, close, their
    follow-ups' due times), of entries logged since, and of SLA notices sent since."""
    leads = Lead.objects.filter(updated_at__gte=since).aggregate(
        a=Min("arrived_at"), b=Min("first_contacted_at"), c=Min("closed_at")
    )
    follow_ups = FollowUp.objects.filter(
        Q(lead__updated_at__gte=since) | Q(created_at__gte=since) | Q(done_at__gte=since)
    ).aggregate(a=Min("due_at"))
    entries = Activity.objects.filter(created_at__gte=since).aggregate(a=Min("occurred_at"))
    notices = SlaNotice.objects.filter(finished_at__gte=since).aggregate(a=Min("finished_at"))
    instants = [v for v in (*leads.values(), follow_ups["a"], entries["a"], notices["a"]) if v is not None]
    if not instants:
        return None
    return min(instants).astimezone(zoneinfo.ZoneInfo("UTC")).date() - timedelta(days=1)


def rollup_refresh(*, now: datetime | None = None) -> BuildResult:
    """The nightly run: roll up the day just ended in every zone, and re-roll every closed day
    whose raw rows changed since the last run. Idempotent (an upsert of recomputed rows); the
    state row is locked for the run so two workers never build at once."""
    now = now or timezone.now()
    RollupState.objects.get_or_create(singleton=True)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(singleton=True)
        yesterday = now.astimezone(zoneinfo.ZoneInfo("UTC")).date() - timedelta(days=1)
        # A day early and late: every zone's "yesterday" lies within a day of UTC's.
        start = yesterday - timedelta(days=1)
        if state.last_run_at is None:
            start = yesterday - timedelta(days=INITIAL_DAYS)
        else:
            changed = _changed_since(state.last_run_at)
            if changed is not None:
                start = min(start, changed)
        result = rollup_build(start=start, end=yesterday + timedelta(days=1), now=now)
        # The run's start time: a change made while it ran is picked up by the next run.
        state.last_run_at = now
        state.save(update_fields=["last_run_at"])
    logger.info(
        "rollup_refresh: %s..%s, %s person-days, %s team-days", start, yesterday, result.rep_rows, result.team_rows
    )
    return result
