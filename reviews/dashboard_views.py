"""The review dashboard (a manager's teams at a glance) and the rep page (one rep over time).

Thin views over reviews.dashboard. Scoping: a team outside what the user may see is a 404, and
so is a rep page of anyone outside users_visible_to (a rep sees only their own page: exactly
what their manager sees about them).
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from accountability.scoping import get_visible_or_404, managed_teams, users_visible_to
from accountability.templatetags.formatting import day, timesince
from accountability.timezones import figures_time_zone
from goals.selectors import goals_for_rep_page
from leads.reports.forms import PeriodForm
from reviews import dashboard as data
from reviews import drift
from reviews.models import DriftFlag

TREND_CHOICES = [(data.WEEKS, "Last 8 weeks"), (data.MONTHS, "Last 6 months")]
# The header cells after the KPIs: (sort key, label, title).
OTHER_HEADERS = [
    ("goals", "Goals at risk", "Running goals at risk or behind"),
    ("open_escalations", "Open escalations", "Escalated and not handled yet"),
    ("breaches", "Breaches", "Follow-ups or first contacts that went overdue in the period"),
    ("commitments", "Commitments", "Commitments kept this month (done / made)"),
    ("acknowledged", "Expectations read", "Current expectations documents acknowledged"),
    ("action_items", "Action items", "Open (overdue) action items"),
    ("last_one_on_one", "Last 1:1", ""),
    ("next_one_on_one", "Next 1:1", ""),
    ("last_recognition", "Last recognition", ""),
    ("flags", "Flags", "Open early flags of drift"),
]


def _goal_badges(goals, goal_url: str) -> str:
    if not goals:
        return '<span class="text-muted">—</span>'
    return "".join(
        f'<a href="{escape(goal_url.format(goal.pk))}" class="badge '
        f'{"text-bg-danger" if goal.pacing == "behind" else "text-bg-warning"} text-decoration-none" '
        f'title="{escape(goal.title)}">{escape(goal.get_pacing_display())}</a> '
        for goal in goals
    )


def row_html(row, *, urls: dict, goal_url: str, today) -> SafeString:
    """One rep's row, written in Python: the same markup the page's template wrote (about 0.4 ms a
    row through its tags and filters; the manager's page was twice the ceiling page's cost)."""
    rep_pk = int(row.rep.pk)
    breaches = (
        f'<a href="{escape(urls["lead_list"])}?owner={rep_pk}&amp;overdue=on">{int(row.breaches)}</a>'
        if row.breaches
        else "0"
    )
    if row.escalations:
        breaches += f' <span class="small text-danger">({int(row.escalations)} esc.)</span>'
    done, made = row.commitments
    commitments = (
        f'<a href="{escape(urls["commitments"])}">{escape(done)}/{escape(made)}</a>'
        if made
        else '<span class="text-muted">—</span>'
    )
    if row.acknowledged is None:
        acknowledged = '<span class="text-muted">—</span>'
    elif row.acknowledged:
        acknowledged = '<span class="text-success">Yes</span>'
    else:
        versions = "".join(f"{escape(v)} " for v in row.unacknowledged)
        acknowledged = (
            f'<a class="text-danger" href="{escape(urls["acknowledgements"])}" title="{versions}">'
            f"No ({len(row.unacknowledged)})</a>"
        )
    if row.open_action_items:
        items = f'<a href="{escape(urls["action_items"])}?rep={rep_pk}">{escape(row.open_action_items)}</a>'
        if row.overdue_action_items:
            items += f' <span class="text-danger small">({escape(row.overdue_action_items)} overdue)</span>'
    else:
        items = "—"
    last_1on1 = (
        f'<a href="{escape(urls["one_on_ones"])}">{escape(timesince(row.last_one_on_one, today))} ago</a>'
        if row.last_one_on_one
        else "—"
    )
    next_1on1 = escape(day(row.next_one_on_one)) if row.next_one_on_one else "—"
    recognition = (
        f'<a href="{escape(row.kudos_url)}">{escape(timesince(row.last_recognition, today))} ago</a>'
        if row.last_recognition
        else "—"
    )
    flags = (
        "".join(
            f'<a href="{escape(row.page_url)}#flag-{int(flag.pk)}" class="badge text-bg-warning text-decoration-none" '
            f'data-testid="flag-badge" title="{escape(flag.reason)}">{escape(flag.get_rule_display())}</a> '
            for flag in row.flags
        )
        or '<span class="text-muted">—</span>'
    )
    escalations = (
        f'<a href="{escape(urls["escalations"])}" class="text-danger">{escape(row.open_escalations)}</a>'
        if row.open_escalations
        else "0"
    )
    return mark_safe(  # noqa: S308 - every value is escaped above or written here
        f'<tr data-testid="review-row" data-rep="{escape(row.rep.username)}">\n'
        f'  <th scope="row"><a href="{escape(row.page_url)}" data-testid="rep-link">{escape(row.rep)}</a></th>\n'
        f"  {''.join(str(cell.td) for cell in row.cells)}\n"
        f'  <td data-figure="goals">{_goal_badges(row.goals_at_risk, goal_url)}</td>\n'
        f'  <td data-figure="open_escalations">{escalations}</td>\n'
        f'  <td data-figure="breaches" title="Overdue notices in the period (escalated: {escape(row.escalations)})">'
        f"{breaches}</td>\n"
        f'  <td data-figure="commitments">{commitments}</td>\n'
        f'  <td data-figure="acknowledged">{acknowledged}</td>\n'
        f'  <td data-figure="action_items">{items}</td>\n'
        f'  <td data-figure="last_one_on_one">{last_1on1}</td>\n'
        f'  <td data-figure="next_one_on_one">{next_1on1}</td>\n'
        f'  <td data-figure="last_recognition">{recognition}</td>\n'
        f'  <td data-figure="flags">{flags}</td>\n'
        "</tr>"
    )


def sort_headers(columns, *, sort: str, query_base: str) -> SafeString:
    """The table's header cells, each a link sorting by its column (again: the other way)."""
    prefix = f"{query_base}&" if query_base else ""
    cells = [("name", "Rep", "")]
    cells += [(c.key, c.label, c.kpi.line() if c.kpi else "") for c in columns]
    cells += OTHER_HEADERS
    return format_html_join(
        "",
        '<th scope="col"{}><a class="text-reset text-decoration-none" data-sort="{}" href="?{}sort={}{}">{}{}</a></th>',
        (
            (
                format_html(' title="{}"', title) if title else "",
                key,
                prefix,
                "-" if sort == key else "",
                key,
                label,
                " ▲" if sort == key else (" ▼" if sort == f"-{key}" else ""),
            )
            for key, label, title in cells
        ),
    )


