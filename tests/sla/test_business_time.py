"""Business-time arithmetic, with expected values computed by hand."""

import datetime as dt
import zoneinfo

import pytest

from leads.sla.business_time import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_opening,
    parse_hhmm,
)

NY = zoneinfo.ZoneInfo("America/New_York")
LA = zoneinfo.ZoneInfo("America/Los_Angeles")
LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.UTC

NINE_TO_FIVE = [(day, 9 * 60, 17 * 60) for day in range(5)]  # Monday-Friday


def cal(tz="America/New_York", windows=NINE_TO_FIVE, holidays=()):
    return Calendar.build(time_zone=tz, windows=windows, holidays=holidays)


def local(tz, *args):
    return dt.datetime(*args, tzinfo=tz)


def test_friday_evening_lead_is_due_monday_morning_not_saturday():
    # Friday 20 Nov 2026 18:40 EST: closed until Monday 09:00, + 15 minutes.
    due = add_business_minutes(local(NY, 2026, 11, 20, 18, 40), 15, cal())
    assert due == local(NY, 2026, 11, 23, 9, 15)
    assert due.tzinfo == UTC  # results come back in UTC: 14:15 UTC
    assert due == dt.datetime(2026, 11, 23, 14, 15, tzinfo=UTC)


def test_minutes_left_at_closing_carry_over_to_the_next_morning():
    # Wednesday 16:50: 10 minutes today, 5 tomorrow.
    assert add_business_minutes(local(NY, 2026, 11, 18, 16, 50), 15, cal()) == local(NY, 2026, 11, 19, 9, 5)


def test_holiday_is_skipped():
    thanksgiving = dt.date(2026, 11, 26)
    # Wednesday 16:55: 5 minutes Wednesday, Thursday closed, 25 minutes Friday.
    due = add_business_minutes(local(NY, 2026, 11, 25, 16, 55), 30, cal(holidays=[thanksgiving]))
    assert due == local(NY, 2026, 11, 27, 9, 25)


def test_span_over_several_days():
    # 20 business hours from Monday 09:00 with 8-hour days: Monday, Tuesday, then 4 h Wednesday.
    assert add_business_minutes(local(NY, 2026, 11, 23, 9, 0), 20 * 60, cal()) == local(NY, 2026, 11, 25, 13, 0)


def test_span_over_a_weekend_and_a_holiday():
    # Friday 16:00 + 3 h: 1 h Friday, Monday is a holiday, 2 h Tuesday -> Tuesday 11:00.
    due = add_business_minutes(local(NY, 2026, 11, 20, 16, 0), 180, cal(holidays=[dt.date(2026, 11, 23)]))
    assert due == local(NY, 2026, 11, 24, 11, 0)


def test_same_instant_counts_in_each_teams_own_time_zone():
    arrival = dt.datetime(2026, 11, 23, 16, 50, tzinfo=UTC)  # Monday
    # London (GMT in November): 16:50, 10 minutes left today, 5 tomorrow.
    assert add_business_minutes(arrival, 15, cal("Europe/London")) == local(LONDON, 2026, 11, 24, 9, 5)
    # Los Angeles: 08:50 PST, before opening: 09:00 + 15.
    assert add_business_minutes(arrival, 15, cal("America/Los_Angeles")) == local(LA, 2026, 11, 23, 9, 15)


def test_arrival_before_opening_starts_the_clock_at_opening():
    assert add_business_minutes(local(NY, 2026, 11, 23, 6, 0), 15, cal()) == local(NY, 2026, 11, 23, 9, 15)


def test_zero_minutes_outside_hours_is_the_next_opening():
    assert next_opening(local(NY, 2026, 11, 21, 12, 0), cal()) == local(NY, 2026, 11, 23, 9, 0)
    inside = local(NY, 2026, 11, 23, 10, 0)
    assert next_opening(inside, cal()) == inside


def test_autumn_dst_day_has_25_business_hours_when_open_all_day():
    # New York falls back on Sunday 1 Nov 2026: that local day lasts 25 hours.
    always = Calendar.always_open("America/New_York")
    start, end = local(NY, 2026, 11, 1, 0, 0), local(NY, 2026, 11, 2, 0, 0)
    assert business_minutes_between(start, end, always) == 25 * 60
    # Adding 24 business hours from local midnight lands at 23:00 local, not midnight.
    assert add_business_minutes(start, 24 * 60, always) == local(NY, 2026, 11, 1, 23, 0)


def test_spring_dst_day_has_23_business_hours_when_open_all_day():
    always = Calendar.always_open("America/New_York")
    start, end = local(NY, 2026, 3, 8, 0, 0), local(NY, 2026, 3, 9, 0, 0)
    assert business_minutes_between(start, end, always) == 23 * 60


def test_window_across_the_spring_forward_gap_is_shorter():
    # Open 01:00-04:00 every day; on 8 March 2026 02:00-03:00 does not exist: 2 hours of business.
    night = cal(windows=[(day, 60, 240) for day in range(7)])
    assert business_minutes_between(local(NY, 2026, 3, 8, 0, 0), local(NY, 2026, 3, 8, 12, 0), night) == 120
    # 150 minutes from 01:00 that night: 120 that night + 30 the next -> Monday 01:30.
    assert add_business_minutes(local(NY, 2026, 3, 8, 1, 0), 150, night) == local(NY, 2026, 3, 9, 1, 30)


def test_nine_to_five_across_dst_change_is_still_eight_hours():
    # Friday 30 Oct 16:00 EDT + 2 h: 1 h Friday, Monday 2 Nov (now EST) 09:00 + 1 h.
    due = add_business_minutes(local(NY, 2026, 10, 30, 16, 0), 120, cal())
    assert due == local(NY, 2026, 11, 2, 10, 0)
    assert due == dt.datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_window_closing_at_midnight_continues_after_midnight():
    late = cal(windows=[(0, 22 * 60, 24 * 60), (1, 0, 2 * 60)])  # Monday 22:00-24:00, Tuesday 00:00-02:00
    assert add_business_minutes(local(NY, 2026, 11, 23, 23, 30), 60, late) == local(NY, 2026, 11, 24, 0, 30)


def test_business_minutes_between_counts_only_open_time():
    # Friday 16:00 to Monday 10:00: 1 h Friday + 1 h Monday.
    assert business_minutes_between(local(NY, 2026, 11, 20, 16, 0), local(NY, 2026, 11, 23, 10, 0), cal()) == 120
    assert business_minutes_between(local(NY, 2026, 11, 23, 10, 0), local(NY, 2026, 11, 20, 16, 0), cal()) == 0


def test_is_open():
    assert is_open(local(NY, 2026, 11, 23, 9, 0), cal())
    assert not is_open(local(NY, 2026, 11, 23, 17, 0), cal())
    assert not is_open(local(NY, 2026, 11, 21, 12, 0), cal())


def test_a_calendar_never_open_counts_wall_clock_time():
    never = Calendar(time_zone="UTC", hours={})
    start = dt.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert add_business_minutes(start, 15, never) == start + dt.timedelta(minutes=15)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_minutes(dt.datetime(2026, 11, 23, 9, 0), 15, cal())


@pytest.mark.parametrize(("raw", "minutes"), [("09:00", 540), ("9:30", 570), ("00:00", 0), ("24:00", 1440)])
def test_parse_hhmm(raw, minutes):
    assert parse_hhmm(raw) == minutes


@pytest.mark.parametrize("raw", ["", "9", "25:00", "24:30", "10:60", "ab:cd", "-1:00"])
def test_parse_hhmm_refuses_bad_times(raw):
    with pytest.raises(ValueError):
        parse_hhmm(raw)
