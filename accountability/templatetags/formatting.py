"""One way to write numbers, durations, dates and money on every page (a template builtin: no load).

    {{ 80500|figure }}              80,500          thousands separated; decimals only when there are some
    {{ 6.667|figure:2 }}            6.67            (up to 2 decimals; the default is 1)
    {{ 64.5|percent }}              64.5%           one decimal
    {{ 95|duration }}               1.6 h           minutes (or a timedelta): 45 min, 3.5 h, 2.1 d
    {{ 64000|money }}               $64,000         the organisation's currency (setting CURRENCY)
    {{ value|measure:unit }}        by the unit of a metric or goal: "currency" money, "%" percent,
                                    "minutes" duration, anything else a figure
    {{ a_date|day }}                1 Dec 2026      ("short": 1 Dec; "weekday": Tue 1 Dec 2026;
                                                    "weekday-short": Tue 1 Dec)
    {{ a_datetime|moment }}         1 Dec 2026 14:05 in the reader's active time zone
                                    ("short": 1 Dec 14:05; "weekday": Tue 1 Dec 2026 14:05;
                                    "weekday-short": Tue 1 Dec 14:05; "time": 14:05)

    {{ a_datetime|timesince:now }}  2 days, 3 hours  Django's own filter and words, faster (see below)

An undefined number (None) is written "—"; an empty date is "" so `|default:"—"` still works.
Values meant for machines (URL parameters, data attributes, <time datetime>) keep ISO formats.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import avoid_wrapping
from django.utils.timesince import TIME_STRINGS
from django.utils.timesince import timesince as django_timesince
from django.utils.translation import get_language, gettext

register = template.Library()

DASH = "—"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$", "INR": "₹", "CHF": "CHF "}
DAY_FORMATS = {"": "j M Y", "short": "j M", "weekday": "D j M Y", "weekday-short": "D j M"}
MOMENT_FORMATS = {
    "": "j M Y H:i",
    "short": "j M H:i",
    "weekday": "D j M Y H:i",
    "weekday-short": "D j M H:i",
    "time": "H:i",
}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _grouped(number: Decimal, places: int) -> str:
    """Thousands separated, rounded half up to `places` decimals, shown only when not whole."""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) if places else number
    if rounded == rounded.to_integral_value():
        return f"{rounded.to_integral_value(rounding=ROUND_HALF_UP):,f}"
    return f"{rounded:,.{places}f}"


@register.filter
def figure(value, places=1) -> str:
    """A count or a measure: 80,500; 6.7; 1,234.5."""
    number = _decimal(value)
    if number is None:
        return DASH
    return _grouped(number, int(places))


@register.filter
def percent(value, places=1) -> str:
    number = _decimal(value)
    if number is None:
        return DASH
    rounded = number.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    return f"{rounded:,f}%"


@register.filter
def duration(value) -> str:
    """Minutes (or a timedelta) as a person reads them: 45 min, 3.5 h, 2.1 d."""
    if isinstance(value, dt.timedelta):
        value = Decimal(value.total_seconds()) / 60
    minutes = _decimal(value)
    if minutes is None:
        return DASH
    if minutes < 60:
        return f"{_grouped(minutes, 1)} min"
    if minutes < 60 * 24:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 60 / 24:,.1f} d"


def currency_code() -> str:
    return settings.CURRENCY


@register.filter
def money(value) -> str:
    """An amount in the organisation's currency: $64,000; $1,250.50; "SEK 5,000" without a symbol."""
    number = _decimal(value)
    if number is None:
        return DASH
    code = currency_code()
    amount = _grouped(abs(number), 2)
    if "." in amount:  # cents are written in full: $12.50, not $12.5
        amount = f"{abs(number).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,f}"
    sign = "-" if number < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{code} {amount}"


@register.filter
def measure(value, unit="") -> str:
    """A figure written by its unit (a metric's or a goal's): money, percent, duration or a figure."""
    if unit == "currency":
        return money(value)
    if unit == "%":
        return percent(value)
    if unit == "minutes":
        return duration(value)
    return figure(value, 2)


def _local(value):
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


# The written dates, once per (language, format, date): Django's date filter parses the format and
# translates the day and month names on every call, and a page of 50 rows writes 150 moments
# (issue 16). Bounded: cleared when it grows past _DATES_MAX.
_dates: dict[tuple, str] = {}
_DATES_MAX = 4096


def _written_date(value: dt.date, fmt: str) -> str:
    key = (get_language(), fmt, value)
    text = _dates.get(key)
    if text is None:
        if len(_dates) >= _DATES_MAX:
            _dates.clear()
        text = _dates[key] = date_filter(value, fmt)
    return text


