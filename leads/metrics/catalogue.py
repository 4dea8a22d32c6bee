"""The metric catalogue (names, units, directions) and the Scorecard every page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import models


class Metric(models.TextChoices):
    LEADS_RECEIVED = "leads_received", "Leads received"
    LEADS_CONTACTED = "leads_contacted", "Leads contacted"
    SPEED_TO_LEAD_MEDIAN = "speed_to_lead_median", "Speed to lead (median minutes)"
    SPEED_TO_LEAD_P90 = "speed_to_lead_p90", "Speed to lead (90th percentile minutes)"
    FOLLOW_UP_COMPLIANCE = "follow_up_compliance", "Follow-up compliance (%)"
    ACTIVITIES = "activities", "Activities logged"
    CALLS = "calls", "Calls"
    EMAILS = "emails", "Emails"
    MEETINGS = "meetings", "Meetings"
    CONVERSION_RATE = "conversion_rate", "Conversion rate (%)"
    DEALS_WON = "deals_won", "Deals won"
    VALUE_WON = "value_won", "Value won"
    NEGLECTED = "neglected", "Neglected leads"


METRIC_UNITS: dict[Metric, str] = {
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

METRIC_DIRECTION: dict[Metric, str] = dict.fromkeys(Metric, "up")
METRIC_DIRECTION.update(
    {Metric.SPEED_TO_LEAD_MEDIAN: "down", Metric.SPEED_TO_LEAD_P90: "down", Metric.NEGLECTED: "down"}
)

# Figures that accumulate over a period (counts and sums): pacing expects them to grow linearly
# from zero to the target. The others (rates, medians, current counts such as neglected leads)
# are levels, expected at the target all along. Goals and KPIs read this one list.
METRIC_CUMULATIVE = frozenset(
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


ONE_DECIMAL = Decimal("0.1")


def _round(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


LOGGABLE_KINDS = ("call", "email", "meeting", "sms", "note")


@dataclass
class Scorecard:
    """Every dashboard figure for one rep, a team or everyone over one period."""

    leads_received: int = 0
    leads_contacted: int = 0
    speed_to_lead_median: Decimal | None = None  # business minutes (the team's hours), judged against the SLA
    speed_to_lead_p90: Decimal | None = None  # business minutes
    speed_to_lead_wall_median: Decimal | None = None  # wall-clock minutes, shown beside the business figure
    speed_to_lead_wall_p90: Decimal | None = None  # wall-clock minutes
    follow_ups_on_time: int = 0
    follow_ups_missed: int = 0
    activities_by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOGGABLE_KINDS, 0))
    deals_won: int = 0
    deals_lost: int = 0
    value_won: Decimal = Decimal("0.00")
    neglected: int = 0
    saved: int = 0

    @property
    def follow_ups_decided(self) -> int:
        return self.follow_ups_on_time + self.follow_ups_missed

    @property
    def follow_up_compliance(self) -> Decimal | None:
        return _percent(self.follow_ups_on_time, self.follow_ups_decided)

    @property
    def activities(self) -> int:
        return sum(self.activities_by_kind.values())

    @property
    def deals_closed(self) -> int:
        return self.deals_won + self.deals_lost

    @property
    def conversion_rate(self) -> Decimal | None:
        return _percent(self.deals_won, self.deals_closed)

    @property
    def never_contacted(self) -> int:
        return self.leads_received - self.leads_contacted

    def value(self, metric: Metric | str) -> Decimal | None:
        # Only the figure asked for (a dashboard asks 500 cells x 8 trend buckets of them).
        getter = _FIGURE_OF.get(metric) or _FIGURE_OF[Metric(metric)]  # Metric(): ValueError if unknown
        figure = getter(self)
        return None if figure is None else Decimal(figure)


_FIGURE_OF = {
    Metric.LEADS_RECEIVED: lambda c: c.leads_received,
    Metric.LEADS_CONTACTED: lambda c: c.leads_contacted,
    Metric.SPEED_TO_LEAD_MEDIAN: lambda c: c.speed_to_lead_median,
    Metric.SPEED_TO_LEAD_P90: lambda c: c.speed_to_lead_p90,
    Metric.FOLLOW_UP_COMPLIANCE: lambda c: c.follow_up_compliance,
    Metric.ACTIVITIES: lambda c: c.activities,
    Metric.CALLS: lambda c: c.activities_by_kind["call"],
    Metric.EMAILS: lambda c: c.activities_by_kind["email"],
    Metric.MEETINGS: lambda c: c.activities_by_kind["meeting"],
    Metric.CONVERSION_RATE: lambda c: c.conversion_rate,
    Metric.DEALS_WON: lambda c: c.deals_won,
    Metric.VALUE_WON: lambda c: c.value_won,
    Metric.NEGLECTED: lambda c: c.neglected,
}
