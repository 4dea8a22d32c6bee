"""Live progress and pacing of goals. Reads only: the same figures for a rep and their manager.

The pacing rule (expected figure by now, thresholds, "just started", met or missed, exact values
rounded only for display) is accountability.pacing's, shared with the KPIs of the scorecard.
A goal's period is cut in its people's zone (`goal_zone`): the same days as their dashboard.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accountability import pacing as _pacing
from accountability.models import Membership
from accountability.pacing import VERDICT_CSS, Thresholds
from accountability.scoping import descendant_team_ids
from accountability.timezones import figures_time_zone, figures_time_zones, site_time_zone
from goals import metric_source
from goals.models import CheckIn, Goal, GoalSettings, GoalSnapshot, Pacing

HUNDRED = Decimal(100)
__all__ = [
    "Progress",
    "Thresholds",
    "elapsed_fraction",
    "goal_bounds",
    "goal_zone",
    "goals_progress",
    "pace",
    "thresholds_get",
]


def thresholds_get() -> Thresholds:
    """The admin's pacing thresholds (one query); the defaults until an admin saves some."""
    row = GoalSettings.objects.filter(pk=1).first()
    if row is None:
        return Thresholds()
    return Thresholds(at_risk_below=row.at_risk_below, behind_below=row.behind_below)


@dataclass(frozen=True)
class Progress:
    actual: Decimal | None
    expected: Decimal  # what the figure should be by now
    ratio: Decimal | None  # % of expected (inverted for "at most"); None when it cannot be read
    state: str  # a Pacing value
    fraction: Decimal  # share of the period elapsed, 0..1
    achieved: int = 0  # how far towards the target, 0..100 (for the progress bar)
    expected_share: int = 0  # where the figure should be by now on that bar, 0..100

    @property
    def state_label(self) -> str:
        return Pacing(self.state).label

    @property
    def css(self) -> str:
        return VERDICT_CSS.get(self.state, "secondary")

    @property
    def elapsed_percent(self) -> int:
        return int((self.fraction * HUNDRED).quantize(Decimal(1)))


_ZONE_ATTR = "_figures_zone"


def goal_zones(goals: Iterable[Goal]) -> None:
    """Find the zone each goal's period is cut in, kept on the goal: a team goal's team's zone, a
    rep's goal their figures zone (their team's, as on their dashboard), whoever reads it. One
    query for all the reps' goals; none for team goals whose team is loaded."""
    goals = [g for g in goals if not hasattr(g, _ZONE_ATTR)]
    owners = figures_time_zones({g.owner_id for g in goals if not g.team_id and g.owner_id})
    for goal in goals:
        zone = figures_time_zone(None, goal.team) if goal.team_id else owners.get(goal.owner_id)
        setattr(goal, _ZONE_ATTR, zone or site_time_zone())


def goal_zone(goal: Goal) -> zoneinfo.ZoneInfo:
    goal_zones([goal])
    return getattr(goal, _ZONE_ATTR)


