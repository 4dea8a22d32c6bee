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

    total_scorecard(*, period, team=None) -> Scorecard
        The same figures for a team (with its sub-teams) or, with no team, everyone.

    team_scorecards(*, period, team_ids, users) -> (dict[user_id, Scorecard], Scorecard)
        A team dashboard (rows of its members and the team total) in 7 queries.

    neglect_condition(now=None, *, untouched_hours=None, silent_days=None) -> Q
        The filter "this lead is neglected" on Lead, for the neglected report and counts.

ATTRIBUTION RULES (how each figure is decided; every figure can be explained down to rows):

- Cohort. Lead figures (received, contacted, speed to lead) are about the leads that
  *arrived* in the period (`Lead.arrived_at` in [start, end)).
- Received. A lead counts as received by the rep of its *initial assignment*: an `assigned`
  timeline entry whose `data["from_owner"]` is empty (from intake or the unassigned queue to a
  rep; leads.services writes one on every assignment with {"from_owner", "to_owner", "reason"}).
  A later reassignment (from_owner set) does not move the lead out of the first rep's figures:
  the rep it was given to stays accountable for how fast it was contacted. Team and everyone
  totals count each lead of the team once, including leads still in the unassigned queue, so a
  team total can exceed the sum of its reps.
- Contacted / speed to lead. A lead is contacted once `first_contacted_at` is set (a call, email,
  meeting or SMS; a note is not a contact), by anyone. Speed to lead = first_contacted_at -
  arrived_at, in minutes; median and 90th percentile are `percentile_cont` (linear
  interpolation) over the contacted leads of the cohort. Never-contacted leads are not in the
  percentiles; they show as received minus contacted and as neglected.
- Saved leads. A rep saves a lead when they make its first contact (`first_contacted_by`, at a
  time in the period) without having received it (no initial assignment to them): a teammate
  who rescues a neglected lead, or the rep it was reassigned to. The saver keeps that credit
  even though the lead stays in the first rep's received figures.
- Wins. Deals won, value won and conversion count for the lead's owner at close
  (`Lead.owner`), for leads closed (`closed_at`) in the period. Conversion rate = won / closed
  (won + lost) x 100: judged on decided leads only, so an open pipeline neither helps nor hurts;
  undefined (None) with no closed lead.
- Follow-up compliance. FollowUp rows of the rep (`FollowUp.owner`) *due* in the period, cancelled
  ones excluded: on time = done with done_at <= due_at; missed = done late, or still open and
  past due now. Open rows not yet due are not decided yet and are left out. Compliance = on time
  / (on time + missed) x 100; None with nothing decided.
- Activities. Entries the rep logged themselves (`actor`), of the loggable kinds (call, email,
  meeting, sms, note), occurring in the period; an entry that corrects an earlier one is not
  counted again. Team totals count the entries of the team's members (sub-teams included), so
  they are the sum of the rep rows; everyone's total counts every entry made by a person.
- Neglected. A current-state count (it ignores the period): open leads that are never contacted
  more than NEGLECT_UNTOUCHED_HOURS (default 24) after arrival, or whose follow-up is overdue
  (`next_follow_up_at` before now), or silent: no activity for NEGLECT_SILENT_DAYS (default 7)
  days (`last_activity_at`, or arrival when there is none). Override the defaults with the
  settings LEADS_NEGLECT_UNTOUCHED_HOURS and LEADS_NEGLECT_SILENT_DAYS. For a rep: the leads
  they own now; for a team: every open lead of the team, queue included.

Rounding: minutes and percentages are Decimals rounded to one decimal place; counts are whole.

Queries: every function runs a constant number of SQL aggregate queries, whatever the number of
users or rows (rep_scorecards: 6). On PostgreSQL the percentiles are computed in the database
with percentile_cont. SQLite (the laptop default of `make run`) has no percentile_cont: there,
and only for the two percentiles, the ordered minute values are fetched in one query and
interpolated in Python with the same formula. Everything else is the same SQL on both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, models
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone


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

NEGLECT_UNTOUCHED_HOURS = 24
NEGLECT_SILENT_DAYS = 7

ONE_DECIMAL = Decimal("0.1")


