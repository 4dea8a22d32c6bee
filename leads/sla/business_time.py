"""Business-time arithmetic: SLA clocks only run while a team is open.

A `Calendar` is a team's opening hours per weekday (local wall-clock minutes, close may be
24:00), its time zone and its holidays. Business minutes are *elapsed* minutes inside an
opening window, so on the night clocks go forward a window 01:00-04:00 lasts two hours, not
three. All inputs and outputs are timezone-aware datetimes; results are returned in UTC.

Pure functions, no database: the sweep builds one Calendar per policy and team and calls
`add_business_minutes` for each due time.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

UTC = dt.UTC
MINUTES_PER_DAY = 24 * 60
# A calendar that opens at least once a year always finds the next window well within this;
# the bound only stops a calendar with no open day at all from looping for ever.
_MAX_DAYS = 800


@dataclass(frozen=True)
class Calendar:
    """Opening hours in a time zone. `hours[weekday]` (0 = Monday) is a list of
    (open_minute, close_minute) pairs of local wall-clock minutes since midnight,
    0 <= open < close <= 1440. A weekday missing from `hours` is closed."""

    time_zone: str = "UTC"
    hours: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    # Windows per local date, computed once: a sweep asks the same few days for thousands of leads.
    _windows: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> Calendar:
        return cls(time_zone=time_zone, hours=dict.fromkeys(range(7), ((0, MINUTES_PER_DAY),)))

    @classmethod
    def build(
        cls, *, time_zone: str, windows: Iterable[tuple[int, int, int]], holidays: Iterable[dt.date] = ()
    ) -> Calendar:
        """From (weekday, open_minute, close_minute) rows."""
        hours: dict[int, list[tuple[int, int]]] = {}
        for weekday, opens, closes in windows:
            hours.setdefault(weekday, []).append((opens, closes))
        return cls(
            time_zone=time_zone,
            hours={day: tuple(sorted(spans)) for day, spans in hours.items()},
            holidays=frozenset(holidays),
        )

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_ever_open(self) -> bool:
        return any(spans for spans in self.hours.values())

    def windows_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The opening windows of one local date, as UTC datetimes (none on a holiday)."""
        cached = self._windows.get(day)
        if cached is not None:
            return cached
        self._windows[day] = result = self._compute_windows(day)
        return result

    def _compute_windows(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if day in self.holidays:
            return []
        tz = self.tz
        result = []
        for opens, closes in self.hours.get(day.weekday(), ()):
            start = _local_minute(day, opens, tz)
            end = _local_minute(day, closes, tz)
            if end > start:
                result.append((start, end))
        return result


def _local_minute(day: dt.date, minute: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant of a local wall-clock minute of a day, in UTC. 1440 is next midnight."""
    if minute >= MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=1), minute - MINUTES_PER_DAY
    naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    # fold=0: PEP 495 reads a skipped wall time with the offset before the change (02:30 on
    # the spring-forward night is 03:30 summer time) and an ambiguous one as its first occurrence.
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _days_from(start: dt.datetime, calendar: Calendar):
    # Start one local day early so a window that began yesterday and is still open (a night
    # shift closing at 24:00 of yesterday is today's midnight) is not missed.
    day = start.astimezone(calendar.tz).date() - dt.timedelta(days=1)
    for _ in range(_MAX_DAYS):
        yield day
        day += dt.timedelta(days=1)


def add_business_minutes(start: dt.datetime, minutes: float, calendar: Calendar) -> dt.datetime:
    """The instant `minutes` business minutes after `start`.

    Starting outside opening hours, the clock starts at the next opening. With 0 minutes the
    answer is `start` itself when open, else the next opening. A calendar that is never open
    counts wall-clock time (a misconfigured calendar must not silence every SLA).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC)
    if not calendar.is_ever_open:
        return start + dt.timedelta(minutes=minutes)
    remaining = dt.timedelta(minutes=minutes)
    for day in _days_from(start, calendar):
        for window_start, window_end in calendar.windows_on(day):
            if window_end <= start:
                continue
            cursor = max(start, window_start)
            available = window_end - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            start = window_end
    raise ValueError("the calendar has no opening within two years")


def next_opening(start: dt.datetime, calendar: Calendar) -> dt.datetime:
    """`start` when open, else the next instant the calendar opens."""
    return add_business_minutes(start, 0, calendar)


def business_minutes_between(start: dt.datetime, end: dt.datetime, calendar: Calendar) -> float:
    """Business minutes elapsed from `start` to `end` (0 when end <= start)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    if not calendar.is_ever_open:
        return (end - start).total_seconds() / 60
    total = dt.timedelta()
    for day in _days_from(start, calendar):
        for window_start, window_end in calendar.windows_on(day):
            lo, hi = max(start, window_start), min(end, window_end)
            if hi > lo:
                total += hi - lo
        if _local_minute(day + dt.timedelta(days=1), 0, calendar.tz) >= end:
            # Windows of later days all start after `end`.
            break
    return total.total_seconds() / 60


def is_open(at: dt.datetime, calendar: Calendar) -> bool:
    at = at.astimezone(UTC)
    day = at.astimezone(calendar.tz).date()
    return any(s <= at < e for d in (day - dt.timedelta(days=1), day) for s, e in calendar.windows_on(d))


def format_minutes(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_hhmm(raw: str) -> int:
    """'09:30' -> 570; '24:00' -> 1440. Raises ValueError with a readable message."""
    raw = (raw or "").strip()
    try:
        hours_text, minutes_text = raw.split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError:
        raise ValueError(f"“{raw}” is not a time such as 09:00.") from None
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise ValueError(f"“{raw}” is not a time between 00:00 and 24:00.")
    return hours * 60 + minutes
