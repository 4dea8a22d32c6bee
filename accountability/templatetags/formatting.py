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


@register.filter(expects_localtime=True)
def day(value, style="") -> str:
    """A date (or the date of a datetime, in the active zone): 1 Dec 2026."""
    if value in (None, ""):
        return ""
    return date_filter(_local(value), DAY_FORMATS.get(style, DAY_FORMATS[""]))


@register.filter(expects_localtime=True)
def moment(value, style="") -> str:
    """A date and time in the reader's active time zone: 1 Dec 2026 14:05."""
    if value in (None, ""):
        return ""
    return date_filter(_local(value), MOMENT_FORMATS.get(style, MOMENT_FORMATS[""]))
