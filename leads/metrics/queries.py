"""The SQL behind the figures: one aggregate query per group of figures (see leads.metrics)."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from django.db import connection, models
from django.db.models import Aggregate, Count, FloatField, Q, Sum
from django.db.models.functions import Coalesce

from accountability.models import Membership
from leads.metrics.catalogue import LOGGABLE_KINDS, Metric, _round
from leads.metrics.neglect import neglect_condition
from leads.metrics.period import Period, Window
from leads.metrics.rows import (
    closed_q,
    contacted_q,
    follow_up_missed_q,
    follow_up_on_time_q,
    lost_q,
    received_q,
    rows_activities,
    rows_closed,
    rows_follow_ups_due,
    rows_received,
    rows_saved,
    saved_q,
    time_to_first_contact_minutes,
    wall_minutes_to_first_contact,
    won_q,
)
from leads.models import Lead

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


def first_contact_minutes():
    """Speed to lead of one lead, in minutes, as a SQL expression on Lead: the ONE definition the
    raw figures, the daily rollup (leads.rollup) and the rows behind the figure (leads.metrics.rows)
    all use, so they can never disagree. Speed to lead is counted in the team's business minutes,
    stored once on the lead when its first contact is logged (Lead.first_contact_business_minutes)."""
    return time_to_first_contact_minutes()


def first_contact_wall_minutes():
    """Wall-clock speed to lead of one lead (first contact - arrival, in minutes; NULL when not
    contacted), as a SQL expression on Lead: the one definition of the second figure for the raw
    percentiles, the daily rollup, its raw remainder and the rows behind the figure."""
    return wall_minutes_to_first_contact()


def _percentiles_in_sql() -> bool:
    return connection.vendor == "postgresql"


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """percentile_cont's linear interpolation, for databases without it (SQLite)."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


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
    # Lead.received_by is the rep of the initial assignment (leads.services sets it once);
    # the index lead_received_arrived answers (received_by, arrived_at) directly.
    qs = rows_received(scope, period)
    # COUNT(*) rather than COUNT(id): with first_contacted_at and first_contact_business_minutes
    # INCLUDEd in lead_received_arrived, PostgreSQL answers from the index alone (index-only
    # scan) instead of visiting a heap page per lead (a team's leads are spread over the table).
    aggregates = {
        "leads_received": Count("*"),
        "leads_contacted": Count("first_contacted_at"),  # counts the non-null ones: the contacted leads
    }
    in_sql = _percentiles_in_sql()
    if in_sql:
        aggregates.update(_speed_aggregates())
    out: dict = {}
    for row in qs.values("received_by_id").annotate(**aggregates):
        out[row["received_by_id"]] = {
            "leads_received": row["leads_received"],
            "leads_contacted": row["leads_contacted"],
            **(_speed_figures(row) if in_sql else {}),
        }
    if not in_sql:
        # SQLite fallback (documented above): fetch the contacted leads' speed values.
        samples: dict = {}
        contacted = qs.filter(first_contacted_at__isnull=False)
        for key, *sample in contacted.values_list("received_by_id", *SPEED_COLUMNS):
            samples.setdefault(key, []).append(sample)
        for key, rows in samples.items():
            out[key].update(_speed_figures_in_python(rows))
    return out


# Speed to lead, two ways (see the module docstring of leads.metrics): the figure judged
# against the SLA is counted in the team's business time, stored on the lead when the first
# contact is logged (first_contact_business_minutes), so its percentiles are plain SQL; the
# wall-clock figure (first contact - arrival) is shown beside it.
SPEED_COLUMNS = ("first_contact_business_minutes", "arrived_at", "first_contacted_at")
SPEED_FIGURES = ("speed_to_lead_median", "speed_to_lead_p90", "speed_to_lead_wall_median", "speed_to_lead_wall_p90")


def _speed_aggregates(filter: Q | None = None) -> dict:
    business = first_contact_minutes()
    wall = first_contact_wall_minutes()
    return {
        "speed_to_lead_median": PercentileCont(business, 0.5, filter=filter),
        "speed_to_lead_p90": PercentileCont(business, 0.9, filter=filter),
        "speed_to_lead_wall_median": PercentileCont(wall, 0.5, filter=filter),
        "speed_to_lead_wall_p90": PercentileCont(wall, 0.9, filter=filter),
    }


