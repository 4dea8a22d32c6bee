"""The one place that says who may see what. Every app's selectors start here.

Rules:
- an admin (or superuser) sees everything;
- a manager sees the teams they manage and every team below them, and the
  records owned by anyone in those teams (plus their own);
- a rep sees their own records.

Views never filter by role themselves: they call `scope_queryset` (through their
app's `<noun>s_visible_to(user)` selector) and `get_visible_or_404`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404

from accountability.models import Membership, Team, User

M = TypeVar("M", bound=Model)


def _team_tree() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for team_id, parent_id in Team.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(team_id)
    return children


def descendant_team_ids(root_ids: Iterable[int], children: dict[int, list[int]] | None = None) -> set[int]:
    """The given teams and every team below them, in one query whatever the depth (none when
    `children` is given: parent id -> child ids, from `TeamScope.children`)."""
    children = _team_tree() if children is None else children
    seen: set[int] = set()
    stack = list(root_ids)
    while stack:
        team_id = stack.pop()
        if team_id in seen:
            continue
        seen.add(team_id)
        stack.extend(children.get(team_id, []))
    return seen


def ancestor_team_ids(team_ids: Iterable[int], parents: dict[int, int | None] | None = None) -> set[int]:
    """The given teams and every team above them (one query, none when `parents` is given:
    team id -> parent id, from `team_parents`)."""
    parents = team_parents() if parents is None else parents
    seen: set[int] = set()
    for team_id in team_ids:
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            team_id = parents.get(team_id)
    return seen


def team_parents(user: User | None = None) -> dict[int, int | None]:
    """team id -> parent id, in one query; cached on the user object for the request when given."""
    cached = getattr(user, "_team_parents", None)
    if cached is None:
        cached = dict(Team.objects.values_list("id", "parent_id"))
        if user is not None:
            user._team_parents = cached
    return cached


# A person's first team is the team of their oldest membership: THE definition, for the zone
# their figures are cut in and read in (accountability.timezones) and the team of their
# scorecard row (expectations).
MEMBERSHIP_ORDER = "id"


def first_teams(user) -> QuerySet[Team]:
    """The teams of `user` (a User, an id or an OuterRef), their first team first."""
    return Team.objects.filter(memberships__user=user).order_by(f"memberships__{MEMBERSHIP_ORDER}")


def managed_team_ids(user: User) -> set[int]:
    """Teams this user is accountable for, directly or through sub-teams. Cached per request."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_managed_team_ids", None)
    if cached is None:
        roots = Team.objects.filter(manager=user).values_list("id", flat=True)
        cached = descendant_team_ids(list(roots))
        user._managed_team_ids = cached
    return cached


def member_team_ids(user: User) -> set[int]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_member_team_ids", None)
    if cached is None:
        cached = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
        user._member_team_ids = cached
    return cached


@dataclass(frozen=True)
class TeamScope:
    """What `team_scope` read: the teams the user may see as (id, name) in name order, the team
    tree (parent id -> child ids), every team's manager (team id -> user id or None) and every
    team's name."""

    teams: list[tuple[int, str]]
    children: dict[int | None, list[int]]
    managers: dict[int, int | None]
    names: dict[int, str]


