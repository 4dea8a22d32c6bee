from django import template
from django.conf import settings
from django.utils import timezone

from leads.sla.models import SlaClock
from leads.sla.selectors import (
    PolicyBook,
    current_plan,
    escalation_rows,
    lead_open_clock,
    lead_sla_history,
    policy_versions_for_panel,
)
from leads.sla.wording import local_text

register = template.Library()


@register.inclusion_tag("sla/includes/manager_panel.html", takes_context=True)
def manager_escalations(context):
    """The manager's "escalated, act now" list on their home page: the 10 most recent, with
    one-click reassign. Constant queries: scoping (2, cached per request), escalations, members."""
    request = context["request"]
    user = request.user
    if not (user.is_authenticated and (user.is_manager or user.is_admin)):
        return {"show": False}
    return {"show": True, "rows": escalation_rows(user, limit=10), "request": request}


@register.inclusion_tag("sla/includes/lead_panel_body.html")
def sla_lead_panel(lead):
    """Which policy applies to the lead, its due time and why, and what was sent."""
    book = PolicyBook.for_page()
    policy = book.policy_for(lead.team_id)
    # The team's zone, labelled wherever shown (local_text adds the abbreviation); times that
    # are not about the team's hours (the history) render in the viewer's active zone.
    tz = book.teams[lead.team_id].time_zone if lead.team_id in book.teams else settings.TIME_ZONE
    clock = lead_open_clock(lead)
    plan = None
    if clock is None or not lead.is_open:
        plan = current_plan(book, lead)
    now = timezone.now()
    due_at = clock.due_at if clock else (plan.due_at if plan else None)
    applied, newer = policy_versions_for_panel(book, clock, policy)
    return {
        "lead": lead,
        "applied": applied,
        "newer": newer,
        "time_zone": tz,
        "clock": clock,
        "plan": plan,
        "explanation": clock.explanation if clock else (plan.explanation if plan else ""),
        "due_text": local_text(due_at, tz) if due_at else "",
        "overdue": bool(due_at and due_at <= now),
        "next_text": local_text(clock.next_at, tz) if clock and clock.next_at else "",
        "escalated_text": local_text(clock.escalated_at, tz) if clock and clock.escalated_at else "",
        "history": lead_sla_history(lead),
        "kinds": SlaClock.Kind,
    }
