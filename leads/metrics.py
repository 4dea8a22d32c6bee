"""The accountability metrics: one module every page, goal and review uses.

CONTRACT (implemented by the metrics work; other apps code against these names):

    Period(start: datetime, end: datetime)        half-open [start, end), aware datetimes
    Period.last_days(n), Period.month_of(date), Period.between(date_from, date_to, tz)

    class Metric(TextChoices)                    the metric catalogue below; each has a unit
    METRIC_UNITS[Metric] -> str                  "leads", "minutes", "%", "activities", "deals", "currency"
    METRIC_DIRECTION[Metric] -> "up" | "down"    which way is better (speed to lead: down)

    metric_value(metric, *, period, user=None, team=None) -> Decimal | None
        One figure for one rep (user), one team (team, including sub-teams), or everyone
        (neither). None when it is undefined (for example speed to lead with no contacted lead).

    metric_values_by_user(metric, *, period, users) -> dict[user_id, Decimal | None]
        The same figure for many reps in a constant number of queries (boards, dashboards).

    rep_scorecards(*, period, users) -> dict[user_id, Scorecard]
        Every dashboard figure per rep, in a constant number of queries.
"""

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
