"""One way to write figures, percentages, durations, dates, times and money (issue 9, item 15)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from accountability.templatetags.formatting import day, duration, figure, measure, moment, money, percent


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (80500, 1, "80,500"),
        (Decimal("25000.00"), 1, "25,000"),
        (Decimal("6.6667"), 2, "6.67"),
        (Decimal("6.6667"), 1, "6.7"),
        (Decimal("1234.5"), 1, "1,234.5"),
        (Decimal("2.50"), 2, "2.50"),
        (0, 1, "0"),
        (None, 1, "—"),
    ],
)
def test_figures_have_thousands_separators_and_decimals_only_when_needed(value, places, text):
    assert figure(value, places) == text


def test_percentages():
    assert percent(Decimal("64.45")) == "64.5%"  # half up
    assert percent(100) == "100.0%"
    assert percent(None) == "—"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(45), "45 min"),
        (Decimal("12.5"), "12.5 min"),
        (Decimal(210), "3.5 h"),
        (Decimal(3024), "2.1 d"),
        (dt.timedelta(hours=3, minutes=30), "3.5 h"),
        (None, "—"),
    ],
)
def test_durations_in_minutes_hours_and_days(value, text):
    assert duration(value) == text


def test_money_uses_the_organisations_currency(settings):
    assert money(Decimal("64000.00")) == "$64,000"
    assert money(Decimal("1250.5")) == "$1,250.50"
    settings.CURRENCY = "EUR"
    assert money(80500) == "€80,500"
    settings.CURRENCY = "SEK"
    assert money(5000) == "SEK 5,000"
    assert money(None) == "—"


def test_measure_writes_a_figure_by_its_unit():
    assert measure(Decimal(80500), "currency") == "$80,500"
    assert measure(Decimal("25.0"), "%") == "25.0%"
    assert measure(Decimal(90), "minutes") == "1.5 h"
    assert measure(Decimal("6.666"), "calls") == "6.67"


def test_dates_one_way():
    assert day(dt.date(2026, 12, 1)) == "1 Dec 2026"
    assert day(dt.date(2026, 12, 1), "short") == "1 Dec"
    assert day(dt.date(2026, 12, 1), "weekday") == "Tue 1 Dec 2026"
    assert day(None) == ""


def test_datetimes_are_written_in_the_readers_active_zone():
    moment_utc = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert moment(moment_utc) == "2 Dec 2026 08:30"
        assert moment(moment_utc, "short") == "2 Dec 08:30"
        assert day(moment_utc) == "2 Dec 2026"
    with timezone.override(ZoneInfo("America/New_York")):
        assert moment(moment_utc, "weekday") == "Tue 1 Dec 2026 18:30"


def test_the_filters_load_in_a_template():
    out = Template("{% load formatting %}{{ n|figure }} {{ m|money }} {{ p|percent }}").render(
        Context({"n": 80500, "m": 64000, "p": Decimal("12.34")})
    )
    assert out == "80,500 $64,000 12.3%"


def test_dates_written_once_per_day_still_follow_the_zone_and_the_language():
    """moment and day keep each date's words once written (issue 16): the same instant read in
    another zone falls on another day, and in another language in its words."""
    late = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    with timezone.override(ZoneInfo("UTC")):
        assert moment(late) == "31 Dec 2026 23:30"
        assert moment(late, "time") == "23:30"
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert moment(late) == "1 Jan 2027 08:30"
        assert moment(late, "weekday-short") == "Fri 1 Jan 08:30"
        assert day(late) == "1 Jan 2027"
    with timezone.override(ZoneInfo("UTC")), translation.override("de"):
        assert moment(late) == "31 Dez 2026 23:30"
        assert day(late, "weekday") == "Do 31 Dez 2026"
