"""Trends and SLA counts: figures per week or month read from the daily rollup, and breaches and
escalations per person for a period.

`rep_trends` reads only leads.models.RepDay (closed days, up to yesterday): two queries whatever
the number of people and buckets, so a quarter's trend costs what a day's does. A day not rolled
up yet counts as nothing in its bucket; the figures of a period with today in it come from
`rep_scorecards` (rollup plus raw rows), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from leads.metrics import closedcache
from leads.metrics.catalogue import Scorecard, _round
from leads.metrics.period import Period
from leads.models import RepDay
from leads.sla.models import SlaNotice

WEEKS = "weeks"
MONTHS = "months"


@dataclass(frozen=True)
class Bucket:
    start: date  # a Monday, or the first of a month
    end: date  # exclusive
    label: str


def trend_buckets(kind: str, *, today: date, count: int | None = None) -> list[Bucket]:
    """The last 8 weeks (Monday to Sunday) or 6 calendar months, the current one included."""
    buckets = []
    if kind == MONTHS:
        first = today.replace(day=1)
        for _ in range(count or 6):
            following = (first + timedelta(days=32)).replace(day=1)
            buckets.append(Bucket(first, following, first.strftime("%b %Y")))
            first = (first - timedelta(days=1)).replace(day=1)
    else:
        monday = today - timedelta(days=today.weekday())
        for _ in range(count or 8):
            buckets.append(Bucket(monday, monday + timedelta(days=7), monday.strftime("%d %b")))
            monday -= timedelta(days=7)
    return list(reversed(buckets))


def rep_trends(
    *, users, kind: str = WEEKS, today: date | None = None
) -> tuple[list[Bucket], dict[int, list[Scorecard]]]:
    """Per person, one Scorecard per bucket (oldest first) from the rollup: two queries (the sums,
    then the speed-to-lead percentiles over the rows' minute values). `neglected` is a current
    state and stays 0 here."""
    today = today or timezone.localdate()
    buckets = trend_buckets(kind, today=today)
    user_ids = [u if isinstance(u, int) else u.pk for u in users]
    if not user_ids:
        return buckets, {}
    if connection.vendor == "postgresql":
        # Rollup rows only: cached per rollup version (leads.metrics.closedcache).
        series = closedcache.cached(
            "trends", (kind, today.isoformat(), tuple(user_ids)), lambda: _series(buckets, kind, user_ids)
        )
        return buckets, series
    return buckets, _series(buckets, kind, user_ids)


def _series(buckets: list[Bucket], kind: str, user_ids: list[int]) -> dict[int, list[Scorecard]]:
    series = {uid: [Scorecard() for _ in buckets] for uid in user_ids}
    index = {b.start: i for i, b in enumerate(buckets)}
    trunc = TruncMonth("day") if kind == MONTHS else TruncWeek("day")
    rows = (
        RepDay.objects.filter(user_id__in=user_ids, day__gte=buckets[0].start, day__lt=buckets[-1].end)
        .annotate(bucket=trunc)
        .values("user_id", "bucket")
        .annotate(
            received=Sum("received"),
            contacted=Sum("contacted"),
            kept=Sum("follow_ups_kept"),
            missed=Sum("follow_ups_missed"),
            calls=Sum("calls"),
            emails=Sum("emails"),
            meetings=Sum("meetings"),
            sms=Sum("sms"),
            notes=Sum("notes"),
            won=Sum("won"),
            lost=Sum("lost"),
            value_won=Sum("value_won"),
            saved=Sum("saved"),
        )
    )
    for r in rows:
        i = index.get(_as_date(r["bucket"]))
        if i is None:
            continue
        card = series[r["user_id"]][i]
        card.leads_received, card.leads_contacted = r["received"], r["contacted"]
        card.follow_ups_on_time, card.follow_ups_missed = r["kept"], r["missed"]
        card.activities_by_kind = {
            "call": r["calls"],
            "email": r["emails"],
            "meeting": r["meetings"],
            "sms": r["sms"],
            "note": r["notes"],
        }
        card.deals_won, card.deals_lost = r["won"], r["lost"]
        card.value_won = r["value_won"] or Decimal("0.00")
        card.saved = r["saved"]
    if connection.vendor == "postgresql":
        unit = "month" if kind == MONTHS else "week"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.user_id, date_trunc('{unit}', r.day)::date, "  # noqa: S608 (unit is one of two constants)
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY e.m), percentile_cont(0.9) WITHIN GROUP (ORDER BY e.m) "
                "FROM leads_repday r CROSS JOIN LATERAL unnest(r.first_contact_minutes) AS e(m) "
                "WHERE r.user_id = ANY(%s) AND r.day >= %s AND r.day < %s GROUP BY 1, 2",
                [user_ids, buckets[0].start, buckets[-1].end],
            )
            for user_id, bucket, median, p90 in cursor.fetchall():
                i = index.get(bucket)
                if i is not None:
                    series[user_id][i].speed_to_lead_median = _round(median)
                    series[user_id][i].speed_to_lead_p90 = _round(p90)
    return series


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def sla_counts_by_user(*, period: Period, users) -> dict[int, tuple[int, int]]:
    """(breaches, escalations) per person in the period: overdue notices sent to them as the
    owner, and escalations of those same clocks to a manager (the rollup's attribution). One query:
    SLA notices are few, so raw rows are cheap."""
    user_ids = [u if isinstance(u, int) else u.pk for u in users]
    owner_then = SlaNotice.objects.filter(clock_id=OuterRef("clock_id"), step=SlaNotice.Step.OVERDUE).values(
        "recipient_id"
    )[:1]
    rows = (
        SlaNotice.objects.filter(
            state=SlaNotice.State.SENT,
            step__in=[SlaNotice.Step.OVERDUE, SlaNotice.Step.ESCALATION_1],
            finished_at__gte=period.start,
            finished_at__lt=period.end,
        )
        .annotate(rep=Subquery(owner_then))
        .filter(rep__in=user_ids)
        .values("rep")
        .annotate(
            breaches=Count("id", filter=Q(step=SlaNotice.Step.OVERDUE)),
            escalations=Count("id", filter=Q(step=SlaNotice.Step.ESCALATION_1)),
        )
    )
    return {r["rep"]: (r["breaches"], r["escalations"]) for r in rows}
