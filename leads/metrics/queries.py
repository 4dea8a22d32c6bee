"""The SQL behind the figures: one aggregate query per group of figures (see leads.metrics)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection, models
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.metrics.catalogue import LOGGABLE_KINDS, Metric, Scorecard, _round
from leads.metrics.neglect import neglect_condition
from leads.metrics.period import Period

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


def first_contact_minutes():
    """Speed to lead of one lead, in minutes, as a SQL expression on Lead: the ONE definition the
    raw figures and the daily rollup (leads.rollup) both use, so they can never disagree.
    (Switching speed to lead to business minutes is this one line.)"""
    return EpochMinutes(F("first_contacted_at"), F("arrived_at"))


def _percentiles_in_sql() -> bool:
    return connection.vendor == "postgresql"


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """percentile_cont's linear interpolation, for databases without it (SQLite)."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _not_received_by_first_contact() -> Q:
    """The lead was not first assigned to the person who first contacted it (saved leads)."""
    return Q(received_by__isnull=True) | ~Q(received_by_id=F("first_contacted_by_id"))


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
    from leads.models import Lead

    # Lead.received_by is the rep of the initial assignment (leads.services sets it once);
    # the index lead_received_arrived answers (received_by, arrived_at) directly.
    qs = Lead.objects.filter(
        _when(period, "arrived_at", "received_by_id"), _of(period, "received_by_id", scope.user_ids)
    )
    # COUNT(*) rather than COUNT(id): with first_contacted_at INCLUDEd in lead_received_arrived,
    # PostgreSQL answers from the index alone (index-only scan) instead of visiting a heap page
    # per lead (a team's leads are spread over the whole table).
    aggregates = {
        "leads_received": Count("*"),
        "leads_contacted": Count("first_contacted_at"),  # counts the non-null ones: the contacted leads
    }
    in_sql = _percentiles_in_sql()
    if in_sql:
        minutes = first_contact_minutes()
        aggregates["median"] = PercentileCont(minutes, 0.5)
        aggregates["p90"] = PercentileCont(minutes, 0.9)
    out: dict = {}
    for row in qs.values("received_by_id").annotate(**aggregates):
        out[row["received_by_id"]] = {
            "leads_received": row["leads_received"],
            "leads_contacted": row["leads_contacted"],
            "speed_to_lead_median": _round(row.get("median")),
            "speed_to_lead_p90": _round(row.get("p90")),
        }
    if not in_sql:
        # SQLite fallback (documented above): fetch the contacted leads' two timestamps.
        values: dict = {}
        contacted = qs.filter(first_contacted_at__isnull=False)
        for key, arrived, first in contacted.values_list("received_by_id", "arrived_at", "first_contacted_at"):
            values.setdefault(key, []).append((first - arrived).total_seconds() / 60)
        for key, minutes_list in values.items():
            minutes_list.sort()
            out[key]["speed_to_lead_median"] = _round(percentile(minutes_list, 0.5))
            out[key]["speed_to_lead_p90"] = _round(percentile(minutes_list, 0.9))
    return out


def _range(field_name: str, period: Period) -> dict:
    return {f"{field_name}__gte": period.start, f"{field_name}__lt": period.end}


class Window:
    """Which instants to read raw rows for, per key (a user id, or a team id for team totals):
    the parts of a period the daily rollup does not cover (leads.metrics.rollup). `intervals`
    maps every key to its half-open [start, end) intervals (possibly none)."""

    def __init__(self, period: Period, intervals: dict):
        self.period = period
        self.intervals = intervals

    @property
    def is_empty(self) -> bool:
        return not any(self.intervals.values())

    def q(self, field_name: str, key_field: str) -> Q:
        """Rows whose `field_name` falls in their key's intervals: one OR branch per distinct set
        of intervals (keys in one zone share theirs), so the SQL does not grow with the keys."""
        by_intervals: dict[tuple, list] = {}
        for key, spans in self.intervals.items():
            if spans:
                by_intervals.setdefault(tuple(spans), []).append(key)
        condition = Q(pk__in=[])
        for spans, keys in by_intervals.items():
            when = Q(pk__in=[])
            for start, end in spans:
                when |= Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
            condition |= Q(**{f"{key_field}__in": keys}) & when
        return condition


