"""Reads and access checks for expectations documents, built on accountability.scoping.

Who must acknowledge what:
- the organisation document covers every active rep and manager (admins author, they do not sign);
- a team document covers the active reps and managers who are members of that team or of any
  team below it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.db import connections, router
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404

from accountability.expectations.models import Acknowledgement, Document, DocumentVersion, Kpi
from accountability.models import Membership, Team, User
from accountability.scoping import (
    MEMBERSHIP_ORDER,
    ancestor_team_ids,
    descendant_team_ids,
    managed_team_ids,
    member_team_ids,
    team_parents,
)

SIGNING_ROLES = (User.Role.REP, User.Role.MANAGER)


def _signing_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True, is_superuser=False, role__in=SIGNING_ROLES)


def is_signer(user: User) -> bool:
    return user.is_authenticated and user.is_active and not user.is_admin


def pending_versions_for(user: User) -> list[DocumentVersion]:
    """Current versions this user must acknowledge and has not: ONE query, cached on the user object
    (so the banner, the home redirect and the rep panel share it within a request).

    Every page asks (the banner), so the query is written once in SQL (`_pending_sql`) instead of
    being built by the ORM on each request: Django spent 1.2 of its 1.6 ms compiling the
    filter, the recursive team lineage and the NOT EXISTS (issue 16). The versions come back with
    their document and its team attached and only the fields these readers use (id, document,
    number; the document's title and team; the team's name): any other field loads on access.
    `tests/expectations/test_services.py` compares it with the ORM's formulation case by case."""
    if not is_signer(user):
        return []
    cached = getattr(user, "_expectations_pending", None)
    if cached is None:
        db = router.db_for_read(DocumentVersion)
        with connections[db].cursor() as cursor:
            cursor.execute(_pending_sql(), [user.pk, True, user.pk])
            rows = cursor.fetchall()
        cached = [_pending_version(db, row) for row in rows]
        user._expectations_pending = cached
    return cached


@cache
def _pending_sql() -> str:
    """Organisation-wide documents and those of the user's teams and every team above them; the
    current version, not acknowledged by the user; the organisation's first, then by team name.
    Parameters: the user's id, True, the user's id. Portable (PostgreSQL and make run's SQLite)."""
    version, document, team = DocumentVersion._meta.db_table, Document._meta.db_table, Team._meta.db_table
    membership, ack = Membership._meta.db_table, Acknowledgement._meta.db_table
    # Table names come from the models; the values are query parameters.
    return f"""WITH RECURSIVE lineage(id, parent_id) AS (
            SELECT t.id, t.parent_id FROM {team} t JOIN {membership} m ON m.team_id = t.id WHERE m.user_id = %s
            UNION
            SELECT t.id, t.parent_id FROM {team} t JOIN lineage l ON t.id = l.parent_id
        )
        SELECT v.id, v.document_id, v.number, d.title, d.team_id, t.name
        FROM {version} v JOIN {document} d ON d.id = v.document_id LEFT JOIN {team} t ON t.id = d.team_id
        WHERE v.is_current = %s
          AND (d.team_id IS NULL OR d.team_id IN (SELECT id FROM lineage))
          AND NOT EXISTS (SELECT 1 FROM {ack} a WHERE a.version_id = v.id AND a.user_id = %s)
        ORDER BY CASE WHEN t.name IS NULL THEN 0 ELSE 1 END, t.name, v.id"""  # noqa: S608


def _pending_version(db: str, row) -> DocumentVersion:
    version_id, document_id, number, title, team_id, team_name = row
    document = _loaded(Document, db, id=document_id, title=title, team_id=team_id)
    document.team = None if team_id is None else _loaded(Team, db, id=team_id, name=team_name)
    version = _loaded(DocumentVersion, db, id=version_id, document_id=document_id, number=number)
    version.document = document
    return version


