"""Reports: the team dashboard ("My numbers" for a rep) and the neglected leads report.

Both read through leads.metrics and leads_visible_to; a team or owner outside what the user
may see is a 404 (never revealing whether it exists).
"""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accountability.scoping import descendant_team_ids, teams_visible_to, users_visible_to
from accountability.timezones import figures_time_zone
from leads.metrics import neglect_silent_days, neglect_untouched_hours, rep_scorecards, team_scorecards
from leads.reports.forms import NeglectedFilterForm, PeriodForm
from leads.reports.selectors import neglected_leads, report_teams_for, team_reps

PAGE_SIZE = 50


def _int_or_404(raw: str):
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Http404("No such team.") from None


@login_required
@require_GET
def dashboard(request):
    """Per-rep figures for a period. Managers pick one of their teams, admins any team; a rep
    (or a manager of no team) sees the same row about themselves: "My numbers"."""
    user = request.user
    form = PeriodForm(request.GET or None)
    teams = list(report_teams_for(user)) if (user.is_admin or user.is_manager) else []
    team = None
    if request.GET.get("team"):
        team_id = _int_or_404(request.GET["team"])
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise Http404("No such team.")
    elif teams:
        # Default: the highest team the user manages (for a head of sales, the whole department).
        managed = {t.pk for t in teams}
        team = next((t for t in teams if t.parent_id not in managed), teams[0])

    tz = figures_time_zone(user, team)
    period = form.to_period(tz) if form.is_bound and form.is_valid() else PeriodForm().to_period(tz)
    now = timezone.now()
    if team is not None:
        team_ids = descendant_team_ids([team.pk])
        reps = list(team_reps(team_ids))
        cards, total = team_scorecards(period=period, team_ids=team_ids, users=reps, now=now)
        rows = [(rep, cards[rep.pk]) for rep in reps]
    else:
        rows = [(user, rep_scorecards(period=period, users=[user], now=now)[user.pk])]
        total = None
    return render(
        request,
        "leads/reports/dashboard.html",
        {
            "form": form or PeriodForm(),
            "teams": teams,
            "team": team,
            "period": period,
            "rows": rows,
            "total": total,
            "my_numbers": team is None,
            # For links to the lead list behind a figure (its arrived_from / arrived_to filters).
            # ISO strings, formatted once: each of 100 rows links with them (a |date filter per
            # link cost a few ms per page).
            "period_from": period.start.date().isoformat(),
            "period_to": (period.end - timedelta(microseconds=1)).astimezone(period.start.tzinfo).date().isoformat(),
            "untouched_hours": neglect_untouched_hours(),
            "silent_days": neglect_silent_days(),
        },
    )


@login_required
@require_GET
def neglected(request):
    """Open leads never contacted, overdue or silent, with their owner, longest first.

    Managers and admins filter by team, owner, reason and thresholds; a rep sees their own."""
    user = request.user
    form = NeglectedFilterForm(request.GET or None)
    is_rep_view = not (user.is_admin or user.is_manager)
    teams = [] if is_rep_view else list(teams_visible_to(user).order_by("name"))
    owners = [] if is_rep_view else list(users_visible_to(user).order_by("first_name", "last_name", "username"))
    hours, days = neglect_untouched_hours(), neglect_silent_days()
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        hours = data["hours"] or hours
        days = data["days"] or days
        filters["reason"] = data["reason"]
        if data["team"] is not None:
            if data["team"] not in {t.pk for t in teams}:
                raise Http404("No such team.")
            filters["team_ids"] = descendant_team_ids([data["team"]])
        if data["owner"] == "queue":
            filters["queue"] = True
        elif data["owner"]:
            owner_id = int(data["owner"])
            if owner_id != user.pk and owner_id not in {o.pk for o in owners}:
                raise Http404("No such person.")
            filters["owner_id"] = owner_id
    valid = not form.is_bound or form.is_valid()
    now = timezone.now()
    page = None
    if valid:
        qs = neglected_leads(user, now=now, hours=hours, days=days, **filters)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "leads/reports/neglected.html",
        {
            "form": form,
            "teams": teams,
            "owners": owners,
            "is_rep_view": is_rep_view,
            "page": page,
            "now": now,
            "hours": hours,
            "days": days,
            "selected": {
                "team": request.GET.get("team", ""),
                "owner": request.GET.get("owner", ""),
                "reason": request.GET.get("reason", ""),
            },
            "query_base": params.urlencode(),
        },
    )
