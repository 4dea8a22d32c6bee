"""Periods: half-open [start, end) intervals of aware datetimes, built from days in a time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone


def _tz(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return timezone.get_current_timezone()
    if isinstance(tz, str):
        return ZoneInfo(tz or settings.TIME_ZONE)
    return tz


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _day_after(day: date) -> date:
    """The next day; ValueError (not OverflowError) at the calendar's end, like any bad date."""
    try:
        return day + timedelta(days=1)
    except OverflowError:
        raise ValueError("The date is too far in the future.") from None


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
        last = first.replace(day=31) if first.month == 12 else None
        following = _day_after(last) if last else first.replace(month=first.month + 1)
        return cls(_midnight(first, zone), _midnight(following, zone))

    @classmethod
    def between(cls, date_from: date, date_to: date, tz: tzinfo | str | None = None) -> Period:
        """From the start of `date_from` to the end of `date_to` (both days included), in `tz`."""
        if date_to < date_from:
            raise ValueError("The end date is before the start date.")
        zone = _tz(tz)
        return cls(_midnight(date_from, zone), _midnight(_day_after(date_to), zone))

    def filter(self, field_name: str, key: str | None = None) -> Q:
        """`Lead.objects.filter(period.filter("arrived_at"))`: the field in [start, end).

        `key` (the row's person or team column) is ignored: a period is the same for every key.
        It is there so a condition works on a Period and on a Window alike."""
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})

    def __str__(self) -> str:
        last = (self.end - timedelta(microseconds=1)).astimezone(self.start.tzinfo)
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"


class Window:
    """Which instants to read raw rows for, per key (a user id, or a team id for team totals):
    the parts of a period the daily rollup does not cover (leads.metrics.rollup). `intervals`
    maps every key to its half-open [start, end) intervals (possibly none).

    It stands in for a Period in the conditions of leads.metrics.rows: `filter(field_name, key)`
    is the field in the intervals of the row's key (the `key` column: received_by_id, owner_id,
    team_id ...). Its condition names the keys, so a key not in `intervals` has no rows."""

    def __init__(self, period: Period, intervals: dict):
        self.period = period
        self.intervals = intervals

    @property
    def is_empty(self) -> bool:
        return not any(self.intervals.values())

    def filter(self, field_name: str, key: str | None = None) -> Q:
        """Rows whose `field_name` falls in their `key`'s intervals: one OR branch per distinct
        set of intervals (keys in one zone share theirs), so the SQL does not grow with the keys."""
        if key is None:
            raise ValueError("A Window is per key: pass the key column (e.g. key='owner_id').")
        by_intervals: dict[tuple, list] = {}
        for k, spans in self.intervals.items():
            if spans:
                by_intervals.setdefault(tuple(spans), []).append(k)
        condition = Q(pk__in=[])
        for spans, keys in by_intervals.items():
            when = Q(pk__in=[])
            for start, end in spans:
                when |= Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
            condition |= Q(**{f"{key}__in": keys}) & when
        return condition
