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


# TEMPORARY until the metrics work lands on main: same values as the contract.
_UNITS = {
    Metric.LEADS_RECEIVED: "leads",
    Metric.LEADS_CONTACTED: "leads",
    Metric.SPEED_TO_LEAD_MEDIAN: "minutes",
    Metric.SPEED_TO_LEAD_P90: "minutes",
    Metric.FOLLOW_UP_COMPLIANCE: "%",
    Metric.ACTIVITIES: "activities",
    Metric.CALLS: "activities",
    Metric.EMAILS: "activities",
    Metric.MEETINGS: "activities",
    Metric.CONVERSION_RATE: "%",
    Metric.DEALS_WON: "deals",
    Metric.VALUE_WON: "currency",
    Metric.NEGLECTED: "leads",
}
_DOWN = {Metric.SPEED_TO_LEAD_MEDIAN, Metric.SPEED_TO_LEAD_P90, Metric.NEGLECTED}


def metric_unit(metric: str) -> str:
    units = getattr(_metrics, "METRIC_UNITS", _UNITS)
    return units[Metric(metric)]


def metric_direction(metric: str) -> str:
    directions = getattr(_metrics, "METRIC_DIRECTION", None)
    if directions is None:
        return "down" if metric in _DOWN else "up"
    return directions[Metric(metric)]


def period(start, end):
    return _metrics.Period(start, end)


def value_for_user(metric: str, *, period, user) -> Decimal | None:
    return _metrics.metric_value(Metric(metric), period=period, user=user)


def value_for_team(metric: str, *, period, team) -> Decimal | None:
    return _metrics.metric_value(Metric(metric), period=period, team=team)


def values_by_user(metric: str, *, period, users) -> dict[int, Decimal | None]:
    return _metrics.metric_values_by_user(Metric(metric), period=period, users=users)