def _of(period, key_field: str, ids) -> Q:
    """`key_field IN ids`, unless `period` is a Window: its condition already names the keys, and
    repeating the IN list makes PostgreSQL misjudge the selectivity and scan the whole table."""
    if isinstance(period, Window):
        return Q()
    return Q(**{f"{key_field}__in": ids})


def _when(period, field_name: str, key_field: str) -> Q:
    """`period` is a Period (the whole of it, for every key) or a Window (per key)."""
    if isinstance(period, Window):
        return period.q(field_name, key_field)
    return Q(**_range(field_name, period))


def _follow_ups(scope: _Scope, period: Period, now: datetime) -> dict:
    from leads.models import FollowUp

    qs = FollowUp.objects.filter(_when(period, "due_at", "owner_id")).exclude(state=FollowUp.State.CANCELLED)
    on_time = Q(state=FollowUp.State.DONE, done_at__lte=F("due_at"))
    missed = Q(state=FollowUp.State.DONE, done_at__gt=F("due_at")) | Q(state=FollowUp.State.OPEN, due_at__lt=now)
    aggregates = {"on_time": Count("id", filter=on_time), "missed": Count("id", filter=missed)}
    if scope.per_user:
        rows = qs.filter(_of(period, "owner_id", scope.user_ids)).values("owner_id").annotate(**aggregates)
        return {r["owner_id"]: {"follow_ups_on_time": r["on_time"], "follow_ups_missed": r["missed"]} for r in rows}
    if scope.member_ids() is not None:
        # The team's members' follow-ups (a queued lead has none): the total is the sum of the rows.
        qs = qs.filter(owner_id__in=scope.member_ids())
    row = qs.aggregate(**aggregates)
    return {None: {"follow_ups_on_time": row["on_time"], "follow_ups_missed": row["missed"]}}


def _activities(scope: _Scope, period: Period) -> dict:
    from leads.models import Activity

    qs = Activity.objects.filter(
        _when(period, "occurred_at", "actor_id"), kind__in=LOGGABLE_KINDS, corrects__isnull=True
    )
    out: dict = {}
    if scope.per_user:
        # COUNT(*) rather than COUNT(id): the partial index activity_loggable_actor then answers
        # alone (index-only scan), without visiting the timeline's rows.
        rows = qs.filter(_of(period, "actor_id", scope.user_ids)).values_list("actor_id", "kind").annotate(n=Count("*"))
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
    qs = Lead.objects.filter(
        _when(period, "closed_at", "owner_id"), _of(period, "owner_id", scope.user_ids), stage__in=Lead.CLOSED_STAGES
    )
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
        Lead.objects.filter(_when(period, "first_contacted_at", "first_contacted_by_id"))
        .filter(_of(period, "first_contacted_by_id", scope.user_ids))
        .filter(_not_received_by_first_contact())
        .values("first_contacted_by_id")
        .annotate(n=Count("id"))
    )
    return {r["first_contacted_by_id"]: {"saved": r["n"]} for r in rows}