def _loaded(model, db: str, **values):
    """An instance as the ORM loads one with only() these fields: the others load on access."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(db, fields, [values[name] for name in fields])


def forget_pending(user: User) -> None:
    if hasattr(user, "_expectations_pending"):
        del user._expectations_pending


def covered_users(document: Document) -> QuerySet[User]:
    """Everyone who must acknowledge this document's current version."""
    users = _signing_users()
    if document.team_id is None:
        return users
    return users.filter(memberships__team_id__in=descendant_team_ids([document.team_id])).distinct()


def document_covers(document: Document, user: User) -> bool:
    if not is_signer(user):
        return False
    if document.team_id is None:
        return True
    return document.team_id in ancestor_team_ids(member_team_ids(user), team_parents(user))


# --- Documents and versions --------------------------------------------------------------


def documents_visible_to(user: User) -> QuerySet[Document]:
    """Admins: all. Everyone else: the organisation document and the documents of the teams they
    belong to or manage, and of every team above those (whose documents apply to them too)."""
    if not user.is_authenticated:
        return Document.objects.none()
    qs = Document.objects.select_related("team")
    if user.is_admin:
        return qs
    team_ids = ancestor_team_ids(member_team_ids(user) | managed_team_ids(user), team_parents(user))
    return qs.filter(Q(team__isnull=True) | Q(team_id__in=team_ids))


def document_get_for_user(user: User, pk: int) -> Document:
    try:
        return documents_visible_to(user).get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404("No expectations document matches the given query.") from None


def version_get_for_user(user: User, document: Document, number: int) -> DocumentVersion:
    """A published version of a visible document; drafts only for admins (404 otherwise)."""
    qs = document.versions.select_related("document__team", "published_by", "created_by").prefetch_related("kpis")
    if not user.is_admin:
        qs = qs.filter(status=DocumentVersion.Status.PUBLISHED)
    try:
        return qs.get(number=number)
    except DocumentVersion.DoesNotExist:
        raise Http404("No such version.") from None


def current_version(document: Document) -> DocumentVersion | None:
    return (
        document.versions.filter(is_current=True)
        .select_related("published_by", "document__team")
        .prefetch_related("kpis")
        .first()
    )


def draft_version(document: Document) -> DocumentVersion | None:
    return (
        document.versions.filter(status=DocumentVersion.Status.DRAFT)
        .select_related("document__team")
        .prefetch_related("kpis")
        .first()
    )


def documents_for_admin() -> list[Document]:
    """Every document with its current version and draft, in a constant number of queries."""
    return list(
        Document.objects.select_related("team").prefetch_related(
            Prefetch(
                "versions",
                queryset=DocumentVersion.objects.filter(Q(is_current=True) | Q(status="draft")).only(
                    "id", "document_id", "number", "status", "is_current", "published_at"
                ),
                to_attr="live_versions",
            )
        )
    )


def current_versions_for_reader(user: User) -> list[DocumentVersion]:
    """The current versions of the documents this user may read, organisation first."""
    return list(
        DocumentVersion.objects.filter(is_current=True, document__in=documents_visible_to(user))
        .select_related("document__team", "published_by")
        .prefetch_related("kpis")
        .order_by(F("document__team__name").asc(nulls_first=True))
    )


def acknowledged_version_ids(user: User, versions) -> set[int]:
    return set(
        Acknowledgement.objects.filter(user=user, version__in=[v.pk for v in versions]).values_list(
            "version_id", flat=True
        )
    )


def published_versions(document: Document) -> QuerySet[DocumentVersion]:
    return document.versions.filter(status=DocumentVersion.Status.PUBLISHED).select_related("published_by")


def kpi_get_for_admin(pk: int) -> Kpi:
    try:
        return Kpi.objects.select_related("version__document").get(pk=pk)
    except Kpi.DoesNotExist:
        raise Http404("No such KPI.") from None


# --- Acknowledgement status ----------------------------------------------------------------


@dataclass
class AckCell:
    version: DocumentVersion
    acknowledged_at: datetime | None

    @property
    def done(self) -> bool:
        return self.acknowledged_at is not None


@dataclass
class PersonStatus:
    user: User
    team_names: list[str] = field(default_factory=list)
    cells: list[AckCell] = field(default_factory=list)

    @property
    def outstanding(self) -> int:
        return sum(1 for cell in self.cells if not cell.done)


