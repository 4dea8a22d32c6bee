"""The one door from goals to `leads.metrics` (the contract in its docstring).

Goals never compute a figure themselves: every built-in figure comes from
`metric_value` / `metric_values_by_user`, so a rep and their manager see the same number
as on every dashboard.
"""

from decimal import Decimal

from leads import metrics as _metrics
from leads.metrics import Metric

# Counts and sums are paced linearly from zero to the target; the rest are levels (leads.metrics).
CUMULATIVE = _metrics.METRIC_CUMULATIVE


def is_cumulative(metric: str) -> bool:
    return metric == "manual" or metric in CUMULATIVE


def metric_unit(metric: str) -> str:
    return _metrics.METRIC_UNITS[Metric(metric)]


def metric_direction(metric: str) -> str:
    return _metrics.METRIC_DIRECTION[Metric(metric)]


def period(start, end):
    return _metrics.Period(start, end)


def last_days(n: int, *, tz):
    return _metrics.Period.last_days(n, tz=tz)


def value_for_user(metric: str, *, period, user) -> Decimal | None:
    return _metrics.metric_value(Metric(metric), period=period, user=user)


def value_for_team(metric: str, *, period, team) -> Decimal | None:
    return _metrics.metric_value(Metric(metric), period=period, team=team)


def values_by_user(metric: str, *, period, users) -> dict[int, Decimal | None]:
    return _metrics.metric_values_by_user(Metric(metric), period=period, users=users)