# --- Periods ---------------------------------------------------------------------------------


def _tz(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return timezone.get_current_timezone()
    if isinstance(tz, str):
        return ZoneInfo(tz or settings.TIME_ZONE)
    return tz


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self):
        if timezone.is_naive(self.start) or timezone.is_naive(self.end):
            raise ValueError("Period needs aware datetimes.")
        if self.end < self.start:
            raise ValueError("Period ends before it starts.")

    @classmethod
    def last_days(cls, n: int, *, tz: tzinfo | str | None = None, now: datetime | None = None) -> Period:
        """Today and the n-1 days before it, whole days in `tz` (today included, up to midnight)."""
        if n < 1:
            raise ValueError("n must be at least 1.")
        zone = _tz(tz)
        today = (now or timezone.now()).astimezone(zone).date()
        return cls(_midnight(today - timedelta(days=n - 1), zone), _midnight(today + timedelta(days=1), zone))

    @classmethod
    def month_of(cls, day: date, *, tz: tzinfo | str | None = None) -> Period:
        """The calendar month containing `day`, in `tz`."""
        zone = _tz(tz)
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(_midnight(first, zone), _midnight(following, zone))

    @classmethod
    def between(cls, date_from: date, date_to: date, tz: tzinfo | str | None = None) -> Period:
        """From the start of `date_from` to the end of `date_to` (both days included), in `tz`."""
        if date_to < date_from:
            raise ValueError("The end date is before the start date.")
        zone = _tz(tz)
        return cls(_midnight(date_from, zone), _midnight(date_to + timedelta(days=1), zone))

    @property
    def q_range(self) -> tuple[datetime, datetime]:
        return self.start, self.end

    def filter(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})

    def __str__(self) -> str:
        last = (self.end - timedelta(microseconds=1)).astimezone(self.start.tzinfo)
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"


# --- The scorecard ---------------------------------------------------------------------------


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
    speed_to_lead_median: Decimal | None = None  # minutes
    speed_to_lead_p90: Decimal | None = None  # minutes
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
        metric = Metric(metric)
        figure = {
            Metric.LEADS_RECEIVED: self.leads_received,
            Metric.LEADS_CONTACTED: self.leads_contacted,
            Metric.SPEED_TO_LEAD_MEDIAN: self.speed_to_lead_median,
            Metric.SPEED_TO_LEAD_P90: self.speed_to_lead_p90,
            Metric.FOLLOW_UP_COMPLIANCE: self.follow_up_compliance,
            Metric.ACTIVITIES: self.activities,
            Metric.CALLS: self.activities_by_kind["call"],
            Metric.EMAILS: self.activities_by_kind["email"],
            Metric.MEETINGS: self.activities_by_kind["meeting"],
            Metric.CONVERSION_RATE: self.conversion_rate,
            Metric.DEALS_WON: self.deals_won,
            Metric.VALUE_WON: self.value_won,
            Metric.NEGLECTED: self.neglected,
        }[metric]
        return None if figure is None else Decimal(figure)


# --- SQL building blocks -----------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: percentile_cont(f) WITHIN GROUP (ORDER BY expr)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= float(fraction) <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class EpochMinutes(Func):
    """Minutes between two timestamps (PostgreSQL): EXTRACT(EPOCH FROM later - earlier) / 60."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)"
    arg_joiner = " - "
    output_field = FloatField()


def _percentiles_in_sql() -> bool:
    return connection.vendor == "postgresql"


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """percentile_cont's linear interpolation, for databases without it (SQLite)."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _initial_assignments():
    """`assigned` entries that gave a lead to its first rep (from intake or the queue)."""
    from leads.models import Activity

    return (
        Activity.objects.filter(kind=Activity.Kind.ASSIGNED)
        # from_owner is JSON null (what leads.services writes) or missing.
        .filter(Q(data__from_owner=None) | Q(data__from_owner__isnull=True))
        .annotate(to_owner_id=Cast(KeyTextTransform("to_owner", "data"), models.IntegerField()))
    )