@dataclass
class TeamStatus:
    team: Team | None
    people: list[PersonStatus]

    @property
    def required(self) -> int:
        return sum(len(p.cells) for p in self.people)

    @property
    def outstanding(self) -> int:
        return sum(p.outstanding for p in self.people)

    @property
    def people_up_to_date(self) -> int:
        return sum(1 for p in self.people if p.outstanding == 0)


def acknowledgement_status(users: QuerySet[User]) -> tuple[list[DocumentVersion], list[PersonStatus]]:
    """Each person's acknowledgement of every current version that covers them.

    Five queries whatever the number of people: the current versions, the people, the team
    tree, their memberships and their acknowledgements (one when nothing is published yet).
    """
    versions = list(
        DocumentVersion.objects.filter(is_current=True)
        .select_related("document__team")
        .order_by(F("document__team__name").asc(nulls_first=True))
    )
    if not versions:
        return [], []  # nothing published: nobody owes anything
    people = list(users.filter(is_active=True, is_superuser=False, role__in=SIGNING_ROLES).order_by("first_name"))
    teams = {}
    managed: dict[int, set[int]] = {}
    for tid, parent, name, manager_id in Team.objects.values_list("id", "parent_id", "name", "manager_id"):
        teams[tid] = (parent, name)
        if manager_id:
            managed.setdefault(manager_id, set()).add(tid)
    parents = {tid: parent for tid, (parent, _) in teams.items()}
    user_ids = [p.pk for p in people]
    memberships: dict[int, set[int]] = {}
    first_team: dict[int, int] = {}  # the team of the oldest membership (scoping.MEMBERSHIP_ORDER)
    for user_id, team_id in (
        Membership.objects.filter(user_id__in=user_ids).order_by(MEMBERSHIP_ORDER).values_list("user_id", "team_id")
    ):
        memberships.setdefault(user_id, set()).add(team_id)
        first_team.setdefault(user_id, team_id)
    acks = {
        (user_id, version_id): at
        for user_id, version_id, at in Acknowledgement.objects.filter(
            user_id__in=user_ids, version__in=[v.pk for v in versions]
        ).values_list("user_id", "version_id", "acknowledged_at")
    }
    rows = []
    for person in people:
        own = memberships.get(person.pk, set())
        lineage = ancestor_team_ids(own, parents)
        row = PersonStatus(user=person, team_names=sorted(teams[t][1] for t in own))
        for version in versions:
            if version.document.team_id is None or version.document.team_id in lineage:
                row.cells.append(AckCell(version=version, acknowledged_at=acks.get((person.pk, version.pk))))
        person._expectations_team_ids = own
        person._expectations_first_team_id = first_team.get(person.pk)
        # For grouping by team, a manager counts with the teams they lead.
        person._expectations_group_ids = own | managed.get(person.pk, set())
        rows.append(row)
    return versions, rows


def people_in_teams(team_ids, *, exclude: User | None = None) -> QuerySet[User]:
    """Members of these teams and the managers who lead them (sub-team managers sign too)."""
    qs = User.objects.filter(Q(memberships__team_id__in=team_ids) | Q(managed_teams__id__in=team_ids)).distinct()
    return qs.exclude(pk=exclude.pk) if exclude is not None else qs


def status_by_team(rows: list[PersonStatus], teams: list[Team]) -> list[TeamStatus]:
    """Group people under each team they belong to or lead (a person in two teams counts in both)."""
    result = []
    for team in teams:
        members = [r for r in rows if team.pk in r.user._expectations_group_ids]
        result.append(TeamStatus(team=team, people=members))
    without = [r for r in rows if not r.user._expectations_group_ids]
    if without:
        result.append(TeamStatus(team=None, people=without))
    return result


def outstanding_for_manager(user: User) -> int:
    """How many acknowledgements the people in this manager's teams still owe."""
    team_ids = managed_team_ids(user)
    if not team_ids:
        return 0
    _, rows = acknowledgement_status(people_in_teams(team_ids, exclude=user))
    return sum(r.outstanding for r in rows)