@register.filter(expects_localtime=True)
def day(value, style="") -> str:
    """A date (or the date of a datetime, in the active zone): 1 Dec 2026."""
    if value in (None, ""):
        return ""
    value = _local(value)
    fmt = DAY_FORMATS.get(style, DAY_FORMATS[""])
    if isinstance(value, dt.date):
        return _written_date(value.date() if isinstance(value, dt.datetime) else value, fmt)
    return date_filter(value, fmt)


@register.filter(expects_localtime=True)
def moment(value, style="") -> str:
    """A date and time in the reader's active time zone: 1 Dec 2026 14:05."""
    if value in (None, ""):
        return ""
    value = _local(value)
    fmt = MOMENT_FORMATS.get(style, MOMENT_FORMATS[""])
    if isinstance(value, dt.datetime) and fmt.endswith("H:i"):
        # Every format is a date part, a space and the time: the date written once per date.
        time = f"{value.hour:02d}:{value.minute:02d}"
        date_fmt = fmt[:-3].rstrip()  # "j M Y" of "j M Y H:i"; "" for the time alone
        return f"{_written_date(value.date(), date_fmt)} {time}" if date_fmt else time
    return date_filter(value, fmt)


# --- timesince -------------------------------------------------------------------------------------
# Django's `timesince` filter, replaced on every page by this builtin library: the same words and rules
# (django.utils.timesince, depth 2), with the unit words translated, joined and kept from wrapping
# once per (language, unit, number) instead of on every call. Django resolves lazy plural
# translations, a lazy `avoid_wrapping` and a `gettext(", ")` on each use: 90 "arrived ... ago" on
# My day were over a quarter of its rows' rendering (issue 16).
_UNITS = list(TIME_STRINGS)  # year, month, week, day, hour, minute
_CHUNKS = [60 * 60 * 24 * 7, 60 * 60 * 24, 60 * 60, 60]
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_words: dict[tuple, str] = {}


def _unit_words(language: str | None, name: str, number: int) -> str:
    key = (language, name, number)
    text = _words.get(key)
    if text is None:
        text = _words[key] = avoid_wrapping(str(TIME_STRINGS[name] % {"num": number}))
    return text


def _separator(language: str | None) -> str:
    key = (language, ",")
    text = _words.get(key)
    if text is None:
        text = _words[key] = gettext(", ")
    return text


def _timesince(d, now) -> str:
    """django.utils.timesince.timesince(d, now) for datetimes (depth 2), its words cached."""
    language = get_language()
    if now is None:
        now = dt.datetime.now(d.tzinfo if timezone.is_aware(d) else None)
    elif timezone.is_aware(now) and timezone.is_aware(d):
        now = now.astimezone(d.tzinfo)
    delta = now - d
    if delta.days * 24 * 60 * 60 + delta.seconds <= 0:
        return _unit_words(language, "minute", 0)
    total_months = (now.year - d.year) * 12 + (now.month - d.month)
    if d.day > now.day or (d.day == now.day and d.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    if years or months:
        pivot_year, pivot_month = d.year + years, d.month + months
        if pivot_month > 12:
            pivot_month -= 12
            pivot_year += 1
        day_ = min(_MONTH_DAYS[pivot_month - 1], d.day)
        pivot = dt.datetime(pivot_year, pivot_month, day_, d.hour, d.minute, d.second, tzinfo=d.tzinfo)
    else:
        pivot = d
    remaining = (now - pivot).total_seconds()
    partials = [years, months]
    for chunk in _CHUNKS:
        count = int(remaining // chunk)
        partials.append(count)
        remaining -= chunk * count
    i = next((i for i, value in enumerate(partials) if value), None)
    if i is None:
        return _unit_words(language, "minute", 0)
    words = [_unit_words(language, _UNITS[i], partials[i])]
    if i + 1 < len(partials) and partials[i + 1]:
        words.append(_unit_words(language, _UNITS[i + 1], partials[i + 1]))
    return _separator(language).join(words)


@register.filter("timesince", is_safe=False)
def timesince(value, arg=None) -> str:
    """Django's `timesince` filter, same output (see above); dates that are not datetimes go to Django's."""
    if not value:
        return ""
    try:
        if isinstance(value, dt.datetime) and (arg is None or isinstance(arg, dt.datetime)):
            return _timesince(value, arg or None)
        return django_timesince(value, arg) if arg else django_timesince(value)
    except (ValueError, TypeError):
        return ""