def neglect_condition(
    now: datetime | None = None, *, untouched_hours: int | None = None, silent_days: int | None = None, prefix=""
) -> Q:
    """Lead filter: open and (never contacted after N hours, or follow-up overdue, or silent D days)."""
    from leads.models import Lead

    now = now or timezone.now()
    hours = untouched_hours if untouched_hours is not None else neglect_untouched_hours()
    days = silent_days if silent_days is not None else neglect_silent_days()
    p = prefix
    return Q(**{f"{p}stage__in": Lead.OPEN_STAGES}) & (
        untouched_q(now, hours, prefix=p) | overdue_q(now, prefix=p) | silent_q(now, days, prefix=p)
    )


def untouched_q(now: datetime, hours: int, prefix="") -> Q:
    return Q(**{f"{prefix}first_contacted_at__isnull": True, f"{prefix}arrived_at__lt": now - timedelta(hours=hours)})


def overdue_q(now: datetime, prefix="") -> Q:
    return Q(**{f"{prefix}next_follow_up_at__lt": now})


def silent_q(now: datetime, days: int, prefix="") -> Q:
    cutoff = now - timedelta(days=days)
    return Q(**{f"{prefix}last_activity_at__lt": cutoff}) | Q(
        **{f"{prefix}last_activity_at__isnull": True, f"{prefix}arrived_at__lt": cutoff}
    )


def neglect_untouched_hours() -> int:
    return int(getattr(settings, "LEADS_NEGLECT_UNTOUCHED_HOURS", NEGLECT_UNTOUCHED_HOURS))


def neglect_silent_days() -> int:
    return int(getattr(settings, "LEADS_NEGLECT_SILENT_DAYS", NEGLECT_SILENT_DAYS))


# --- The figure groups -------------------------------------------------------------------------
#
# Each group runs ONE query (two on SQLite for the percentiles) and returns {key: {field: value}}.
# `key` is a user id in rep mode (users given) and None in total mode (team_ids given, or
# everyone when team_ids is None as well).


class _Scope:
    def __init__(self, *, user_ids: list[int] | None = None, team_ids: set[int] | None = None):
        self.user_ids = user_ids
        self.team_ids = team_ids

    @property
    def per_user(self) -> bool:
        return self.user_ids is not None

    def member_ids(self) -> set[int] | None:
        """The people of the teams (one small query, once); None for everyone."""
        if self.team_ids is None:
            return None
        if not hasattr(self, "_member_ids"):
            from accountability.models import Membership

            self._member_ids = set(
                Membership.objects.filter(team_id__in=self.team_ids).values_list("user_id", flat=True)
            )
        return self._member_ids

    def lead_filter(self, prefix: str = "") -> Q:
        if self.team_ids is None:
            return Q()
        return Q(**{f"{prefix}team_id__in": self.team_ids})


def _cohort(scope: _Scope, period: Period) -> dict:
    """Per rep: received, contacted, speed to lead (totals: see _lead_totals)."""
    # An assignment cannot precede the lead's arrival, so occurred_at >= start is implied;
    # stating it lets PostgreSQL use the (to_owner, occurred_at) index on assignments.
    qs = _initial_assignments().filter(
        to_owner_id__in=scope.user_ids, occurred_at__gte=period.start, **_range("lead__arrived_at", period)
    )
    aggregates = {
        "leads_received": Count("lead_id", distinct=True),
        "leads_contacted": Count("lead_id", distinct=True, filter=Q(lead__first_contacted_at__isnull=False)),
    }
    in_sql = _percentiles_in_sql()
    if in_sql:
        minutes = EpochMinutes(F("lead__first_contacted_at"), F("lead__arrived_at"))
        aggregates["median"] = PercentileCont(minutes, 0.5)
        aggregates["p90"] = PercentileCont(minutes, 0.9)
    out: dict = {}
    for row in qs.values("to_owner_id").annotate(**aggregates):
        out[row["to_owner_id"]] = {
            "leads_received": row["leads_received"],
            "leads_contacted": row["leads_contacted"],
            "speed_to_lead_median": _round(row.get("median")),
            "speed_to_lead_p90": _round(row.get("p90")),
        }
    if not in_sql:
        # SQLite fallback (documented above): fetch the contacted leads' two timestamps.
        values: dict = {}
        contacted = qs.filter(lead__first_contacted_at__isnull=False)
        for key, arrived, first in contacted.values_list("to_owner_id", "lead__arrived_at", "lead__first_contacted_at"):
            values.setdefault(key, []).append((first - arrived).total_seconds() / 60)
        for key, minutes_list in values.items():
            minutes_list.sort()
            out[key]["speed_to_lead_median"] = _round(percentile(minutes_list, 0.5))
            out[key]["speed_to_lead_p90"] = _round(percentile(minutes_list, 0.9))
    return out


