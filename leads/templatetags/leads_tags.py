from django import template
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import escape

from accountability.scoping import managed_team_ids
from leads.day_rows import day_rows, log_button, queue_rows
from leads.list_rows import lead_rows
from leads.metrics import pagecache
from leads.models import Lead
from leads.selectors import my_day_context
from leads.services import OUTCOME_LABELS

register = template.Library()

HOME_SECTION_CAP = 10


@register.filter
def stage_label(value: str) -> str:
    try:
        return Lead.Stage(value).label
    except ValueError:
        return value


@register.filter
def outcome_label(value: str) -> str:
    return OUTCOME_LABELS.get(value, value)


@register.filter
def channel_label(value: str) -> str:
    try:
        return Lead.Channel(value).label
    except ValueError:
        return value


@register.filter
def select_options(field) -> str:
    """The <option>s of one of the lead list's filter selects (LeadFilterForm.select_options)."""
    return field.form.select_options(field.name)


@register.inclusion_tag("leads/includes/my_day_panel.html", takes_context=True)
def rep_leads_panel(context):
    """My day on the rep's home page: the same sections and one-click logging (3 queries), the
    HOME_SECTION_CAP most urgent rows of each (My day itself shows MY_DAY_SECTION_CAP): the home
    page is My day plus the goals, expectations and 1:1 panels, and rendering 77 rows made it serve
    0.41 of the ceiling page under load (issue 16)."""
    request = context["request"]
    return {
        **my_day_context(request.user),
        "section_cap": HOME_SECTION_CAP,
        "request": request,
        "user": request.user,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("leads/includes/manager_panel.html", takes_context=True)
def manager_leads_panel(context):
    """Untouched, overdue and queued leads across the manager's teams, in one aggregate query,
    kept per team set at the leads' data version and the minute (leads.metrics.pagecache): the
    aggregate reads every open lead of the teams (2.5 ms for 2,500 of them, the manager's home
    page's costliest query), the version is three index look-ups. A follow-up falling overdue
    with no write shows at the next minute."""
    user = context["request"].user
    team_ids = tuple(sorted(managed_team_ids(user)))

    def count():
        open_ = Q(stage__in=Lead.OPEN_STAGES)
        return Lead.objects.filter(open_, team_id__in=team_ids).aggregate(
            untouched=Count("id", filter=Q(first_contacted_at__isnull=True, owner__isnull=False)),
            overdue=Count("id", filter=Q(next_follow_up_at__lt=timezone.now())),
            queued=Count("id", filter=Q(owner__isnull=True)),
            open=Count("id"),
        )

    return {"counts": pagecache.cached("manager_lead_counts", team_ids, count, rollup=False)}


@register.simple_tag(takes_context=True)
def my_day_rows(context, leads, key):
    """One My day section's rows, up to the page's cap (leads.day_rows): written in Python."""
    error_lead_id = context.get("error_lead_id")

    def quick_log_form(lead):
        template = context.template.engine.get_template("leads/includes/quick_log_form.html")
        with context.push(lead=lead, log_form=context.get("error_form")):
            return template.render(context)

    return day_rows(
        leads[: context["section_cap"]],
        key,
        now=context["now"],
        error_lead_id=error_lead_id,
        error_form=context.get("error_form"),
        quick_log_form=quick_log_form,
    )


@register.simple_tag(takes_context=True)
def my_day_queue_rows(context, leads):
    """The team queue's rows, up to the page's cap, each with its Claim form."""
    token = context.get("csrf_token")
    csrf_input = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token))}">'
        if token and token != "NOTPROVIDED"
        else ""
    )
    return queue_rows(leads[: context["section_cap"]], now=context["now"], csrf_input=csrf_input)


@register.simple_tag
def quick_log_button(lead):
    """The "Log" button of a My day row (what Cancel on an open quick log puts back)."""
    return log_button(lead)


@register.simple_tag(takes_context=True)
def lead_list_rows(context, leads):
    """A page of the lead list's rows (leads.list_rows), written in Python."""
    return lead_rows(leads, now=context["now"])