def _period_and_trend(request, tz):
    form = PeriodForm(request.GET or None)
    period = form.to_period(tz) if form.is_bound and form.is_valid() else PeriodForm().to_period(tz)
    trend = request.GET.get("trend") if request.GET.get("trend") in (data.WEEKS, data.MONTHS) else data.WEEKS
    return form, period, trend


def _period_dates(period):
    return period.start.date(), (period.end - timedelta(microseconds=1)).astimezone(period.start.tzinfo).date()


def _team_and_below(team, teams) -> set[int]:
    """The team and its sub-teams, from the user's managed teams (they hold every sub-team of each
    team they hold): the team tree is not read a second time."""
    children: dict[int | None, list[int]] = {}
    for t in teams:
        children.setdefault(t.parent_id, []).append(t.pk)
    seen, stack = set(), [team.pk]
    while stack:
        team_id = stack.pop()
        if team_id not in seen:
            seen.add(team_id)
            stack.extend(children.get(team_id, []))
    return seen


@login_required
@require_GET
def review_dashboard(request):
    """A row per rep of the chosen team (a head of sales: each team or the whole department)."""
    user = request.user
    teams = list(managed_teams(user)) if (user.is_admin or user.is_manager) else []
    if not teams:
        # A rep (or a manager of no team) has one row: their own, on their rep page.
        return redirect("reviews:rep-page", pk=user.pk)
    team = None
    if request.GET.get("team"):
        try:
            team_id = int(request.GET["team"])
        except ValueError:
            raise Http404("No such team.") from None
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise Http404("No such team.")
    else:
        managed = {t.pk for t in teams}
        team = next((t for t in teams if t.parent_id not in managed), teams[0])
    tz = figures_time_zone(user, team)
    form, period, trend = _period_and_trend(request, tz)
    now = timezone.now()
    period_from, period_to = _period_dates(period)
    urls = {
        "escalations": reverse("sla:escalation-list"),
        "lead_list": reverse("leads:lead-list"),
        "commitments": reverse("goals:commitment-list"),
        "acknowledgements": reverse("expectations:acknowledgement-status"),
        "action_items": reverse("reviews:action-item-list"),
        "one_on_ones": reverse("reviews:one-on-one-list"),
    }
    today = now.astimezone(tz).date()
    goal_url = reverse("goals:goal-detail", args=[2_147_483_647]).replace("2147483647", "{}")

    def finish(dashboard):
        # Each rep's row written once per cached entry, not once per view.
        data.link_cells(dashboard, date_from=period_from, date_to=period_to)
        return {row.rep.pk: row_html(row, urls=urls, goal_url=goal_url, today=today) for row in dashboard.rows}

    dashboard, written = data.cached_dashboard(
        team=team, period=period, trend_kind=trend, now=now, finish=finish, team_ids=_team_and_below(team, teams)
    )
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in data.SORT_KEYS and not sort.lstrip("-").startswith("kpi:"):
        sort = "name"
    rows = data.sort_rows(dashboard.rows, sort)
    params = request.GET.copy()
    params.pop("sort", None)
    return render(
        request,
        "reviews/dashboard.html",
        {
            "form": form,
            "teams": teams,
            "team": team,
            "dashboard": dashboard,
            "rows": rows,
            "sort": sort,
            "query_base": params.urlencode(),
            "sort_headers": sort_headers(dashboard.columns, sort=sort, query_base=params.urlencode()),
            "trend": trend,
            "trend_choices": TREND_CHOICES,
            "period_from": period_from,
            "period_to": period_to,
            "today": today,
            # Reversed once for the page, not once per row.
            "urls": urls,
            "row_html": [written[row.rep.pk] for row in rows],
        },
    )


