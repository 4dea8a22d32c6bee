"""Live progress and pacing of goals. Reads only: the same figures for a rep and their manager.

Pacing compares the actual figure with what is expected by now:
- cumulative metrics (counts and sums, and manual metrics) are expected to grow linearly
  from zero at the start to the target at the end;
- level metrics (rates, medians, current counts) are expected to sit at the target all along.
The ratio actual/expected (for "at least") or expected/actual (for "at most", so that a
smaller figure is better) is read against the admin's thresholds: at or above "at risk
below" is on track, at or above "behind below" is at risk, anything lower is behind.
Once the period has ended the goal is met or missed; a cumulative "at least" goal is
met as soon as its figure reaches the target.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accountability.models import Membership
from accountability.scoping import descendant_team_ids
from goals import metric_source
from goals.models import CheckIn, Direction, Goal, GoalSettings, Pacing

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Thresholds:
    at_risk_below: Decimal = Decimal(90)
    behind_below: Decimal = Decimal(70)


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
        return {
            Pacing.ON_TRACK: "success",
            Pacing.MET: "success",
            Pacing.AT_RISK: "warning",
            Pacing.BEHIND: "danger",
            Pacing.MISSED: "danger",
        }.get(self.state, "secondary")

    @property
    def elapsed_percent(self) -> int:
        return int((self.fraction * HUNDRED).quantize(Decimal(1)))


def goal_bounds(goal: Goal) -> tuple[dt.datetime, dt.datetime]:
    """The goal's period as aware datetimes, half-open: its start date to the day after its end date."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(goal.start_date, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(goal.end_date + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def elapsed_fraction(goal: Goal, now: dt.datetime) -> Decimal:
    start, end = goal_bounds(goal)
    if now <= start:
        return Decimal(0)
    if now >= end:
        return Decimal(1)
    return Decimal((now - start).total_seconds()) / Decimal((end - start).total_seconds())


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
    fraction: Decimal,
    thresholds: Thresholds,
) -> Progress:
    """Pacing of one figure (pure: the hand-computed tests exercise it directly)."""
    target = Decimal(target)
    progress = _pace(
        actual=actual,
        target=target,
        direction=direction,
        cumulative=cumulative,
        fraction=fraction,
        thresholds=thresholds,
    )
    up = direction == Direction.AT_LEAST
    return replace(
        progress,
        achieved=_achieved(actual, target, up),
        expected_share=_achieved(progress.expected, target, up) if up else 100,
    )


def _pace(*, actual, target, direction, cumulative, fraction, thresholds) -> Progress:
    expected = (target * fraction) if cumulative else target
    expected = expected.quantize(Decimal("0.01"))
    up = direction == Direction.AT_LEAST
    if fraction >= 1:
        if actual is None:
            return Progress(actual, expected, None, Pacing.MISSED, fraction)
        met = actual >= target if up else actual <= target
        return Progress(actual, expected, None, Pacing.MET if met else Pacing.MISSED, fraction)
    if fraction <= 0:
        return Progress(actual, expected, None, Pacing.ON_TRACK, fraction)
    if actual is None:
        return Progress(actual, expected, None, Pacing.NO_DATA, fraction)
    if up:
        if cumulative and actual >= target:
            return Progress(actual, expected, None, Pacing.MET, fraction)
        ratio = None if expected == 0 else actual / expected * HUNDRED
    else:
        # "At most": a smaller figure is better, so the ratio is inverted; nothing at all is perfect.
        ratio = None if actual == 0 else expected / actual * HUNDRED
    if ratio is None or ratio >= thresholds.at_risk_below:
        state = Pacing.ON_TRACK
    elif ratio >= thresholds.behind_below:
        state = Pacing.AT_RISK
    else:
        state = Pacing.BEHIND
    if ratio is not None:
        ratio = ratio.quantize(Decimal("0.1"))
    return Progress(actual, expected, ratio, state, fraction)


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
