"""Reports: the team dashboard ("My numbers" for a rep) and the neglected leads report.

Both read through leads.metrics and leads_visible_to; a team or owner outside what the user
may see is a 404 (never revealing whether it exists).
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from accountability.scoping import (
    descendant_team_ids,
    get_visible_or_404,
    managed_teams,
    team_picked,
    team_scope,
    users_visible_to,
)
from accountability.timezones import figures_time_zone
from leads.metrics import (
    FIGURE_ROWS,
    figure_rows,
    neglect_silent_days,
    neglect_untouched_hours,
    pagecache,
    rep_scorecards,
    team_scorecards,
    team_totals,
)
from leads.metrics.rows import follow_up_on_time_q
from leads.reports.forms import NeglectedFilterForm, PeriodForm
from leads.reports.selectors import neglected_page, owner_names, people_choices, sub_team_groups, team_reps
from leads.reports.table import RowWriter, neglected_rows, select_options

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
    teams = list(managed_teams(user)) if (user.is_admin or user.is_manager) else []
    team = team_picked(teams, request.GET.get("team"))
    if team is None and teams:
        # Default: the highest team the user manages (for a head of sales, the whole department).
        managed = {t.pk for t in teams}
        team = next((t for t in teams if t.parent_id not in managed), teams[0])

    tz = figures_time_zone(user, team)
    period = form.to_period(tz) if form.is_bound and form.is_valid() else PeriodForm().to_period(tz)
    now = timezone.now()
    drill_query = _drill_query(form, team)
    writer = RowWriter(drill_query)
    by_team = False
    if team is not None:
        team_ids = descendant_team_ids([team.pk])
        reps = list(team_reps(team_ids))
        groups = sub_team_groups(team, team_ids, reps)
        by_team = groups is not None and bool(groups.sub_teams)
        # The figures and written rows are the same for every reader of this team set and period:
        # cached under the data version and the minute (leads.reports.pagecache).
        key = (
            team.pk,
            tuple(sorted(team_ids)),
            tuple((r.pk, r.first_name, r.last_name, r.username, groups.team_name(r) if by_team else "") for r in reps),
            period.start.isoformat(),
            period.end.isoformat(),
            str(period.start.tzinfo),
            drill_query,
            neglect_untouched_hours(),
            neglect_silent_days(),
        )
        cards, total, table_rows = pagecache.cached(
            "dashboard",
            key,
            lambda: _team_figures(form, team, team_ids, reps, groups, by_team, period, writer, timezone.now()),
        )
        rows = [(rep, cards[rep.pk]) for rep in reps]
        table_rows = [mark_safe(row) for row in table_rows]  # noqa: S308 - written escaped by RowWriter
    else:
        rows = [(user, rep_scorecards(period=period, users=[user], now=now)[user.pk])]
        table_rows = [writer.rep_row(user, rows[0][1])]
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
            "table_rows": table_rows,
            "by_team": by_team,
            "total": total,
            "my_numbers": team is None,
            # For links to the lead list behind a figure (its arrived_from / arrived_to filters).
            # ISO strings, formatted once: each of 100 rows links with them (a |date filter per
            # link cost a few ms per page).
            "period_from": period.start.date().isoformat(),
            "period_to": (period.end - timedelta(microseconds=1)).astimezone(period.start.tzinfo).date().isoformat(),
            "untouched_hours": neglect_untouched_hours(),
            "silent_days": neglect_silent_days(),
            "drill_query": drill_query,
        },
    )


def _figures(team_ids, reps, groups, by_team, period, now):
    """(cards, total, subtotals) of a team: shared with the review dashboard through the cache."""

    def compute():
        cards, total = team_scorecards(period=period, team_ids=team_ids, users=reps, now=now)
        subtotals = {}
        if by_team:
            subtotals = team_totals(
                period=period, teams=groups.trees, members=groups.members, member_cards=cards, now=now
            )
        return cards, total, subtotals

    return pagecache.team_figures(
        period=period, team_ids=team_ids, reps=reps, groups=groups if by_team else None, compute=compute
    )


def _team_figures(form, team, team_ids, reps, groups, by_team, period, writer, now):
    """(cards by rep id, team total, the table's written rows) of a team's dashboard."""
    cards, total, subtotals = _figures(team_ids, reps, groups, by_team, period, now)
    table_rows = []
    if by_team:
        # A head of sales: each rep with their team, then a subtotal per sub-team (#15).
        for sub_team, members in groups.rows():
            for rep in members:
                table_rows.append(writer.rep_row(rep, cards[rep.pk], team_name=groups.team_name(rep)))
            if sub_team is not None:
                table_rows.append(
                    writer.total_row(
                        subtotals[sub_team.pk],
                        label=f"{sub_team.name} subtotal",
                        team_id=sub_team.pk,
                        drill_query=_drill_query(form, sub_team),
                        team_cell="",
                        testid="team-subtotal",
                        css="table-light",
                    )
                )
    else:
        table_rows = [writer.rep_row(rep, cards[rep.pk]) for rep in reps]
    table_rows.append(
        writer.total_row(
            total,
            label="Team total (each lead once, queue included)",
            team_id=team.pk,
            team_cell="" if by_team else None,
        )
    )
    return cards, total, [str(row) for row in table_rows]  # plain strings in the cache


def _drill_query(form: PeriodForm, team) -> str:
    """The query string that opens the rows behind a figure: the same team and period."""
    query = QueryDict(mutable=True)
    if team is not None:
        query["team"] = team.pk
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        query["period"] = data["period"]
        if data["period"] == "custom":
            query["date_from"] = data["date_from"].isoformat()
            query["date_to"] = data["date_to"].isoformat()
    return query.urlencode()


# What each figure's rows are, as its page says it.
FIGURE_TITLES = {
    "received": ("Received", "Leads that arrived in the period, first assigned to the rep (a team: its leads)."),
    "contacted": ("Contacted", "Of the received leads, those contacted at least once, by anyone."),
    "not_contacted": ("Not contacted", "Of the received leads, those never contacted (open or closed)."),
    "speed_to_lead": (
        "Speed to lead",
        "The contacted leads the median and the 90th percentile are taken over, slowest first.",
    ),
    "follow_ups": (
        "Follow-up compliance",
        "Follow-ups due in the period and decided: kept (done by their due time) or missed "
        "(done late, or open past due). Cancelled ones and ones not yet due are left out.",
    ),
    "call": ("Calls", "Calls logged in the period (corrections not counted twice)."),
    "email": ("Emails", "Emails logged in the period (corrections not counted twice)."),
    "meeting": ("Meetings", "Meetings logged in the period (corrections not counted twice)."),
    "sms": ("SMS", "SMS logged in the period (corrections not counted twice)."),
    "note": ("Notes", "Notes written in the period (corrections not counted twice)."),
    "won": ("Won", "Leads won in the period, counted for their owner at close; value won is their sum."),
    "closed": ("Conversion", "Leads closed (won or lost) in the period, counted for their owner at close."),
    "saved": ("Saved", "Leads whose first contact in the period was made by someone who had not received them."),
}
ROWS_PAGE_SIZE = 100


@login_required
@require_GET
def dashboard_rows(request, figure: str):
    """The rows behind one dashboard figure, for the same team or rep and the same period.

    Scoped like the dashboard: a team the user may not open, or a person they may not see,
    is a 404; a rep sees only their own rows. The period is cut in the zone the dashboard used."""
    if figure not in FIGURE_ROWS:
        raise Http404("No such figure.")
    user = request.user
    team = rep = None
    if request.GET.get("team"):
        team = get_visible_or_404(managed_teams(user), pk=_int_or_404(request.GET["team"]))
    if request.GET.get("rep"):
        rep = get_visible_or_404(users_visible_to(user), pk=_int_or_404(request.GET["rep"]))
    elif team is None:
        rep = user  # My numbers
    form = PeriodForm(request.GET or None)
    tz = figures_time_zone(user if team is not None else rep, team)
    period = form.to_period(tz) if form.is_bound and form.is_valid() else PeriodForm().to_period(tz)
    now = timezone.now()
    team_ids = descendant_team_ids([team.pk]) if rep is None else None
    rows = figure_rows(figure, period=period, user=rep, team_ids=team_ids, now=now)
    kind = FIGURE_ROWS[figure]
    # One aggregate for the page's summary and the paginator's count.
    if kind == "leads":
        summary = rows.aggregate(
            count=Count("id"),
            won=Count("id", filter=Q(stage="won")),
            value=Coalesce(Sum("value", filter=Q(stage="won")), Decimal("0.00"), output_field=DecimalField()),
        )
        rows = rows.select_related("owner", "team", "received_by", "first_contacted_by")
    elif kind == "follow_ups":
        summary = rows.aggregate(count=Count("id"), kept=Count("id", filter=follow_up_on_time_q()))
        rows = rows.select_related("lead", "owner")
    else:
        summary = rows.aggregate(count=Count("id"))
        rows = rows.select_related("lead", "actor")
    paginator = Paginator(rows, ROWS_PAGE_SIZE)
    paginator.count = summary["count"]  # already counted above: no second COUNT query
    title, explanation = FIGURE_TITLES[figure]
    back = QueryDict(mutable=True)
    if team is not None:
        back["team"] = team.pk
    for name in ("period", "date_from", "date_to"):
        if request.GET.get(name) and form.is_bound and form.is_valid():
            back[name] = request.GET[name]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "leads/reports/figure_rows.html",
        {
            "figure": figure,
            "kind": kind,
            "title": title,
            "explanation": explanation,
            "team": team,
            "rep": rep,
            "form": form,
            "period": period,
            "page": paginator.get_page(request.GET.get("page")),
            "summary": summary,
            "dashboard_query": back.urlencode(),
            "query_base": params.urlencode(),
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
    # One query for the teams (and the scoping caches every read below uses), one for the people
    # of the owner filter and of the action bar's "Give them to".
    scope = team_scope(user)
    teams = [] if is_rep_view else scope.teams
    owners, give_to = people_choices(user, scope, owners=not is_rep_view)
    hours, days = neglect_untouched_hours(), neglect_silent_days()
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        hours = data["hours"] or hours
        days = data["days"] or days
        filters["reason"] = data["reason"]
        if data["team"] is not None:
            if data["team"] not in {team_id for team_id, _name in teams}:
                raise Http404("No such team.")
            filters["team_ids"] = descendant_team_ids([data["team"]], scope.children)
        if data["owner"] == "queue":
            filters["queue"] = True
        elif data["owner"]:
            owner_id = int(data["owner"])
            if owner_id != user.pk and owner_id not in {pk for pk, _name in owners}:
                raise Http404("No such person.")
            filters["owner_id"] = owner_id
    valid = not form.is_bound or form.is_valid()
    page = None
    rows = []
    if valid:
        page = neglected_page(user, request.GET.get("page"), per_page=PAGE_SIZE, hours=hours, days=days, **filters)
        # After the page's rows were read (now or earlier in the minute): how long each waited.
        now = timezone.now()
        names = owner_names(page.object_list, {user.pk: str(user), **dict(owners)})
        rows = neglected_rows(page.object_list, now=now, owners=names, teams=scope.names)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "leads/reports/neglected.html",
        {
            "form": form,
            "team_options": select_options(teams, request.GET.get("team", "")),
            "owner_options": select_options(owners, request.GET.get("owner", "")),
            "give_to": give_to,
            "is_rep_view": is_rep_view,
            "page": page,
            "rows": rows,
            "hours": hours,
            "days": days,
            "selected": {
                "owner": request.GET.get("owner", ""),
                "reason": request.GET.get("reason", ""),
            },
            "query_base": params.urlencode(),
        },
    )