def _range(field_name: str, period: Period) -> dict:
    return {f"{field_name}__gte": period.start, f"{field_name}__lt": period.end}


def _follow_ups(scope: _Scope, period: Period, now: datetime) -> dict:
    from leads.models import FollowUp

    qs = FollowUp.objects.filter(**_range("due_at", period)).exclude(state=FollowUp.State.CANCELLED)
    on_time = Q(state=FollowUp.State.DONE, done_at__lte=F("due_at"))
    missed = Q(state=FollowUp.State.DONE, done_at__gt=F("due_at")) | Q(state=FollowUp.State.OPEN, due_at__lt=now)
    aggregates = {"on_time": Count("id", filter=on_time), "missed": Count("id", filter=missed)}
    if scope.per_user:
        rows = qs.filter(owner_id__in=scope.user_ids).values("owner_id").annotate(**aggregates)
        return {r["owner_id"]: {"follow_ups_on_time": r["on_time"], "follow_ups_missed": r["missed"]} for r in rows}
    if scope.member_ids() is not None:
        # The team's members' follow-ups (a queued lead has none): the total is the sum of the rows.
        qs = qs.filter(owner_id__in=scope.member_ids())
    row = qs.aggregate(**aggregates)
    return {None: {"follow_ups_on_time": row["on_time"], "follow_ups_missed": row["missed"]}}


def _activities(scope: _Scope, period: Period) -> dict:
    from leads.models import Activity

    qs = Activity.objects.filter(kind__in=LOGGABLE_KINDS, corrects__isnull=True, **_range("occurred_at", period))
    out: dict = {}
    if scope.per_user:
        # COUNT(*) rather than COUNT(id): the partial index activity_loggable_actor then answers
        # alone (index-only scan), without visiting the timeline's rows.
        rows = qs.filter(actor_id__in=scope.user_ids).values_list("actor_id", "kind").annotate(n=Count("*"))
    else:
        if scope.member_ids() is not None:
            # The team's members' own entries: the team total is the sum of its rows. The member
            # ids are fetched first (one small query) so PostgreSQL plans an index scan per
            # actor instead of hashing the whole timeline.
            qs = qs.filter(actor_id__in=scope.member_ids())
        rows = qs.filter(actor__isnull=False).values_list("kind").annotate(n=Count("*")).values_list("kind", "n")
        rows = [(None, kind, n) for kind, n in rows]
    for key, kind, n in rows:
        out.setdefault(key, {"activities_by_kind": dict.fromkeys(LOGGABLE_KINDS, 0)})["activities_by_kind"][kind] = n
    return out


def _closed(scope: _Scope, period: Period) -> dict:
    from leads.models import Lead

    won = Q(stage=Lead.Stage.WON)
    aggregates = {
        "deals_won": Count("id", filter=won),
        "deals_lost": Count("id", filter=Q(stage=Lead.Stage.LOST)),
        "value_won": Coalesce(Sum("value", filter=won), Decimal("0.00"), output_field=models.DecimalField()),
    }
    qs = Lead.objects.filter(stage__in=Lead.CLOSED_STAGES, owner_id__in=scope.user_ids, **_range("closed_at", period))
    return {r.pop("owner_id"): r for r in qs.values("owner_id").annotate(**aggregates)}


