"""My day's rows written in Python: the rep's home and My day show up to 40 and 100 of them.

Through a template include per row (a dozen variables, two filters, three URL tags, an `if` per
section) a row cost about 70 µs, a third of My day's time and an eighth of the rep's home
(issue 16). Here a row is one format string, as the dashboards' rows are (leads.reports.table):
the dates written by the shared filters in the reader's zone (the caller renders inside the page's
`{% timezone %}`), every name and attribute escaped, the addresses filled in from
`accountability.templatetags.row_urls`. A row whose quick log was refused keeps the form with the
user's input and the errors, from the same template as when it is opened
(leads/includes/quick_log_form.html).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accountability.templatetags.formatting import _timesince, moment
from accountability.templatetags.row_urls import row_url

ROW = (
    '<div class="border-top py-2" data-testid="day-row" data-lead="{pk}">'
    '<div class="d-flex flex-wrap justify-content-between gap-2"><div>'
    '<a class="fw-semibold" href="{url}">{name}</a>{company}'
    '<div class="small text-muted">{contact}{when} · {stage}</div>'
    "</div>{action}</div>{errors}</div>"
)
LOG_BUTTON = (
    '<a class="btn btn-sm btn-outline-primary align-self-start" role="button" data-testid="quick-log-open" '
    'href="{url}" hx-get="{form_url}" hx-target="this" hx-swap="outerHTML">Log</a>'
)
QUEUE_ROW = (
    '<tr data-testid="queue-row"><td><a href="{url}">{name}</a>{company}</td>'
    '<td class="small text-muted">{team} · arrived {since} ago</td>'
    '<td class="text-end"><form method="post" action="{claim}" hx-post="{claim}" hx-target="#my-day-sections" '
    'hx-swap="outerHTML">{csrf}<button class="btn btn-sm btn-outline-primary" type="submit">Claim</button>'
    "</form></td></tr>"
)


def log_button(lead) -> SafeString:
    """A row's "Log" button: it fetches the quick-log form (leads:quick-log-form) and is replaced by
    it; without JavaScript the link opens the lead page's log form. Cancel puts it back."""
    detail, form = row_url("leads:lead-detail", lead.pk), row_url("leads:quick-log-form", lead.pk)
    return mark_safe(LOG_BUTTON.format(url=detail, form_url=form))  # noqa: S308 - two addresses of ours


def _company(lead) -> str:
    return f' <span class="text-muted">· {escape(lead.company)}</span>' if lead.company else ""


def _when(lead, key: str, now) -> str:
    if key == "untouched":
        return f"arrived {_timesince(lead.arrived_at, now)} ago"
    due = lead.next_follow_up_at
    if key == "overdue":
        return f'<span class="text-danger">due {moment(due, "weekday-short")} ({_timesince(due, now)} ago)</span>'
    return f"due {moment(due, 'time')}"


def day_rows(
    leads: Iterable,
    key: str,
    *,
    now,
    error_lead_id=None,
    error_form=None,
    quick_log_form: Callable[[object], str] | None = None,
) -> SafeString:
    """The rows of one My day section ("untouched", "overdue" or "today"), in the order given."""
    out = []
    for lead in leads:
        pk = lead.pk
        detail = row_url("leads:lead-detail", pk)
        contact = ""
        if lead.phone:
            phone = escape(lead.phone)
            contact += f'<a href="tel:{phone}">{phone}</a> · '
        if lead.email:
            email = escape(lead.email)
            contact += f'<a href="mailto:{email}">{email}</a> · '
        errors = ""
        if error_lead_id == pk and quick_log_form is not None:
            action = quick_log_form(lead)
            messages = "".join(f"{escape(e)} " for field_errors in error_form.errors.values() for e in field_errors)
            errors = (
                '<div class="alert alert-danger py-1 px-2 small mt-2 mb-0" role="alert" '
                f'data-testid="quick-log-errors">{messages}</div>'
            )
        else:
            action = log_button(lead)
        out.append(
            ROW.format(
                pk=pk,
                url=detail,
                name=escape(lead.name),
                company=_company(lead),
                contact=contact,
                when=_when(lead, key, now),
                stage=escape(lead.get_stage_display()),
                action=action,
                errors=errors,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or ours


def queue_rows(leads: Iterable, *, now, csrf_input: str) -> SafeString:
    """The team's unassigned queue: each lead with its team, its wait and its Claim form."""
    out = []
    for lead in leads:
        claim = row_url("leads:lead-claim", lead.pk)
        out.append(
            QUEUE_ROW.format(
                url=row_url("leads:lead-detail", lead.pk),
                name=escape(lead.name),
                company=_company(lead),
                team=escape(lead.team.name),
                since=_timesince(lead.arrived_at, now),
                claim=claim,
                csrf=csrf_input,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped or ours