def _speed_figures(row: dict) -> dict:
    return {name: _round(row.get(name)) for name in SPEED_FIGURES}


def _speed_figures_in_python(rows) -> dict:
    """percentile_cont over (business minutes, arrived_at, first_contacted_at) rows (SQLite)."""
    business = sorted(b for b, _arrived, _first in rows if b is not None)
    wall = sorted((first - arrived).total_seconds() / 60 for _b, arrived, first in rows)
    return {
        "speed_to_lead_median": _round(percentile(business, 0.5)),
        "speed_to_lead_p90": _round(percentile(business, 0.9)),
        "speed_to_lead_wall_median": _round(percentile(wall, 0.5)),
        "speed_to_lead_wall_p90": _round(percentile(wall, 0.9)),
    }


def _follow_ups(scope: _Scope, period: Period, now: datetime) -> dict:
    # A team's rows are its members' follow-ups (a queued lead has none): the total is the sum of the rows.
    qs = rows_follow_ups_due(scope, period)
    on_time, missed = follow_up_on_time_q(), follow_up_missed_q(now)
    # COUNT(due_at), never NULL: follow_up_owner_due_state INCLUDEs state and done_at, so the
    # count reads the index alone (COUNT(id) visited a heap page per follow-up).
    aggregates = {"on_time": Count("due_at", filter=on_time), "missed": Count("due_at", filter=missed)}
    if scope.per_user:
        rows = qs.values("owner_id").annotate(**aggregates)
        return {r["owner_id"]: {"follow_ups_on_time": r["on_time"], "follow_ups_missed": r["missed"]} for r in rows}
    row = qs.aggregate(**aggregates)
    return {None: {"follow_ups_on_time": row["on_time"], "follow_ups_missed": row["missed"]}}


def _activities(scope: _Scope, period: Period) -> dict:
    # A team's rows are its members' own entries: the team total is the sum of its rows. The
    # member ids are fetched first (one small query) so PostgreSQL plans an index scan per
    # actor instead of hashing the whole timeline.
    qs = rows_activities(scope, period)
    out: dict = {}
    if scope.per_user:
        # COUNT(*) rather than COUNT(id): the partial index activity_loggable_actor then answers
        # alone (index-only scan), without visiting the timeline's rows.
        rows = qs.values_list("actor_id", "kind").annotate(n=Count("*"))
    else:
        rows = qs.values_list("kind").annotate(n=Count("*")).values_list("kind", "n")
        rows = [(None, kind, n) for kind, n in rows]
    for key, kind, n in rows:
        out.setdefault(key, {"activities_by_kind": dict.fromkeys(LOGGABLE_KINDS, 0)})["activities_by_kind"][kind] = n
    return out


def _closed(scope: _Scope, period: Period) -> dict:
    won = Q(stage=Lead.Stage.WON)
    # COUNT(closed_at), set on every closed lead: lead_owner_closed INCLUDEs stage and value, so
    # the deals closed today are an index-only pass.
    aggregates = {
        "deals_won": Count("closed_at", filter=won),
        "deals_lost": Count("closed_at", filter=Q(stage=Lead.Stage.LOST)),
        "value_won": Coalesce(Sum("value", filter=won), Decimal("0.00"), output_field=models.DecimalField()),
    }
    qs = rows_closed(scope, period)
    return {r.pop("owner_id"): r for r in qs.values("owner_id").annotate(**aggregates)}


def _neglected(scope: _Scope, now: datetime) -> dict:
    by_owner, _by_team = neglected_counts(now, user_ids=scope.user_ids)
    return {owner: {"neglected": n} for owner, n in by_owner.items()}


