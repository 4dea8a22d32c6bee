"""KPIs tied to the numbers: each rep against the current KPIs, and the SLA binding.

Figures come from `leads.metrics` (the one metrics module every page uses); response-time
KPIs bound to the SLA take their target from the SLA policy book (`leads.sla.selectors`), loaded
once per page on first use.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.utils import timezone

from accountability import pacing
from accountability.expectations.models import DocumentVersion, Kpi
from accountability.expectations.targets import (  # noqa: F401 - the KPI readers find them here too
    SlaBinding,
    effective_target,
    kpi_target,
    sla_available,
    sla_binding,
)
from accountability.models import Team, User
from accountability.timezones import figures_time_zones
from leads import metrics
from leads.metrics.catalogue import METRIC_CUMULATIVE


# --- Periods ---------------------------------------------------------------------------------
def period_bounds(period: str, now: datetime | None = None, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The calendar week (from Monday), month or quarter containing `now`, in `tz` (a person's
    figures zone, see leads.metrics; the current zone when not given)."""
    tz = tz or timezone.get_current_timezone()
    now = timezone.localtime(now or timezone.now(), tz)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Kpi.Cadence.WEEK:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == Kpi.Cadence.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        start = day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
        end = start
        for _ in range(3):
            end = (end + timedelta(days=32)).replace(day=1)
    # Re-localise: the offset may differ across a daylight-saving change inside the period.
    return (
        timezone.make_aware(start.replace(tzinfo=None), tz),
        timezone.make_aware(end.replace(tzinfo=None), tz),
    )


def _metrics():
    return metrics


def metrics_available() -> bool:
    return _metrics() is not None


# --- Scorecard -------------------------------------------------------------------------------
@dataclass
class KpiColumn:
    kpi: Kpi
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        """The period's first day in its own zone (a date: the reader's zone does not move it)."""
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The last day inside the half-open period, for display ("23 Nov to 29 Nov")."""
        return (self.end - timedelta(days=1)).date()


@dataclass
class ScoreCell:
    value: Decimal | None
    target: Decimal
    verdict: pacing.Verdict
    binding: SlaBinding | None = None
    start: datetime | None = None  # this person's period (cut in their figures zone)
    end: datetime | None = None
    cumulative: bool = False
    own_period: bool = False  # this person's period is not the column's (another zone, across midnight)

    @property
    def met(self) -> bool | None:
        """The final verdict, once decided: the period is over, or a count already reached its target."""
        return {pacing.Pacing.MET: True, pacing.Pacing.MISSED: False}.get(self.verdict.state)

    @property
    def state_label(self) -> str:
        return "Not met" if self.verdict.state == pacing.Pacing.MISSED else pacing.Pacing(self.verdict.state).label

    @property
    def css(self) -> str:
        return pacing.VERDICT_CSS.get(self.verdict.state, "")

    @property
    def first_day(self) -> date | None:
        return None if self.start is None else self.start.date()

    @property
    def last_day(self) -> date | None:
        return None if self.end is None else (self.end - timedelta(days=1)).date()


@dataclass
class ScoreRow:
    user: User
    team: Team | None
    cells: list[ScoreCell] = field(default_factory=list)


@dataclass
class Scorecard:
    version: DocumentVersion
    columns: list[KpiColumn]
    rows: list[ScoreRow]


def kpi_verdict(kpi: Kpi, value: Decimal | None, target: Decimal, start: datetime, end: datetime, now: datetime):
    """A KPI's pacing in its period so far: goals' rule (accountability.pacing), the same words."""
    return pacing.pace(
        actual=value,
        target=target,
        up=pacing.higher_is_better(kpi.direction),
        cumulative=kpi.metric in METRIC_CUMULATIVE,
        fraction=pacing.elapsed(start, end, now),
        thresholds=pacing.Thresholds(),
    )


def scorecards(
    versions: list[DocumentVersion], people: list[tuple[User, Team | None, set[int]]], now=None
) -> list[Scorecard]:
    """Each person against the KPIs of every current version that covers them.

    `people` is (user, primary team, ids of the current versions that cover them). Each person's
    periods ("this week") are cut in their figures zone (their team's, leads.metrics), whoever reads
    the page and from wherever. One metrics call per distinct (metric, period), so the page's
    queries grow with the number of distinct zones, not with the number of people.
    """
    now = now or timezone.now()
    metrics = _metrics()
    zones = figures_time_zones([user for user, _, covering in people if covering])
    values: dict[tuple, dict] = {}
    sla_cache: dict = {}
    cards = []
    for version in versions:
        kpis = list(version.kpis.all())
        if not kpis:
            continue
        covered = [(user, team) for user, team, covering in people if version.pk in covering]
        if not covered:
            continue
        bounds = {
            (kpi.pk, user.pk): period_bounds(kpi.period, now, zones.get(user.pk)) for kpi in kpis for user, _ in covered
        }
        first = covered[0][0]
        columns = [KpiColumn(kpi, *bounds[(kpi.pk, first.pk)]) for kpi in kpis]
        if metrics is not None:
            wanted: dict[tuple, list[User]] = {}
            for kpi in kpis:
                for user, _ in covered:
                    key = (kpi.metric, *bounds[(kpi.pk, user.pk)])
                    if user.pk not in values.get(key, {}):
                        wanted.setdefault(key, []).append(user)
            for key, users in wanted.items():
                metric, start, end = key
                period = metrics.Period(start, end)
                values.setdefault(key, {}).update(metrics.metric_values_by_user(metric, period=period, users=users))
        rows = []
        for user, team in covered:
            row = ScoreRow(user=user, team=team)
            for kpi in kpis:
                binding = sla_binding(team, sla_cache) if kpi.bind_to_sla else None
                target = kpi_target(kpi, team, sla_cache)
                start, end = bounds[(kpi.pk, user.pk)]
                value = values.get((kpi.metric, start, end), {}).get(user.pk)
                row.cells.append(
                    ScoreCell(
                        value=value,
                        target=target,
                        verdict=kpi_verdict(kpi, value, target, start, end, now),
                        binding=binding,
                        start=start,
                        end=end,
                        cumulative=kpi.metric in METRIC_CUMULATIVE,
                        own_period=(start, end) != bounds[(kpi.pk, first.pk)],
                    )
                )
            rows.append(row)
        cards.append(Scorecard(version=version, columns=columns, rows=rows))
    return cards
