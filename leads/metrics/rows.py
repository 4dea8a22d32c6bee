"""The rows behind each figure: one definition per figure, shared by its aggregate and its list.

Each figure of leads.metrics is an aggregate over the rows selected here (queries.py builds its
SQL from these conditions and selectors), and the dashboard opens the same rows as a list
(leads.reports, "the rows behind a figure"). So a figure and its list cannot drift apart:
the figure is the number of rows of its list (or the percentile, sum or rate over them).

A scope is a rep (`scope.user_ids`), a team with its sub-teams (`scope.team_ids`), or everyone
(neither); see queries._Scope. Lead figures of a team take the team's leads (queue included,
each lead once); follow-ups, activities and saves of a team are its members' own.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Func, Q, QuerySet

from leads.metrics.catalogue import LOGGABLE_KINDS
from leads.metrics.period import Period, Window
from leads.models import Activity, FollowUp, Lead

# --- Conditions (Q on Lead, FollowUp or Activity) ----------------------------------------------
#
# `period` is a Period, or a Window (leads.metrics.rollup: the part of a period the daily rollup
# does not cover, per person or team). `key` names the column a Window's intervals are per; the
# defaults are the rep's column of each figure, team totals pass key="team_id". A Period ignores it.


def received_q(period: Period | Window, key: str = "received_by_id") -> Q:
    """Lead: arrived in the period (the cohort of received, contacted and speed to lead)."""
    return period.filter("arrived_at", key)


def contacted_q(period: Period | Window, key: str = "received_by_id") -> Q:
    return received_q(period, key) & Q(first_contacted_at__isnull=False)


def never_contacted_q(period: Period | Window, key: str = "received_by_id") -> Q:
    return received_q(period, key) & Q(first_contacted_at__isnull=True)


def closed_q(period: Period | Window, key: str = "owner_id") -> Q:
    """Lead: won or lost, closed in the period (conversion's denominator)."""
    return Q(stage__in=Lead.CLOSED_STAGES) & period.filter("closed_at", key)


def won_q(period: Period | Window, key: str = "owner_id") -> Q:
    return closed_q(period, key) & Q(stage=Lead.Stage.WON)


def lost_q(period: Period | Window, key: str = "owner_id") -> Q:
    return closed_q(period, key) & Q(stage=Lead.Stage.LOST)


def not_received_by_first_contact_q() -> Q:
    """The lead was not first assigned to the person who first contacted it (saved leads)."""
    return Q(received_by__isnull=True) | ~Q(received_by_id=F("first_contacted_by_id"))


def saved_q(period: Period | Window, key: str = "first_contacted_by_id") -> Q:
    return (
        Q(first_contacted_by__isnull=False)
        & period.filter("first_contacted_at", key)
        & not_received_by_first_contact_q()
    )


def follow_up_due_q(period: Period | Window, key: str = "owner_id") -> Q:
    """FollowUp: due in the period and not cancelled."""
    return period.filter("due_at", key) & ~Q(state=FollowUp.State.CANCELLED)


def follow_up_on_time_q() -> Q:
    return Q(state=FollowUp.State.DONE, done_at__lte=F("due_at"))


def follow_up_missed_q(now: datetime) -> Q:
    return Q(state=FollowUp.State.DONE, done_at__gt=F("due_at")) | Q(state=FollowUp.State.OPEN, due_at__lt=now)


def activity_counted_q(period: Period | Window, key: str = "actor_id") -> Q:
    """Activity: a loggable entry occurring in the period that is not the correction of another."""
    return Q(kind__in=LOGGABLE_KINDS, corrects__isnull=True) & period.filter("occurred_at", key)


# --- Time to first contact ------------------------------------------------------------------------


class _EpochMinutes(Func):
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)"
    arg_joiner = " - "
    output_field = FloatField()


class _JulianMinutes(Func):
    template = "((julianday(%(expressions)s)) * 1440.0)"
    arg_joiner = ") - julianday("
    output_field = FloatField()


def time_to_first_contact_minutes():
    """Business minutes from arrival to first contact: what the speed-to-lead figures count
    (stored once on the lead when the first contact is logged, under the clock's policy)."""
    return F("first_contact_business_minutes")