def neglected_counts(now: datetime, *, user_ids=(), team_ids=()) -> tuple[dict, dict]:
    """Neglected leads now per owner (of `user_ids`) and per team (of `team_ids`, queue included),
    in one query: a UNION ALL of two index-only scans (lead_owner_open_neglect and
    lead_team_open_neglect INCLUDE every column the condition reads; COUNT(*) needs no other)."""
    parts = []
    if user_ids:
        parts.append(
            Lead.objects.filter(neglect_condition(now), owner_id__in=list(user_ids))
            .order_by()
            .values("owner_id")
            .annotate(n=Count("*"))
        )
    if team_ids:
        parts.append(
            Lead.objects.filter(neglect_condition(now), team_id__in=list(team_ids))
            .order_by()
            .values("team_id")
            .annotate(n=Count("*"))
        )
    by_owner: dict = {}
    by_team: dict = {}
    if not parts:
        return by_owner, by_team
    compiled = [part.query.sql_with_params() for part in parts]
    # Django-compiled SQL; every value is a parameter.
    sql = " UNION ALL ".join(
        f"SELECT {index} AS side, p.* FROM ({part_sql}) p"  # noqa: S608
        for index, (part_sql, _params) in enumerate(compiled)
    )
    params = [param for _sql, part_params in compiled for param in part_params]
    sides = ([by_owner] if user_ids else []) + ([by_team] if team_ids else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for side, key, n in cursor.fetchall():
            sides[side][key] = n
    return by_owner, by_team


def _saved(scope: _Scope, period: Period) -> dict:
    rows = rows_saved(scope, period).values("first_contacted_by_id").annotate(n=Count("id"))
    return {r["first_contacted_by_id"]: {"saved": r["n"]} for r in rows}


def _lead_totals(scope: _Scope, period: Period, now: datetime, groups: set[str]) -> dict:
    """Received, contacted, speed, closed deals, neglected and saved for a team or everyone:
    one scan of the team's leads with a FILTER per figure (instead of one scan per figure)."""
    qs = Lead.objects.filter(scope.lead_filter())
    # A Window (the rollup's remainder) is per team: each condition is keyed on team_id.
    arrived = received_q(period, key="team_id")
    aggregates: dict = {}
    in_sql = _percentiles_in_sql()
    if "cohort" in groups:
        aggregates["leads_received"] = Count("id", filter=arrived)
        aggregates["leads_contacted"] = Count("id", filter=contacted_q(period, key="team_id"))
        if in_sql:
            aggregates.update(_speed_aggregates(filter=arrived))
    if "closed" in groups:
        won = won_q(period, key="team_id")
        aggregates["deals_won"] = Count("closed_at", filter=won)
        aggregates["deals_lost"] = Count("closed_at", filter=lost_q(period, key="team_id"))
        aggregates["value_won"] = Coalesce(
            Sum("value", filter=won), Decimal("0.00"), output_field=models.DecimalField()
        )
    if "neglected" in groups:
        aggregates["neglected"] = Count("id", filter=neglect_condition(now))
    if "saved" in groups:
        aggregates["saved"] = Count("id", filter=saved_q(period, key="team_id"))
    if isinstance(period, Window) and not groups & {"cohort", "saved"}:
        # The rollup's remainder (today, mostly): only the team's open leads (neglected) and
        # the ones closed in the remainder need visiting, through lead_team_open and lead_closed_at.
        wanted = Q(stage__in=Lead.OPEN_STAGES) if "neglected" in groups else Q(pk__in=[])
        qs = qs.filter(wanted | closed_q(period, key="team_id") if "closed" in groups else wanted)
    row = qs.aggregate(**aggregates)
    values = {k: v for k, v in row.items() if k not in SPEED_FIGURES}
    if "cohort" in groups:
        if in_sql:
            values.update(_speed_figures(row))
        else:
            rows = qs.filter(arrived, first_contacted_at__isnull=False).values_list(*SPEED_COLUMNS)
            values.update(_speed_figures_in_python(list(rows)))
    return {None: values}


_GROUPS = {
    "cohort": (Metric.LEADS_RECEIVED, Metric.LEADS_CONTACTED, Metric.SPEED_TO_LEAD_MEDIAN, Metric.SPEED_TO_LEAD_P90),
    "follow_ups": (Metric.FOLLOW_UP_COMPLIANCE,),
    "activities": (Metric.ACTIVITIES, Metric.CALLS, Metric.EMAILS, Metric.MEETINGS),
    "closed": (Metric.CONVERSION_RATE, Metric.DEALS_WON, Metric.VALUE_WON),
    "neglected": (Metric.NEGLECTED,),
}


def _group_of(metric: Metric) -> str:
    for group, metrics in _GROUPS.items():
        if metric in metrics:
            return group
    raise ValueError(f"Unknown metric {metric!r}")


def _user_ids(users) -> list[int]:
    return [u if isinstance(u, int) else u.pk for u in users]