@login_required
@require_GET
def rep_page(request, pk: int):
    """Every figure of one rep over time, their goals and flags: the same page for the rep and
    for their manager (figures cut in the rep's team zone, whoever looks)."""
    rep = get_visible_or_404(users_visible_to(request.user), pk=pk)
    tz = figures_time_zone(rep)
    form, period, trend = _period_and_trend(request, tz)
    now = timezone.now()
    dashboard = data.build_rep_dashboard(rep=rep, period=period, trend_kind=trend, now=now)
    period_from, period_to = _period_dates(period)
    data.link_cells(dashboard, date_from=period_from, date_to=period_to)
    flags = drift.flags_for_rep_page(request.user, rep)
    return render(
        request,
        "reviews/dashboard_rep.html",
        {
            "rep": rep,
            "form": form,
            "dashboard": dashboard,
            "row": dashboard.rows[0],
            "trend": trend,
            "trend_choices": TREND_CHOICES,
            "goals": list(goals_for_rep_page(rep).filter(owner=rep)[:20]),
            "period_from": period_from,
            "period_to": period_to,
            "today": now.astimezone(tz).date(),
            "is_own_page": rep.pk == request.user.pk,
            "back_url": reverse("reviews:dashboard") if not request.user.is_rep else "",
            "flags": flags,
            "can_act": request.user.pk != rep.pk or request.user.is_admin,
        },
    )


def _flag_for(user, pk: int) -> DriftFlag:
    """A flag of someone this user may see (404 otherwise, never saying which)."""
    return get_visible_or_404(
        DriftFlag.objects.filter(rep__in=users_visible_to(user)).exclude(
            manager_only=True, rep=user if not user.is_admin else None
        ),
        pk=pk,
    )


@login_required
@require_POST
def flag_transition(request, pk: int, action: str):
    """Discuss, resolve or dismiss (with a reason) a flag: one service each; back to the rep page."""
    flag = _flag_for(request.user, pk)
    try:
        if action == "discuss":
            meeting = request.POST.get("meeting", "")
            drift.flag_discuss(actor=request.user, flag=flag, one_on_one_id=int(meeting) if meeting.isdigit() else None)
        elif action == "resolve":
            drift.flag_resolve(actor=request.user, flag=flag)
        elif action == "dismiss":
            drift.flag_dismiss(actor=request.user, flag=flag, reason=request.POST.get("reason", ""))
        else:
            raise Http404("No such action.")
    except PermissionDenied:
        raise
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Flag {flag.get_state_display().lower()}.")
    if action == "discuss" and flag.one_on_one_id:
        return redirect("reviews:meeting-detail", pk=flag.one_on_one_id)
    return redirect(reverse("reviews:rep-page", args=[flag.rep_id]) + f"#flag-{flag.pk}")
