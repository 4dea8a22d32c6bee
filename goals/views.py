import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accountability.forms import add_service_errors
from accountability.models import Team, User
from accountability.scoping import (
    get_visible_or_404,
    managed_teams,
    manager_required,
    team_picked,
    users_visible_to,
)
from accountability.timezones import figures_time_zone
from goals import metric_source, services
from goals.forms import (
    ApproveForm,
    CheckInForm,
    CommitmentCloseForm,
    CommitmentForm,
    CommitmentWeekForm,
    GoalEditForm,
    GoalForm,
    RejectForm,
)
from goals.models import MANUAL, Goal
from goals.progress import goal_chart, goals_progress, team_contributions
from goals.selectors import (
    assignable_owners,
    board_rows,
    can_check_in,
    can_edit_goal,
    can_manage_goal,
    commitment_get_for_owner,
    commitment_people,
    commitments_visible_to,
    goal_get_for_user,
    goals_awaiting_decision,
    goals_for_rep_page,
    goals_visible_to,
    kpis_for,
    week_start,
)
from goals.services import EDITABLE_FIELDS


def _error_text(form) -> str:
    """A refused form's errors as one sentence for the message area (the fields show them too)."""
    return " ".join(error for errors in form.errors.values() for error in errors)


def _with_progress(goals):
    goals = list(goals)
    progress = goals_progress(goals)
    for goal in goals:
        goal.progress = progress[goal.pk]
    return goals


# --- Goals -------------------------------------------------------------------------


@login_required
def goal_list(request):
    """My goals and commitments (and, for a manager, the proposals waiting for them)."""
    user = request.user
    goals = _with_progress(goals_for_rep_page(user).order_by("end_date", "pk"))
    this_week = week_start()
    commitments = list(commitments_visible_to(user).filter(owner=user, week_start=this_week))
    awaiting = list(goals_awaiting_decision(user).order_by("created_at")) if not user.is_rep else []
    return render(
        request,
        "goals/goal_list.html",
        {"goals": goals, "commitments": commitments, "awaiting": awaiting, "week": this_week},
    )


def _owner_choices(user: User):
    teams, reps = assignable_owners(user)
    return [(f"user:{u.pk}", f"{u} (rep)") for u in reps] + [(f"team:{t.pk}", f"Team {t}") for t in teams]


def _parse_owner(user: User, value: str) -> tuple[User | None, Team | None]:
    kind, _, pk = (value or "").partition(":")
    if kind == "user":
        owner = get_visible_or_404(users_visible_to(user), pk=pk)
        return owner, None
    if kind == "team":
        return None, get_visible_or_404(managed_teams(user), pk=pk)
    raise Http404