def _neglected(scope: _Scope, now: datetime) -> dict:
    from leads.models import Lead

    rows = (
        Lead.objects.filter(neglect_condition(now), owner_id__in=scope.user_ids)
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    return {r["owner_id"]: {"neglected": r["n"]} for r in rows}


def _saved(scope: _Scope, period: Period) -> dict:
    from leads.models import Lead

    rows = (
        Lead.objects.filter(first_contacted_by_id__in=scope.user_ids, **_range("first_contacted_at", period))
        .exclude(Exists(_received_by_first_contact()))
        .values("first_contacted_by_id")
        .annotate(n=Count("id"))
    )
    return {r["first_contacted_by_id"]: {"saved": r["n"]} for r in rows}


def _received_by_first_contact():
    """Was this lead initially assigned to the person who first contacted it? (saved leads)"""
    return _initial_assignments().filter(lead_id=OuterRef("pk"), to_owner_id=OuterRef("first_contacted_by_id"))


def _lead_totals(scope: _Scope, period: Period, now: datetime, groups: set[str]) -> dict:
    """Received, contacted, speed, closed deals, neglected and saved for a team or everyone:
    one scan of the team's leads with a FILTER per figure (instead of one scan per figure)."""
    from leads.models import Lead

    qs = Lead.objects.filter(scope.lead_filter())
    arrived = Q(**_range("arrived_at", period))
    closed = Q(stage__in=Lead.CLOSED_STAGES, **_range("closed_at", period))
    aggregates: dict = {}
    in_sql = _percentiles_in_sql()
    if "cohort" in groups:
        aggregates["leads_received"] = Count("id", filter=arrived)
        aggregates["leads_contacted"] = Count("id", filter=arrived & Q(first_contacted_at__isnull=False))
        if in_sql:
            minutes = EpochMinutes(F("first_contacted_at"), F("arrived_at"))
            aggregates["median"] = PercentileCont(minutes, 0.5, filter=arrived)
            aggregates["p90"] = PercentileCont(minutes, 0.9, filter=arrived)
    if "closed" in groups:
        won = closed & Q(stage=Lead.Stage.WON)
        aggregates["deals_won"] = Count("id", filter=won)
        aggregates["deals_lost"] = Count("id", filter=closed & Q(stage=Lead.Stage.LOST))
        aggregates["value_won"] = Coalesce(
            Sum("value", filter=won), Decimal("0.00"), output_field=models.DecimalField()
        )
    if "neglected" in groups:
        aggregates["neglected"] = Count("id", filter=neglect_condition(now))
    if "saved" in groups:
        first_contact = Q(first_contacted_by__isnull=False, **_range("first_contacted_at", period))
        aggregates["saved"] = Count("id", filter=first_contact & ~Q(Exists(_received_by_first_contact())))
    row = qs.aggregate(**aggregates)
    values = {k: v for k, v in row.items() if k not in ("median", "p90")}
    if "cohort" in groups:
        if in_sql:
            values["speed_to_lead_median"] = _round(row["median"])
            values["speed_to_lead_p90"] = _round(row["p90"])
        else:
            minutes_list = sorted(
                (contacted - arrived_at).total_seconds() / 60
                for arrived_at, contacted in qs.filter(arrived, first_contacted_at__isnull=False).values_list(
                    "arrived_at", "first_contacted_at"
                )
            )
            values["speed_to_lead_median"] = _round(percentile(minutes_list, 0.5))
            values["speed_to_lead_p90"] = _round(percentile(minutes_list, 0.9))
    return {None: values}


_GROUPS = {
    "cohort": (Metric.LEADS_RECEIVED, Metric.LEADS_CONTACTED, Metric.SPEED_TO_LEAD_MEDIAN, Metric.SPEED_TO_LEAD_P90),
    "follow_ups": (Metric.FOLLOW_UP_COMPLIANCE,),
    "activities": (Metric.ACTIVITIES, Metric.CALLS, Metric.EMAILS, Metric.MEETINGS),
    "closed": (Metric.CONVERSION_RATE, Metric.DEALS_WON, Metric.VALUE_WON),
    "neglected": (Metric.NEGLECTED,),
}


def _compute(scope: _Scope, period: Period, *, groups: Iterable[str] | None = None, now=None) -> dict:
    now = now or timezone.now()
    groups = set(groups or [*_GROUPS, "saved"])
    parts: list[dict] = []
    if not scope.per_user:
        # Totals: every lead-based figure in one pass over the team's leads.
        lead_groups = groups & {"cohort", "closed", "neglected", "saved"}
        if lead_groups:
            parts.append(_lead_totals(scope, period, now, lead_groups))
        groups -= lead_groups
    if "cohort" in groups:
        parts.append(_cohort(scope, period))
    if "follow_ups" in groups:
        parts.append(_follow_ups(scope, period, now))
    if "activities" in groups:
        parts.append(_activities(scope, period))
    if "closed" in groups:
        parts.append(_closed(scope, period))
    if "neglected" in groups:
        parts.append(_neglected(scope, now))
    if "saved" in groups:
        parts.append(_saved(scope, period))
    keys = scope.user_ids if scope.per_user else [None]
    cards = {key: Scorecard() for key in keys}
    for part in parts:
        for key, values in part.items():
            if key in cards:
                for name, value in values.items():
                    setattr(cards[key], name, value)
    return cards


def _group_of(metric: Metric) -> str:
    for group, metrics in _GROUPS.items():
        if metric in metrics:
            return group
    raise ValueError(f"Unknown metric {metric!r}")


def _user_ids(users) -> list[int]:
    return [u if isinstance(u, int) else u.pk for u in users]


# --- The public interface ----------------------------------------------------------------------


def rep_scorecards(*, period: Period, users, now: datetime | None = None) -> dict[int, Scorecard]:
    """Every figure for each rep in `users` (User objects or ids), in 6 queries whatever their number."""
    return _compute(_Scope(user_ids=_user_ids(users)), period, now=now)


def total_scorecard(
    *, period: Period, team=None, team_ids: set[int] | None = None, now: datetime | None = None
) -> Scorecard:
    """The figures for a team including its sub-teams (each lead once), or everyone with no team.

    A caller that already has the team tree may pass `team_ids` (the team and its sub-teams)
    instead of `team` and save a query."""
    scope = _Scope(team_ids=set(team_ids)) if team_ids is not None else _team_scope(team)
    return _compute(scope, period, now=now)[None]


def team_scorecards(
    *, period: Period, team_ids: set[int], users, now: datetime | None = None
) -> tuple[dict[int, Scorecard], Scorecard]:
    """A team dashboard: one row per member and the team total, in 7 queries.

    `users` must be every member of the teams in `team_ids` (a team and its sub-teams). The
    total's follow-up and activity figures count the members' own, so they are the sums of the
    rows; its lead figures (each lead once, queue included) take one pass over the team's leads.
    Equal to total_scorecard(team_ids=team_ids), with three queries fewer.
    """
    now = now or timezone.now()
    cards = rep_scorecards(period=period, users=users, now=now)
    scope = _Scope(team_ids=set(team_ids))
    total = Scorecard()
    for name, value in _lead_totals(scope, period, now, {"cohort", "closed", "neglected", "saved"})[None].items():
        setattr(total, name, value)
    for card in cards.values():
        total.follow_ups_on_time += card.follow_ups_on_time
        total.follow_ups_missed += card.follow_ups_missed
        for kind, n in card.activities_by_kind.items():
            total.activities_by_kind[kind] += n
    return cards, total


def _team_scope(team) -> _Scope:
    if team is None:
        return _Scope()
    from accountability.scoping import descendant_team_ids

    return _Scope(team_ids=descendant_team_ids([team if isinstance(team, int) else team.pk]))


def metric_value(metric: Metric | str, *, period: Period, user=None, team=None, now=None) -> Decimal | None:
    """One figure for a rep (user), a team with its sub-teams (team), or everyone (neither)."""
    metric = Metric(metric)
    if user is not None and team is not None:
        raise ValueError("Pass a user or a team, not both.")
    scope = _Scope(user_ids=_user_ids([user])) if user is not None else _team_scope(team)
    cards = _compute(scope, period, groups=[_group_of(metric)], now=now)
    return next(iter(cards.values())).value(metric)


def metric_values_by_user(metric: Metric | str, *, period: Period, users, now=None) -> dict[int, Decimal | None]:
    """The same figure for many reps in one query (two on SQLite for the percentiles)."""
    metric = Metric(metric)
    cards = _compute(_Scope(user_ids=_user_ids(users)), period, groups=[_group_of(metric)], now=now)
    return {key: card.value(metric) for key, card in cards.items()}
