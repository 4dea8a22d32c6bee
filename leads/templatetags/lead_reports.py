from decimal import Decimal

from django import template
from django.urls import reverse

register = template.Library()


@register.filter
def minutes_display(value) -> str:
    """Minutes as a person reads them: 45 min, 3.5 h, 2.1 d; an em dash when undefined."""
    if value is None:
        return "—"
    minutes = Decimal(value)
    if minutes < 60:
        return f"{minutes.normalize():f} min" if minutes == minutes.to_integral() else f"{minutes} min"
    if minutes < 60 * 24:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 60 / 24:.1f} d"


@register.filter
def percent_display(value) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def since_display(delta) -> str:
    """A timedelta as '3 d 4 h' or '5 h 10 min'."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {rest // 60} min"


@register.simple_tag
def subtract(a, b):
    return a - b


@register.simple_tag(takes_context=True)
def figure_url(context, figure: str, rep=None) -> str:
    """The page of the rows behind a dashboard figure: the dashboard's team and period, and the rep
    of the row (none for the team total)."""
    query = context.get("drill_query", "")
    if rep is not None:
        query = f"{query}&rep={rep.pk}" if query else f"rep={rep.pk}"
    url = reverse("leads:dashboard-rows", args=[figure])
    return f"{url}?{query}" if query else url
