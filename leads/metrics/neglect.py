"""When a lead counts as neglected (the neglected report and the neglected counts share it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead

NEGLECT_UNTOUCHED_HOURS = 24
NEGLECT_SILENT_DAYS = 7


def neglect_condition(
    now: datetime | None = None, *, untouched_hours: int | None = None, silent_days: int | None = None, prefix=""
) -> Q:
    """Lead filter: open and (never contacted after N hours, or follow-up overdue, or silent D days)."""
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