def goal_bounds(goal: Goal) -> tuple[dt.datetime, dt.datetime]:
    """The goal's period as aware datetimes, half-open: its start date to the day after its end
    date, in the goal's zone (`goal_zone`), so a goal's month is its dashboard's month."""
    tz = goal_zone(goal)
    start = dt.datetime.combine(goal.start_date, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(goal.end_date + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def elapsed_fraction(goal: Goal, now: dt.datetime) -> Fraction:
    return _pacing.elapsed(*goal_bounds(goal), now)


def _achieved(actual: Decimal | None, target: Decimal, up: bool) -> int:
    if actual is None or target <= 0:
        return 0
    share = actual / target if up else target / max(actual, target)  # "at most": full while within the target
    return int(min(share, Decimal(1)) * HUNDRED)


def pace(
    *,
    actual: Decimal | None,
    target: Decimal,
    direction: str,
    cumulative: bool,
    fraction: Fraction | Decimal,
    thresholds: Thresholds,
) -> Progress:
    """Pacing of one figure: accountability.pacing's verdict, with the progress bar's shares."""
    target = Decimal(target)
    up = _pacing.higher_is_better(direction)
    verdict = _pacing.pace(
        actual=actual, target=target, up=up, cumulative=cumulative, fraction=fraction, thresholds=thresholds
    )
    return Progress(
        actual=actual,
        expected=verdict.expected,
        ratio=verdict.ratio,
        state=verdict.state,
        fraction=verdict.fraction,
        achieved=_achieved(actual, target, up),
        expected_share=_achieved(verdict.expected, target, up) if up else 100,
    )


def _live_period(goal: Goal, now: dt.datetime):
    start, end = goal_bounds(goal)
    return metric_source.period(start, min(now, end))


def actual_values(goals: Iterable[Goal], *, now: dt.datetime) -> dict[int, Decimal | None]:
    """Each goal's figure so far. Queries: one for all manual goals, one batch per distinct
    (metric, period) among rep goals (a board of reps sharing the same goals is constant),
    one figure per team goal."""
    goals = list(goals)
    values: dict[int, Decimal | None] = {}
    manual_ids = [g.pk for g in goals if g.is_manual]
    if manual_ids:
        # The latest check-in of each goal as a correlated subquery: portable (SQLite and
        # PostgreSQL alike, unlike DISTINCT ON) and still one query for all manual goals.
        latest = CheckIn.objects.filter(goal_id=OuterRef("pk")).order_by("-created_at", "-id").values("value")[:1]
        values.update(
            Goal.objects.filter(pk__in=manual_ids).annotate(latest=Subquery(latest)).values_list("pk", "latest")
        )
    batches: dict[tuple, list[Goal]] = defaultdict(list)
    for goal in goals:
        if goal.is_manual:
            values.setdefault(goal.pk, None)
            continue
        start, end = goal_bounds(goal)
        if now <= start:
            values[goal.pk] = None
            continue
        if goal.team_id:
            values[goal.pk] = metric_source.value_for_team(goal.metric, period=_live_period(goal, now), team=goal.team)
        else:
            batches[(goal.metric, start, min(now, end))].append(goal)
    for (metric, start, end), batch in batches.items():
        by_user = metric_source.values_by_user(
            metric, period=metric_source.period(start, end), users=[g.owner for g in batch]
        )
        for goal in batch:
            values[goal.pk] = by_user.get(goal.owner_id)
    return values


def progress_of(goal: Goal, actual: Decimal | None, *, now: dt.datetime, thresholds: Thresholds) -> Progress:
    return pace(
        actual=actual,
        target=goal.target,
        direction=goal.direction,
        cumulative=metric_source.is_cumulative(goal.metric),
        fraction=elapsed_fraction(goal, now),
        thresholds=thresholds,
    )


def goals_progress(
    goals: Iterable[Goal], *, now: dt.datetime | None = None, thresholds: Thresholds | None = None
) -> dict[int, Progress]:
    goals = list(goals)
    if not goals:
        return {}
    now = now or timezone.now()
    thresholds = thresholds or thresholds_get()
    goal_zones(goals)
    values = actual_values(goals, now=now)
    return {g.pk: progress_of(g, values.get(g.pk), now=now, thresholds=thresholds) for g in goals}


@dataclass(frozen=True)
class Contribution:
    user: object
    value: Decimal | None
    share: Decimal | None  # % of the team's figure, for cumulative metrics


def team_contributions(goal: Goal, *, actual: Decimal | None, now: dt.datetime | None = None) -> list[Contribution]:
    """Each member's figure towards a team goal (members of the team and its sub-teams)."""
    if not goal.team_id or goal.is_manual:
        return []
    now = now or timezone.now()
    team_ids = descendant_team_ids([goal.team_id])
    members = [
        m.user
        for m in Membership.objects.filter(team_id__in=team_ids, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    ]
    seen: set[int] = set()
    members = [u for u in members if not (u.pk in seen or seen.add(u.pk))]
    start, end = goal_bounds(goal)
    if not members or now <= start:
        return [Contribution(u, None, None) for u in members]
    by_user = metric_source.values_by_user(
        goal.metric, period=metric_source.period(start, min(now, end)), users=members
    )
    cumulative = metric_source.is_cumulative(goal.metric)
    out = []
    for user in members:
        value = by_user.get(user.pk)
        share = None
        if cumulative and value is not None and actual:
            share = (value / actual * HUNDRED).quantize(Decimal("0.1"))
        out.append(Contribution(user, value, share))
    out.sort(key=lambda c: (c.value is None, -(c.value or 0)))
    return out


def goal_chart(goal: Goal, progress, now: dt.datetime) -> dict:
    """One point per day of the period: the day's closing figure (daily snapshots; for a manual
    goal its last check-in of the day, carried forward), today's live figure, and the figure
    expected by the end of each day. Passed to Chart.js with json_script."""
    cumulative = metric_source.is_cumulative(goal.metric)
    zone = goal_zone(goal)  # the goal's days, not the reader's (known already: no query)
    today = timezone.localdate(now, zone)
    days = [goal.start_date + dt.timedelta(days=i) for i in range((goal.end_date - goal.start_date).days + 1)]
    known: dict[dt.date, Decimal | None] = {}
    if goal.is_manual:
        for created_at, value in goal.check_ins.order_by("created_at", "id").values_list("created_at", "value"):
            known[timezone.localdate(created_at, zone)] = value
    else:
        known.update(GoalSnapshot.objects.filter(goal=goal).values_list("date", "value"))
    if goal.start_date <= today <= goal.end_date:
        known[today] = progress.actual
    actual: list[float | None] = []
    last = None
    for day in days:
        if day > today:
            actual.append(None)
            continue
        if day in known:
            last = known[day]
        elif not goal.is_manual:
            last = None  # no snapshot that day: a gap, not a guess
        actual.append(None if last is None else float(last))
    total = len(days)
    return {
        "labels": [d.isoformat() for d in days],
        "actual": actual,
        # The line pacing expects: the figure due by the end of each day (accountability.pacing).
        "expected": [
            float(_pacing.expected(Decimal(goal.target), cumulative=cumulative, fraction=Fraction(i + 1, total)))
            for i in range(total)
        ],
        "target": float(goal.target),
        "unit": goal.unit,
    }