def _lead_totals(scope: _Scope, period: Period, now: datetime, groups: set[str]) -> dict:
    """Received, contacted, speed, closed deals, neglected and saved for a team or everyone:
    one scan of the team's leads with a FILTER per figure (instead of one scan per figure)."""
    from leads.models import Lead

    qs = Lead.objects.filter(scope.lead_filter())
    arrived = _when(period, "arrived_at", "team_id")
    closed = Q(stage__in=Lead.CLOSED_STAGES) & _when(period, "closed_at", "team_id")
    aggregates: dict = {}
    in_sql = _percentiles_in_sql()
    if "cohort" in groups:
        aggregates["leads_received"] = Count("id", filter=arrived)
        aggregates["leads_contacted"] = Count("id", filter=arrived & Q(first_contacted_at__isnull=False))
        if in_sql:
            minutes = first_contact_minutes()
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
        aggregates["saved"] = Count("id", filter=first_contact & _not_received_by_first_contact())
    if isinstance(period, Window) and not groups & {"cohort", "saved"}:
        # The rollup's remainder (today, mostly): only the team's open leads (neglected) and
        # the ones closed in the remainder need visiting, through lead_team_open and lead_closed_at.
        wanted = Q(stage__in=Lead.OPEN_STAGES) if "neglected" in groups else Q(pk__in=[])
        qs = qs.filter(wanted | closed if "closed" in groups else wanted)
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
    from leads.metrics import rollup

    if rollup.enabled():
        # Closed days from the daily rollup, the rest from raw rows (leads.metrics.rollup); one
        # query finds out what the rollup covers, and nothing changes when it covers nothing.
        if scope.per_user:
            cards = rollup.rep_cards(scope, period, groups=groups, now=now)
            if cards is not None:
                return cards
        else:
            merged = _totals_with_rollup(scope, period, groups, now)
            if merged is not None:
                return merged
    parts: list[dict] = []
    if not scope.per_user:
        # Totals: every lead-based figure in one pass over the team's leads. A team's saved
        # leads are its members' saves (like its activities and follow-ups).
        lead_groups = groups & {"cohort", "closed", "neglected"}
        if "saved" in groups and scope.member_ids() is None:
            lead_groups.add("saved")
        if lead_groups:
            parts.append(_lead_totals(scope, period, now, lead_groups))
        if "saved" in groups and scope.member_ids() is not None:
            saves = _saved(_Scope(user_ids=list(scope.member_ids())), period)
            parts.append({None: {"saved": sum(v["saved"] for v in saves.values())}})
        groups -= lead_groups | {"saved"}
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


def _totals_with_rollup(scope: _Scope, period: Period, groups: set[str], now: datetime) -> dict | None:
    """A team's or everyone's card: lead figures from TeamDay rows, and the follow-up, activity
    and saved figures as the sums of the members' (everyone's: every person's) own cards."""
    from accountability.models import User
    from leads.metrics import rollup

    lead_part = rollup.team_lead_totals(scope, period, now, groups & {"cohort", "closed", "neglected"})
    if lead_part is None:
        return None
    card = Scorecard()
    for name, value in lead_part[None].items():
        setattr(card, name, value)
    rep_groups = groups & {"follow_ups", "activities", "saved"}
    if rep_groups:
        members = scope.member_ids()
        if members is None:
            members = set(User.objects.values_list("id", flat=True))
        for member in _compute(_Scope(user_ids=sorted(members)), period, groups=rep_groups, now=now).values():
            card.saved += member.saved
            card.follow_ups_on_time += member.follow_ups_on_time
            card.follow_ups_missed += member.follow_ups_missed
            for kind, n in member.activities_by_kind.items():
                card.activities_by_kind[kind] += n
    return {None: card}


def team_lead_totals(scope: _Scope, period: Period, now: datetime, groups: set[str]) -> dict:
    """`_lead_totals` through the rollup when it covers the teams (team_scorecards' total)."""
    from leads.metrics import rollup

    if rollup.enabled():
        merged = rollup.team_lead_totals(scope, period, now, groups)
        if merged is not None:
            return merged
    return _lead_totals(scope, period, now, groups)


def _group_of(metric: Metric) -> str:
    for group, metrics in _GROUPS.items():
        if metric in metrics:
            return group
    raise ValueError(f"Unknown metric {metric!r}")


def _user_ids(users) -> list[int]:
    return [u if isinstance(u, int) else u.pk for u in users]