def team_scope(user: User) -> TeamScope:
    """`teams_visible_to(user)` in name order, from one query of every team (id, parent, manager,
    name, whether the user is a member) that also fills this request's caches of
    `managed_team_ids`, `member_team_ids` and `team_parents`: the four queries a page asked
    for them (managed roots, team tree, memberships, teams) in one."""
    if not user.is_authenticated:
        return TeamScope([], {}, {}, {})
    rows = list(
        Team.objects.annotate(is_member=Exists(Membership.objects.filter(user=user, team=OuterRef("pk"))))
        .order_by("name", "id")
        .values_list("id", "parent_id", "manager_id", "name", "is_member")
    )
    children: dict[int | None, list[int]] = {}
    for team_id, parent_id, *_ in rows:
        children.setdefault(parent_id, []).append(team_id)
    if getattr(user, "_managed_team_ids", None) is None:
        roots = [team_id for team_id, _parent, manager_id, *_ in rows if manager_id == user.pk]
        user._managed_team_ids = descendant_team_ids(roots, children)
    if getattr(user, "_member_team_ids", None) is None:
        user._member_team_ids = {team_id for team_id, *_, is_member in rows if is_member}
    if getattr(user, "_team_parents", None) is None:
        user._team_parents = {team_id: parent_id for team_id, parent_id, *_ in rows}
    if user.is_admin:
        visible = [(team_id, name) for team_id, _parent, _manager, name, _member in rows]
    else:
        ids = user._managed_team_ids | user._member_team_ids
        visible = [(team_id, name) for team_id, _parent, _manager, name, _member in rows if team_id in ids]
    return TeamScope(
        visible,
        children,
        {team_id: manager_id for team_id, _parent, manager_id, *_ in rows},
        {team_id: name for team_id, _parent, _manager, name, _member in rows},
    )


def managed_teams(user: User) -> QuerySet[Team]:
    """Teams I manage, sub-teams included (admin: all): what a dashboard, board or status page
    may be opened for."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_admin:
        return Team.objects.all()
    return Team.objects.filter(id__in=managed_team_ids(user))


def team_picked(teams: Iterable[Team], raw: str | None) -> Team | None:
    """The team chosen with ?team= among `teams` (the ones the user may open); None when none
    was asked for; 404 when the value is not one of them (or not a number)."""
    if not raw:
        return None
    team = next((t for t in teams if str(t.pk) == str(raw).strip()), None)
    if team is None:
        raise Http404("No such team.")
    return team


def teams_visible_to(user: User) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_admin:
        return Team.objects.all()
    return Team.objects.filter(id__in=managed_team_ids(user) | member_team_ids(user))


def users_visible_to(user: User) -> QuerySet[User]:
    """People whose figures this user may see: themselves, and for a manager everyone in their teams."""
    if not user.is_authenticated:
        return User.objects.none()
    if user.is_admin:
        return User.objects.all()
    team_ids = managed_team_ids(user)
    if not team_ids:
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(
        Q(pk=user.pk) | Q(memberships__team_id__in=team_ids) | Q(managed_teams__id__in=team_ids)
    ).distinct()


def teammates_of(user: User) -> QuerySet[User]:
    """People who share a team with this user (for things teammates see of each other)."""
    return User.objects.filter(memberships__team_id__in=member_team_ids(user), is_active=True).distinct()


def scope_key(user: User) -> tuple:
    """Everything `scope_queryset`'s condition depends on besides the data: two users with the
    same key see the same records (a key for a cache of a scoped read)."""
    if not user.is_authenticated:
        return ("none",)
    if user.is_admin:
        return ("admin",)
    return (user.pk, tuple(sorted(managed_team_ids(user))) if user.is_manager else ())


def scope_queryset(
    qs: QuerySet, user: User, *, owner_field: str | None = "owner", team_field: str | None = "team"
) -> QuerySet:
    """Restrict a queryset of owned, team-bound records to what `user` may see."""
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    condition = Q(pk__in=[])
    if owner_field:
        condition |= Q(**{owner_field: user})
    if user.is_manager and team_field:
        team_ids = managed_team_ids(user)
        if team_ids:
            condition |= Q(**{f"{team_field}__in": team_ids})
    return qs.filter(condition)


def get_visible_or_404(qs: QuerySet[M], **lookup) -> M:
    """Fetch one visible object. 404 both when it does not exist and when it is not
    visible, so the answer never reveals which."""
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {qs.model._meta.verbose_name} matches the given query.") from None


def can_manage_team(user: User, team: Team) -> bool:
    return user.is_admin or team.pk in managed_team_ids(user)


def role_required(*roles: str):
    """View decorator: 403 unless the user's effective role is one of `roles` (admins always pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user.is_admin or user.effective_role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(User.Role.ADMIN)
manager_required = role_required(User.Role.MANAGER)
