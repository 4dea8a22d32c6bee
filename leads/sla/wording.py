"""How SLA policies and due times are put into words: a leaf module (no models, no queries),
so the models, the selectors, the services and the templates all say it the same way."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from leads.sla.business_time import format_minutes

DASH = "\u2013"  # en dash, as in "Mon\u2013Fri"
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# When no policy exists at all: the model's defaults, Monday to Friday 09:00-17:00.
FALLBACK_HOURS = [(day, 9 * 60, 17 * 60) for day in range(5)]


def duration_text(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def hours_summary(rows) -> str:
    """Like 'Mon-Fri 09:00-17:00' (en dashes), from BusinessHours rows (or (weekday, opens, closes) tuples)."""
    windows = {}
    for row in rows:
        weekday, opens, closes = (row.weekday, row.opens, row.closes) if hasattr(row, "weekday") else row
        windows[weekday] = (opens, closes)
    if not windows:
        return "no business hours set (the clock counts all the time)"
    if len(windows) == 7 and len(set(windows.values())) == 1:
        opens, closes = windows[0]
        return f"every day {format_minutes(opens)}{DASH}{format_minutes(closes)}"
    groups: list[tuple[int, int, tuple[int, int]]] = []
    for day in range(7):
        if day not in windows:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == windows[day]:
            groups[-1] = (groups[-1][0], day, windows[day])
        else:
            groups.append((day, day, windows[day]))
    parts = []
    for first, last, (opens, closes) in groups:
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}{DASH}{DAY_NAMES[last]}"
        parts.append(f"{days} {format_minutes(opens)}{DASH}{format_minutes(closes)}")
    return ", ".join(parts)


def describe_values(values: dict, hours_text: str) -> str:
    on_escalation = {
        "reassign": " On escalation the lead is reassigned to the next available rep of the team.",
        "claim": " On escalation any teammate may claim the lead.",
    }.get(values.get("on_escalation"), "")
    reminder = (
        f"the owner is reminded {duration_text(values['reminder_before_minutes'])} before a follow-up is due"
        if values["reminder_before_minutes"]
        else "there is no reminder before a follow-up is due"
    )
    overdue = (
        "told as soon as it is overdue"
        if not values["overdue_reminder_minutes"]
        else f"told {duration_text(values['overdue_reminder_minutes'])} after it became overdue"
    )
    return (
        f"First contact within {duration_text(values['first_contact_minutes'])} of business time after a lead "
        f"arrives; {reminder}, and {overdue}; an open lead with no follow-up date is overdue "
        f"{duration_text(values['no_follow_up_after_minutes'])} of business time after its last contact. "
        f"A breach is escalated to the team's manager after {duration_text(values['escalation_grace_minutes'])}, "
        f"then to the manager above (up to the head of sales) "
        f"{duration_text(values['second_level_delay_minutes'])} later, in business time.{on_escalation} "
        f"Business hours: {hours_text}, in each team's time zone, except holidays."
    )


def local_text(moment: dt.datetime, time_zone: str, *, with_zone: bool = True) -> str:
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    text = local.strftime("%a %d %b %H:%M")
    return f"{text} {local.tzname()}" if with_zone else text
