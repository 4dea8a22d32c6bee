"""Reads behind the reports, always starting from leads_visible_to / the scoping module."""

from datetime import UTC, datetime
from itertools import groupby

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from accountability.models import Membership, Team, User, person_name
from accountability.scoping import TeamScope, managed_team_ids, scope_key
from leads.bulk_selectors import can_reassign
from leads.metrics import neglect_condition, overdue_q, pagecache, silent_q, untouched_q
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
    return qs.annotate(**_why(now, hours, days)).select_related("owner", "team").order_by("neglected_since", "id")


def _why(now: datetime, hours: int, days: int) -> dict:
    untouched, overdue, silent = untouched_q(now, hours), overdue_q(now), silent_q(now, days)
    far = Value(FAR_FUTURE, output_field=DateTimeField())
    return {
        "why_untouched": ExpressionWrapper(untouched, output_field=BooleanField()),
        "why_overdue": ExpressionWrapper(overdue, output_field=BooleanField()),
        "why_silent": ExpressionWrapper(silent, output_field=BooleanField()),
        # SQLite's MIN() is NULL if any argument is: hence a far-future default for each part.
        "neglected_since": Least(
            Case(When(untouched, then=F("arrived_at")), default=far),
            Case(When(overdue, then=F("next_follow_up_at")), default=far),
            Case(When(silent, then=Coalesce("last_activity_at", "arrived_at")), default=far),
            output_field=DateTimeField(),
        ),
    }


Choice = tuple[int, str]  # (id, name) of a select's option

# The columns of the report's rows (leads.reports.table.neglected_rows): the owner's and team's
# names are looked up per request (`owner_names`, accountability.scoping.TeamScope.names), so a
# cached page never shows an old name.
NEGLECTED_ROW_FIELDS = (
    "pk",
    "name",
    "company",
    "owner_id",
    "team_id",
    "arrived_at",
    "next_follow_up_at",
    "last_activity_at",
    "why_untouched",
    "why_overdue",
    "why_silent",
    "neglected_since",
)


def neglected_page(
    user: User,
    raw_number,
    *,
    per_page: int,
    hours: int,
    days: int,
    team_ids: set[int] | None = None,
    owner_id: int | None = None,
    queue: bool = False,
    reason: str = "",
) -> Page:
    """A page of `neglected_leads(...)` as Paginator.get_page(raw_number) gives it (not a number:
    the first page; past the last or below the first: the last), each row a dict of
    NEGLECTED_ROW_FIELDS.

    Cached (leads.metrics.pagecache, without the rollup version: no rollup row is read) per
    scope (accountability.scoping.scope_key), filters and page at the leads' data version and
    the minute: every write through the services (a lead's stage, owner, team, name, first
    contact, follow-up, activity) shows on the next request, what time alone changes (a lead
    becoming neglected, a follow-up falling overdue) at the next minute. A repeated view costs
    the data-version query instead of compiling and running the page's."""
    try:
        number = int(raw_number)
    except (TypeError, ValueError):
        number = 1
    parts = (
        scope_key(user),
        per_page,
        number,
        hours,
        days,
        None if team_ids is None else tuple(sorted(team_ids)),
        owner_id,
        queue,
        reason,
    )

    def fill():
        # Read now, after the key's minute: an entry of a minute never predates it.
        qs = neglected_leads(
            user,
            now=timezone.now(),
            hours=hours,
            days=days,
            team_ids=team_ids,
            owner_id=owner_id,
            queue=queue,
            reason=reason,
        )
        return _neglected_page(qs, number, per_page)

    rows, number, total = pagecache.cached("neglected", parts, fill, rollup=False)
    paginator = Paginator([], per_page)
    paginator.count = total  # a cached_property: set, it is not counted again
    return Page(rows, number, paginator)


def _neglected_page(qs: QuerySet[Lead], number: int, per_page: int) -> tuple[list[dict], int, int]:
    """(rows, page number, count of all) in one query: the page's leads and the count of all (a
    window over the rows the order reads anyway). It was three (the count, the page's ids,
    their leads as models), each compiling the neglect conditions. A page past the end (a stale
    link) asks the count, then the last page: two more."""
    if number >= 1:
        rows = _neglected_rows(qs, number, per_page)
        if rows or number == 1:
            return rows, number, rows[0]["total"] if rows else 0
    total = qs.count()
    last = max(1, -(-total // per_page))
    return _neglected_rows(qs, last, per_page), last, total


def _neglected_rows(qs: QuerySet[Lead], number: int, per_page: int) -> list[dict]:
    start = (number - 1) * per_page
    return list(qs.annotate(total=Window(Count("pk"))).values(*NEGLECTED_ROW_FIELDS, "total")[start : start + per_page])


def owner_names(rows: list[dict], known: dict[int, str]) -> dict[int, str]:
    """Names of the rows' owners: `known` (the people the page read already), and one query for
    those it lacks (a lead of the team still owned by someone who left it)."""
    missing = {row["owner_id"] for row in rows if row["owner_id"] is not None} - known.keys()
    if not missing:
        return known
    found = User.objects.filter(pk__in=missing).values_list("id", "first_name", "last_name", "username")
    return {**known, **{pk: person_name(first, last, username) for pk, first, last, username in found}}


def people_choices(
    user: User, scope: TeamScope, *, owners: bool, active_owners: bool = False
) -> tuple[list[Choice], list[Choice]]:
    """A page's "Owner" filter choices (`users_visible_to(user)`, when `owners`) and the action
    bar's "Give them to" choices (`leads.bulk_selectors.assignable_owners(user)`), each as
    (id, name) in its own order, from one query (they were two, of whole users): the people
    with their memberships, of the managed teams (admin: of any team), beside the user and the
    managed teams' managers (`scope`: accountability.scoping.team_scope). With `active_owners`
    the owner choices are only the active people (the lead list's owner filters). Used by the
    neglected report and the lead list."""
    managed = managed_team_ids(user)
    reassign = can_reassign(user)
    if not owners and not reassign:
        return [], []
    people = User.objects.all()
    if not user.is_admin:
        # users_visible_to: themselves, the members of the teams they manage and those teams' managers.
        ids = {user.pk} | {scope.managers[team_id] for team_id in managed if scope.managers.get(team_id)}
        people = people.filter(Q(pk__in=ids) | Q(memberships__team_id__in=managed))
    # A row per (person, membership), the memberships outside `managed` left out unless the
    # person is there for another reason; users_visible_to's order (and assignable_owners' below).
    rows = people.order_by("first_name", "last_name", "username", "id").values_list(
        "id", "first_name", "last_name", "username", "is_active", "memberships__team_id"
    )
    names: dict[int, tuple[str, str, str]] = {}
    assignable: set[int] = set()
    inactive: set[int] = set()
    for pk, first, last, username, is_active, team_id in rows:
        names.setdefault(pk, (first, last, username))
        if not is_active:
            inactive.add(pk)
        elif team_id is not None and (user.is_admin or team_id in managed):
            assignable.add(pk)
    owner_choices = (
        [(pk, person_name(*name)) for pk, name in names.items() if not (active_owners and pk in inactive)]
        if owners
        else []
    )
    give_to = []
    if reassign:
        chosen = [(pk, name) for pk, name in names.items() if pk in assignable]
        for _name, group in groupby(chosen, key=lambda row: row[1][:2]):
            # assignable_owners orders by (first name, last name, id): the same first and last
            # name sort together in both orders (a deterministic collation is equal only when
            # the bytes are), and within them by id.
            give_to += [(pk, person_name(*name)) for pk, name in sorted(group)]
    return owner_choices, give_to