def wall_minutes_to_first_contact():
    """Wall-clock minutes from arrival to first contact (the dashboard's second figure)."""
    if connection.vendor == "postgresql":
        return _EpochMinutes(F("first_contacted_at"), F("arrived_at"))
    return _JulianMinutes(F("first_contacted_at"), F("arrived_at"))


# --- Scope filters ----------------------------------------------------------------------------


def _reps_q(scope, period, field: str) -> Q:
    """`field IN the scope's reps`, unless `period` is a Window of those reps: its condition
    (on the same column) already names them, and repeating the IN list makes PostgreSQL misjudge
    the selectivity and scan the whole table."""
    if isinstance(period, Window) and set(period.intervals) <= set(scope.user_ids):
        return Q()
    return Q(**{f"{field}__in": scope.user_ids})


def _lead_scope_q(scope, rep_field: str, period=None) -> Q:
    """A rep's leads by `rep_field` (received_by, owner); a team's by team; everyone's: all."""
    if scope.per_user:
        return _reps_q(scope, period, f"{rep_field}_id")
    return scope.lead_filter()


def _people_scope_q(scope, person_field: str, period=None) -> Q:
    """A rep's own rows; a team's members' rows; everyone's: rows made by a person."""
    if scope.per_user:
        return _reps_q(scope, period, f"{person_field}_id")
    members = scope.member_ids()
    if members is not None:
        return Q(**{f"{person_field}_id__in": members})
    return Q(**{f"{person_field}__isnull": False})


# --- The rows of each figure --------------------------------------------------------------------


def rows_received(scope, period: Period | Window) -> QuerySet:
    """Leads received: for a rep, first assigned to them; for a team, the team's leads."""
    return Lead.objects.filter(_lead_scope_q(scope, "received_by", period), received_q(period))


def rows_contacted(scope, period: Period | Window) -> QuerySet:
    return rows_received(scope, period).filter(first_contacted_at__isnull=False)


def rows_never_contacted(scope, period: Period | Window) -> QuerySet:
    return rows_received(scope, period).filter(first_contacted_at__isnull=True)


def rows_speed_to_lead(scope, period: Period | Window) -> QuerySet:
    """The contacted leads the percentiles are taken over, slowest first, each with
    `minutes_to_first_contact`."""
    return (
        rows_contacted(scope, period)
        .annotate(
            minutes_to_first_contact=time_to_first_contact_minutes(),
            wall_minutes_to_first_contact=wall_minutes_to_first_contact(),
        )
        .order_by(F("minutes_to_first_contact").desc(nulls_last=True), "id")
    )


def rows_follow_ups_due(scope, period: Period | Window) -> QuerySet:
    """Follow-ups of the scope due in the period, cancelled ones left out (decided or not yet)."""
    return FollowUp.objects.filter(_people_scope_q(scope, "owner", period), follow_up_due_q(period))


def rows_follow_ups_decided(scope, period: Period | Window, now: datetime) -> QuerySet:
    """The follow-ups compliance is judged on, each with `kept` (True: on time; False: missed)."""
    on_time = follow_up_on_time_q()
    return (
        rows_follow_ups_due(scope, period)
        .filter(on_time | follow_up_missed_q(now))
        .annotate(kept=ExpressionWrapper(on_time, output_field=BooleanField()))
        .order_by("due_at", "id")
    )


def rows_activities(scope, period: Period | Window, kind: str | None = None) -> QuerySet:
    """Entries logged by the scope's people in the period (one kind, or every loggable kind)."""
    qs = Activity.objects.filter(_people_scope_q(scope, "actor", period), activity_counted_q(period))
    return qs.filter(kind=kind) if kind else qs


def rows_closed(scope, period: Period | Window) -> QuerySet:
    """Leads closed in the period: a rep's by owner at close, a team's by team."""
    return Lead.objects.filter(_lead_scope_q(scope, "owner", period), closed_q(period))


def rows_won(scope, period: Period | Window) -> QuerySet:
    return rows_closed(scope, period).filter(stage=Lead.Stage.WON)


def rows_saved(scope, period: Period | Window) -> QuerySet:
    """Leads whose first contact in the period was made by the scope's people, who had not received them."""
    return Lead.objects.filter(_people_scope_q(scope, "first_contacted_by", period), saved_q(period))
