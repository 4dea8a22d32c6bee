"""The one door from goals to `leads.metrics` (the contract in its docstring).

Goals never compute a figure themselves: every built-in figure comes from
`metric_value` / `metric_values_by_user`, so a rep and their manager see the same number
as on every dashboard.
"""

from decimal import Decimal

from leads import metrics as _metrics
from leads.metrics import Metric

# Metrics whose figure accumulates over the period (a count or a sum): their expected
# value grows linearly from zero to the target. The others (rates, medians, current
# levels such as neglected leads) are levels: expected to sit at the target all along.
CUMULATIVE = frozenset(
    {
        Metric.LEADS_RECEIVED,
        Metric.LEADS_CONTACTED,
        Metric.ACTIVITIES,
        Metric.CALLS,
        Metric.EMAILS,
        Metric.MEETINGS,
        Metric.DEALS_WON,
        Metric.VALUE_WON,
    }
)


def is_cumulative(metric: str) -> bool:
    return metric == "manual" or metric in CUMULATIVE


def metric_unit(metric: str) -> str:
    return _metrics.METRIC_UNITS[Metric(metric)]


def metric_direction(metric: str) -> str:
    return _metrics.METRIC_DIRECTION[Metric(metric)]


def period(start, end):
    return _metrics.Period(start, end)


def value_for_user(metric: str, *, period, user) -> Decimal | None:
    return _metrics.metric_value(Metric(metric), period=period, user=user)


def value_for_team(metric: str, *, period, team) -> Decimal | None:
    return _metrics.metric_value(Metric(metric), period=period, team=team)


def values_by_user(metric: str, *, period, users) -> dict[int, Decimal | None]:
    return _metrics.metric_values_by_user(Metric(metric), period=period, users=users)
