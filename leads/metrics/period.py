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

    def filter(self, field_name: str) -> Q:
        """`Lead.objects.filter(period.filter("arrived_at"))`: the field in [start, end)."""
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})

    def __str__(self) -> str:
        last = (self.end - timedelta(microseconds=1)).astimezone(self.start.tzinfo)
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"
