"""Reads behind the reports, always starting from leads_visible_to / the scoping module."""

from datetime import UTC, datetime

from django.db.models import BooleanField, Case, DateTimeField, ExpressionWrapper, F, QuerySet, Value, When
from django.db.models.functions import Coalesce, Least

from accountability.models import Membership, Team, User
from leads.metrics import neglect_condition, overdue_q, silent_q, untouched_q
from leads.models import Lead
from leads.selectors import leads_visible_to

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def team_reps(team_ids: set[int]) -> QuerySet[User]:
    """Members of the teams (a team and its sub-teams): the rows of its dashboard."""
    return User.objects.filter(id__in=Membership.objects.filter(team_id__in=team_ids).values("user_id")).order_by(
        "first_name", "last_name", "username"
    )


class SubTeamGroups:
    """A team's members grouped by its direct sub-teams (a head of sales' department by team):
    each sub-team's tree and members, and each rep's own team (their first in the tree)."""

    def __init__(self, team: Team, team_ids: set[int], reps: list[User]):
        teams = {t.pk: t for t in Team.objects.filter(pk__in=team_ids).order_by("name")}
        self.sub_teams = [t for t in teams.values() if t.parent_id == team.pk]
        top: dict[int, int | None] = {}
        for team_id, t in teams.items():
            # The sub-team of the chosen team this team lies under (None: the chosen team itself).
            node, seen = t, set()
            while node is not None and node.parent_id != team.pk and node.pk != team.pk and node.pk not in seen:
                seen.add(node.pk)
                node = teams.get(node.parent_id)
            top[team_id] = node.pk if node is not None and node.pk != team.pk else None
        self.trees = {sub.pk: {t for t, root in top.items() if root == sub.pk} for sub in self.sub_teams}
        self.own_team: dict[int, Team] = {}
        self.members: dict[int, set[int]] = {sub.pk: set() for sub in self.sub_teams}
        memberships = Membership.objects.filter(team_id__in=team_ids).order_by("id").values_list("user_id", "team_id")
        for user_id, team_id in memberships:
            self.own_team.setdefault(user_id, teams[team_id])
            if top.get(team_id) is not None:
                # Every member of a sub-team's tree (as total_scorecard counts them), whatever
                # team they are listed under.
                self.members[top[team_id]].add(user_id)
        self._grouped: dict[int | None, list[User]] = {}
        for rep in reps:
            own = self.own_team.get(rep.pk)
            group = top.get(own.pk) if own is not None else None
            self._grouped.setdefault(group, []).append(rep)

    def rows(self):
        """(sub-team or None, its reps in name order): the chosen team's own members first."""
        if self._grouped.get(None):
            yield None, self._grouped[None]
        for sub in self.sub_teams:
            yield sub, self._grouped.get(sub.pk, [])

    def team_name(self, rep: User) -> str:
        own = self.own_team.get(rep.pk)
        return own.name if own is not None else ""


def sub_team_groups(team: Team, team_ids: set[int], reps: list[User]) -> SubTeamGroups | None:
    """Two queries (the tree's teams and their memberships); None, and none, for a team without
    sub-teams."""
    if len(team_ids) <= 1:
        return None
    return SubTeamGroups(team, team_ids, reps)


def neglected_leads(
    user: User,
    *,
    now: datetime,
    hours: int,
    days: int,
    team_ids: set[int] | None = None,
    owner_id: int | None = None,
    queue: bool = False,
    reason: str = "",
) -> QuerySet[Lead]:
    """Open leads the user may see that are neglected, longest-neglected first.

    Each row carries why (why_untouched, why_overdue, why_silent, any of them may be true) and
    neglected_since: the earliest of arrival (never contacted), the missed follow-up time
    (overdue) and the last activity (silent).
    """
    untouched, overdue, silent = untouched_q(now, hours), overdue_q(now), silent_q(now, days)
    qs = leads_visible_to(user).filter(neglect_condition(now, untouched_hours=hours, silent_days=days))
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    if queue:
        qs = qs.filter(owner__isnull=True)
    elif owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if reason:
        qs = qs.filter({"untouched": untouched, "overdue": overdue, "silent": silent}[reason])
    far = Value(FAR_FUTURE, output_field=DateTimeField())
    return (
        qs.annotate(
            why_untouched=ExpressionWrapper(untouched, output_field=BooleanField()),
            why_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
            why_silent=ExpressionWrapper(silent, output_field=BooleanField()),
            # SQLite's MIN() is NULL if any argument is: hence a far-future default for each part.
            neglected_since=Least(
                Case(When(untouched, then=F("arrived_at")), default=far),
                Case(When(overdue, then=F("next_follow_up_at")), default=far),
                Case(When(silent, then=Coalesce("last_activity_at", "arrived_at")), default=far),
                output_field=DateTimeField(),
            ),
        )
        .select_related("owner", "team")
        .order_by("neglected_since", "id")
    )
