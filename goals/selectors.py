"""Who may see and change which goals and commitments. Every goals view starts here."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accountability.expectations.models import Kpi
from accountability.expectations.selectors import documents_visible_to
from accountability.models import Membership, Team, User
from accountability.scoping import (
    descendant_team_ids,
    get_visible_or_404,
    managed_team_ids,
    managed_teams,
    member_team_ids,
    teammates_of,
)
from goals.models import Commitment, Goal, Pacing
from goals.progress import goals_progress, thresholds_get


def week_start(day: dt.date | None = None) -> dt.date:
    """The Monday of the week containing `day` (today in the site's time zone by default)."""
    day = day or timezone.localdate()
    return day - dt.timedelta(days=day.weekday())


def in_teams(team_ids) -> Q:
    """Goals of these teams, or of anyone on them."""
    return Q(team_id__in=team_ids) | Q(owner_id__in=Membership.objects.filter(team_id__in=team_ids).values("user_id"))


def goals_visible_to(user: User) -> QuerySet[Goal]:
    """A rep: their own goals and their teams' goals. A manager: also every goal of the teams
    they manage (sub-teams included) and of the people in them. An admin: all."""
    qs = Goal.objects.select_related("owner", "team")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    condition = Q(owner=user) | Q(team_id__in=member_team_ids(user))
    managed = managed_team_ids(user) if user.is_manager else set()
    if managed:
        condition |= in_teams(managed)
    return qs.filter(condition)


def can_manage_goal(user: User, goal: Goal) -> bool:
    """Approve, reject, edit at any time: an admin, or a manager of the goal's team or of a team its owner is on."""
    if user.is_admin:
        return True
    managed = managed_team_ids(user) if user.is_manager else set()
    if not managed:
        return False
    if goal.team_id:
        return goal.team_id in managed
    if goal.owner_id == user.pk:
        return False  # nobody approves their own goal
    return Membership.objects.filter(user_id=goal.owner_id, team_id__in=managed).exists()


def can_check_in(user: User, goal: Goal) -> bool:
    if goal.owner_id == user.pk:
        return True
    if goal.team_id and goal.team_id in member_team_ids(user):
        return True
    return can_manage_goal(user, goal)


def can_edit_goal(user: User, goal: Goal) -> bool:
    """Edit a goal's fields: its manager at any time; its rep while it is not approved."""
    return can_manage_goal(user, goal) or (goal.owner_id == user.pk and goal.status != Goal.Status.APPROVED)


def goal_get_for_user(
    user: User, pk: int, *, manage: bool = False, edit: bool = False, check_in: bool = False, qs=None
) -> Goal:
    """One goal for a view: 404 when it is missing or invisible; 403 when it is visible but the
    user may not do what is asked (`manage`: decide on it, `edit`, `check_in`)."""
    goal = get_visible_or_404(qs if qs is not None else goals_visible_to(user), pk=pk)
    if (
        (manage and not can_manage_goal(user, goal))
        or (edit and not can_edit_goal(user, goal))
        or (check_in and not can_check_in(user, goal))
    ):
        raise PermissionDenied
    return goal


def current_goals(qs: QuerySet[Goal], *, today: dt.date | None = None) -> QuerySet[Goal]:
    """Goals still running, upcoming, or ended in the last 14 days (so a result stays visible a while)."""
    today = today or timezone.localdate()
    return qs.exclude(status=Goal.Status.REJECTED).filter(end_date__gte=today - dt.timedelta(days=14))


def goals_for_rep_page(user: User) -> QuerySet[Goal]:
    """The user's own goals and their teams': always within goals_visible_to(user), whose condition
    starts with these two, so the query does without its other branches (a third of the rep's
    goals panel's time, issue 16)."""
    if not user.is_authenticated:
        return Goal.objects.none()
    own = Q(owner=user) | Q(team_id__in=member_team_ids(user))
    return current_goals(Goal.objects.select_related("owner", "team").filter(own))


def goals_awaiting_decision(user: User) -> QuerySet[Goal]:
    """Proposals this manager may decide on."""
    managed = managed_team_ids(user)
    if user.is_admin:
        qs = Goal.objects.all()
    elif managed:
        qs = Goal.objects.filter(in_teams(managed)).exclude(owner=user)
    else:
        return Goal.objects.none()
    return qs.filter(status=Goal.Status.PROPOSED).select_related("owner", "team")


def assignable_owners(user: User) -> tuple[list[Team], list[User]]:
    """Teams and reps a manager may assign goals to (two queries)."""
    teams = list(managed_teams(user).order_by("name"))
    team_ids = [t.pk for t in teams]
    reps = list(
        User.objects.filter(memberships__team_id__in=team_ids, is_active=True)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("first_name", "username")
    )
    return teams, reps


def kpis_for(user: User) -> QuerySet:
    """KPIs of the current expectations this user reads: what a goal may be linked to (relevant)."""
    return (
        Kpi.objects.filter(version__is_current=True, version__document__in=documents_visible_to(user))
        .select_related("version__document")
        .order_by("version__document__title", "position", "pk")
    )


# --- Commitments ------------------------------------------------------------------


def commitment_people(user: User) -> QuerySet[User]:
    """Whose commitments this user sees: themselves, their teammates, and for a manager everyone
    in the teams they manage."""
    if user.is_admin:
        return User.objects.filter(is_active=True)
    condition = Q(pk=user.pk) | Q(pk__in=teammates_of(user).values("pk"))
    managed = managed_team_ids(user) if user.is_manager else set()
    if managed:
        condition |= Q(pk__in=Membership.objects.filter(team_id__in=managed).values("user_id"))
    return User.objects.filter(condition)


def commitments_visible_to(user: User) -> QuerySet[Commitment]:
    if not user.is_authenticated:
        return Commitment.objects.none()
    if user.is_admin:
        return Commitment.objects.select_related("owner")
    return Commitment.objects.filter(owner_id__in=commitment_people(user).values("pk")).select_related("owner")


def commitment_get_for_owner(user: User, pk: int) -> Commitment:
    """404 when invisible; 403 when visible but someone else's (only the owner checks it off)."""
    commitment = get_visible_or_404(commitments_visible_to(user), pk=pk)
    if commitment.owner_id != user.pk:
        raise PermissionDenied
    return commitment


# --- For the review dashboard (reviews.dashboard) ---------------------------------------------


def goals_at_risk_by_owner(user_ids, *, today: dt.date | None = None) -> dict[int, list[Goal]]:
    """Each person's approved, running goals whose pacing is at risk or behind: one query."""
    today = today or timezone.localdate()
    out: dict[int, list[Goal]] = {}
    qs = Goal.objects.filter(
        owner_id__in=list(user_ids),
        status=Goal.Status.APPROVED,
        start_date__lte=today,
        end_date__gte=today,
        pacing__in=[Pacing.AT_RISK, Pacing.BEHIND],
    )
    for goal in qs.order_by("end_date", "id"):
        out.setdefault(goal.owner_id, []).append(goal)
    return out


def commitments_kept_by_owner(user_ids, *, first_monday: dt.date, last_monday: dt.date) -> dict[int, tuple[int, int]]:
    """(done, total) commitments per person for the weeks first_monday..last_monday: one query."""
    rows = (
        Commitment.objects.filter(
            owner_id__in=list(user_ids), week_start__gte=first_monday, week_start__lte=last_monday
        )
        .exclude(status=Commitment.Status.CARRIED)
        .values("owner_id")
        .annotate(done=Count("id", filter=Q(status=Commitment.Status.DONE)), total=Count("id"))
    )
    return {r["owner_id"]: (r["done"], r["total"]) for r in rows}


def board_rows(user: User, team: Team) -> tuple[list[dict], list[Goal], dict[str, int]]:
    """The goals board of one team (sub-teams included): a row per active rep with their current
    goals and pacing, the team goals, and how many approved goals are in each pacing state."""
    team_ids = descendant_team_ids([team.pk])
    reps = {}
    for membership in (
        Membership.objects.filter(team_id__in=team_ids, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    ):
        reps.setdefault(membership.user_id, membership.user)
    goals = list(
        current_goals(goals_visible_to(user))
        .filter(Q(owner_id__in=list(reps)) | Q(team_id__in=team_ids))
        .order_by("end_date", "id")
    )
    progress = goals_progress(goals, thresholds=thresholds_get())
    by_rep: dict[int, list[Goal]] = {pk: [] for pk in reps}
    team_goals = []
    for goal in goals:
        goal.progress = progress[goal.pk]
        if goal.team_id:
            team_goals.append(goal)
        else:
            by_rep[goal.owner_id].append(goal)
    rows = [{"rep": rep, "goals": by_rep[pk]} for pk, rep in reps.items()]
    counts: dict[str, int] = {}
    for goal in goals:
        if goal.status == Goal.Status.APPROVED:
            counts[goal.progress.state] = counts.get(goal.progress.state, 0) + 1
    return rows, team_goals, counts
