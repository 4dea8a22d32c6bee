from django import template

from accountability.templatetags import formatting

register = template.Library()


# The dashboard's names for the shared filters (accountability/templatetags/formatting.py).
register.filter("minutes_display", formatting.duration)
register.filter("percent_display", formatting.percent)


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