@login_required
def goal_create(request):
    """A rep proposes a goal for themselves; a manager assigns one to a rep or team they manage."""
    user = request.user
    assigning = not user.is_rep
    owner_choices = _owner_choices(user) if assigning else None
    initial = {"start_date": timezone.localdate().replace(day=1), "preset": Goal.Preset.MONTHLY}
    if assigning and request.GET.get("owner"):
        initial["owner"] = request.GET["owner"]
    form = GoalForm(request.POST or None, owner_choices=owner_choices, initial=initial, kpis=kpis_for(user))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            if assigning:
                owner, team = _parse_owner(user, form.cleaned_data["owner"])
                goal = services.goal_assign(actor=user, owner=owner, team=team, **fields)
            else:
                goal = services.goal_propose(actor=user, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Goal set." if assigning else "Goal proposed: your manager will review it.")
            return redirect("goals:goal-detail", pk=goal.pk)
    return render(
        request,
        "goals/goal_form.html",
        {"form": form, "assigning": assigning, "recent": _recent_from_request(request)},
    )


def _goal_initial(goal: Goal) -> dict:
    return {name: getattr(goal, name) for name in EDITABLE_FIELDS}


@login_required
def goal_edit(request, pk: int):
    user = request.user
    goal = goal_get_for_user(user, pk, edit=True)
    manager = can_manage_goal(user, goal)
    if goal.outcome:
        messages.error(request, "This goal is closed; it can no longer be edited.")
        return redirect("goals:goal-detail", pk=goal.pk)
    form = GoalEditForm(request.POST or None, initial=_goal_initial(goal), goal_pk=goal.pk, kpis=kpis_for(user))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            services.goal_update(actor=user, goal=goal, comment=form.cleaned_data["comment"], **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Goal updated.")
            return redirect("goals:goal-detail", pk=goal.pk)
    return render(
        request,
        "goals/goal_form.html",
        {
            "form": form,
            "goal": goal,
            "manager_edit": manager,
            "recent": _recent_figure(user, request.POST.get("metric") or goal.metric, goal),
        },
    )


@login_required
def goal_detail(request, pk: int):
    with_kpi = goals_visible_to(request.user).select_related("kpi__version__document")
    goal = goal_get_for_user(request.user, pk, qs=with_kpi)
    return _render_goal_detail(request, goal)


def _render_goal_detail(request, goal: Goal, *, approve_form=None, reject_form=None, checkin_form=None):
    """The goal page; a refused reject or check-in passes its bound form so what was typed comes back."""
    user = request.user
    now = timezone.now()
    progress = goals_progress([goal], now=now)[goal.pk]
    goal.progress = progress
    manage = can_manage_goal(user, goal)
    context = {
        "goal": goal,
        "progress": progress,
        "events": goal.events.select_related("actor"),
        "check_ins": goal.check_ins.select_related("author")[:20] if goal.is_manual else [],
        "contributions": team_contributions(goal, actual=progress.actual, now=now),
        "chart": goal_chart(goal, progress, now),
        "can_manage": manage,
        "can_decide": manage and goal.status == Goal.Status.PROPOSED,
        "can_edit": not goal.outcome and can_edit_goal(user, goal),
        "can_check_in": goal.is_manual and goal.is_open and can_check_in(user, goal),
        "approve_form": approve_form or ApproveForm(),
        "reject_form": reject_form or RejectForm(),
        "checkin_form": checkin_form or CheckInForm(),
    }
    return render(request, "goals/goal_detail.html", context)


@login_required
@require_POST
def goal_approve(request, pk: int):
    goal = goal_get_for_user(request.user, pk, manage=True)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        # An over-long comment used to be dropped and the goal approved anyway: say so, keep the text.
        messages.error(request, "Not approved: " + _error_text(form))
        return _render_goal_detail(request, goal, approve_form=form)
    try:
        services.goal_approve(actor=request.user, goal=goal, comment=form.cleaned_data["comment"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Approved “{goal.title}”.")
    return redirect("goals:goal-detail", pk=goal.pk)


@login_required
@require_POST
def goal_reject(request, pk: int):
    goal = goal_get_for_user(request.user, pk, manage=True)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.goal_reject(actor=request.user, goal=goal, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Rejected “{goal.title}”.")
            return redirect("goals:goal-detail", pk=goal.pk)
    # Refused: the page again with the typed reason and why (a redirect would drop the text).
    messages.error(request, "Not rejected: " + _error_text(form))
    return _render_goal_detail(request, goal, reject_form=form)


@login_required
@require_POST
def checkin_create(request, pk: int):
    goal = goal_get_for_user(request.user, pk, check_in=True)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            services.goal_check_in(
                actor=request.user, goal=goal, value=form.cleaned_data["value"], comment=form.cleaned_data["comment"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Check-in recorded.")
            return redirect("goals:goal-detail", pk=goal.pk)
    # Refused: the page again with the typed figure and comment, and why.
    if "value" in form.errors and "comment" not in form.errors and not form.non_field_errors():
        messages.error(request, "Check-in not recorded: enter the figure to date, zero or more.")
    else:
        messages.error(request, "Check-in not recorded: " + _error_text(form))
    return _render_goal_detail(request, goal, checkin_form=form)


def _recent_figure(
    user: User, metric: str, goal: Goal | None = None, owner: User | None = None, team: Team | None = None
) -> dict | None:
    """The figure of the goal's owner (or of `owner`/`team`, already checked visible; by default the user)
    for this metric over the last 30 days, to judge whether a target is achievable."""
    if not metric or metric == MANUAL or metric not in metric_source.Metric.values:
        return None
    if goal is not None:
        owner, team = goal.owner, goal.team
    elif owner is None and team is None:
        owner = user
    # The dashboard's "last 30 days": whole days of the owner's (or team's) zone, whoever asks.
    period = metric_source.last_days(30, tz=figures_time_zone(owner, team))
    if team is not None:
        value = metric_source.value_for_team(metric, period=period, team=team)
    else:
        value = metric_source.value_for_user(metric, period=period, user=owner)
    return {
        "value": value,
        "unit": metric_source.metric_unit(metric),
        "who": str(team or owner),
        "metric": metric_source.Metric(metric).label,
    }


def _recent_from_request(request) -> dict | None:
    """Beside the target on the goal form: nothing for an owner the user may not see (the form says why)."""
    data = request.POST or request.GET
    owner = team = None
    if data.get("owner"):
        try:
            owner, team = _parse_owner(request.user, data["owner"])
        except Http404:
            return None
    return _recent_figure(request.user, data.get("metric", ""), owner=owner, team=team)


@login_required
@require_GET
def recent_figure(request):
    """htmx: the owner's last 30 days for the chosen metric, shown beside the target."""
    goal = owner = team = None
    if request.GET.get("goal"):
        goal = goal_get_for_user(request.user, request.GET["goal"])
    elif request.GET.get("owner"):
        owner, team = _parse_owner(request.user, request.GET["owner"])  # 404: a rep or team the user may not see
    recent = _recent_figure(request.user, request.GET.get("metric", ""), goal=goal, owner=owner, team=team)
    return render(request, "goals/includes/recent_figure.html", {"recent": recent})


# --- Board -------------------------------------------------------------------------


@manager_required
def board(request):
    """Every rep's goals with pacing, for one team (sub-teams included), in one screen."""
    # The teams the manager runs directly come first (a head of sales opens on the whole org).
    teams = sorted(managed_teams(request.user), key=lambda t: (t.manager_id != request.user.pk, t.name))
    if not teams:
        return render(request, "goals/board.html", {"teams": [], "team": None, "rows": [], "team_goals": []})
    team = team_picked(teams, request.GET.get("team")) or teams[0]
    rows, team_goals, counts = board_rows(request.user, team)
    return render(
        request,
        "goals/board.html",
        {"teams": teams, "team": team, "rows": rows, "team_goals": team_goals, "counts": counts},
    )


# --- Commitments -------------------------------------------------------------------


def _commitment_context(user: User, week: dt.date) -> dict:
    people = {p.pk: p for p in commitment_people(user).order_by("first_name", "username")}
    commitments = commitments_visible_to(user).filter(week_start=week).order_by("created_at", "id")
    by_person: dict[int, list] = {pk: [] for pk in people}
    for commitment in commitments:
        by_person.setdefault(commitment.owner_id, []).append(commitment)
    mine = by_person.pop(user.pk, [])
    others = [{"person": people[pk], "commitments": items} for pk, items in by_person.items() if pk in people]
    others.sort(key=lambda row: (not row["commitments"], str(row["person"])))
    return {"week": week, "mine": mine, "others": others}


@login_required
def commitment_list(request):
    week = week_start()
    week_form = CommitmentWeekForm(request.GET)
    if week_form.is_valid():
        if week_form.cleaned_data["week"]:
            week = week_start(week_form.cleaned_data["week"])
    else:
        messages.error(request, f"That week cannot be shown: {' '.join(week_form.errors['week'])} Showing this week.")
    return _render_commitments(request, week, CommitmentForm())


def _render_commitments(request, week: dt.date, form: CommitmentForm):
    this_week = week_start()
    context = _commitment_context(request.user, week)
    context.update(
        {
            "form": form,
            "this_week": this_week,
            "previous_week": week - dt.timedelta(days=7),
            "next_week": week + dt.timedelta(days=7),
            "close_form": CommitmentCloseForm(),
        }
    )
    return render(request, "goals/commitment_list.html", context)


@login_required
@require_POST
def commitment_create(request):
    form = CommitmentForm(request.POST)
    if form.is_valid():
        week = week_start() + dt.timedelta(days=7 if form.cleaned_data["week"] == "next" else 0)
        try:
            services.commitment_create(actor=request.user, text=form.cleaned_data["text"], week=week)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Commitment added.")
            return redirect(f"{_commitments_url()}?week={week.isoformat()}")
    # Refused: this week's page again with the typed text and week, and why.
    messages.error(request, "Commitment not added: " + _error_text(form))
    return _render_commitments(request, week_start(), form)


def _commitments_url() -> str:
    return reverse("goals:commitment-list")


@login_required
@require_POST
def commitment_check(request, pk: int):
    """Check a commitment off (or back on). htmx swaps the row in place."""
    commitment = commitment_get_for_owner(request.user, pk)
    done = request.POST.get("done") == "1"
    try:
        commitment = services.commitment_set_done(actor=request.user, commitment=commitment, done=done)
    except ValidationError as exc:
        if request.htmx:
            commitment.refresh_from_db()
            return render(
                request,
                "goals/includes/commitment_row.html",
                {"c": commitment, "mine": True, "error": " ".join(exc.messages)},
            )
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return render(request, "goals/includes/commitment_row.html", {"c": commitment, "mine": True})
    return redirect(f"{_commitments_url()}?week={commitment.week_start.isoformat()}")


@login_required
@require_POST
def commitment_close(request, pk: int):
    commitment = commitment_get_for_owner(request.user, pk)
    try:
        services.commitment_close(actor=request.user, commitment=commitment, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Commitment closed.")
    return redirect(f"{_commitments_url()}?week={commitment.week_start.isoformat()}")


@login_required
@require_POST
def commitment_carry(request, pk: int):
    commitment = commitment_get_for_owner(request.user, pk)
    try:
        new = services.commitment_carry_over(actor=request.user, commitment=commitment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{_commitments_url()}?week={commitment.week_start.isoformat()}")
    messages.success(request, "Carried over to the week of " + new.week_start.strftime("%d %b") + ".")
    return redirect(f"{_commitments_url()}?week={new.week_start.isoformat()}")
