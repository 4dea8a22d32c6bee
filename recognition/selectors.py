"""Reads of recognition, always starting from what the user may see.

Who sees which kudos:
- the organisation feed (when the admin has it on): everyone sees every kudos that is not hidden;
- otherwise the team feed: kudos given to or by someone on a team the user is on or manages;
- a hidden kudos only to its giver, its recipients, their managers and admins.

Other apps read recognition only through `kudos_received` and `last_kudos_received_at`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accountability.models import Membership, User
from accountability.scoping import managed_team_ids, member_team_ids
from goals.selectors import commitments_visible_to, goals_visible_to
from leads.selectors import leads_visible_to
from recognition.models import (
    EDIT_WINDOW,
    AutoKudos,
    CompanyValue,
    Kudos,
    KudosComment,
    KudosReaction,
    KudosRecipient,
    RecognitionSettings,
)


def settings_get() -> RecognitionSettings:
    """The one settings row (created with its defaults on first read)."""
    row, _ = RecognitionSettings.objects.get_or_create(pk=1)
    return row


def active_values() -> QuerySet[CompanyValue]:
    return CompanyValue.objects.filter(retired=False)


def _people_of_teams(team_ids) -> QuerySet:
    return Membership.objects.filter(team_id__in=team_ids).values("user_id")


def _received_by(user_ids) -> Q:
    return Q(pk__in=KudosRecipient.objects.filter(user_id__in=user_ids).values("kudos_id"))


def _concerns(user: User) -> Q:
    """Kudos this user gave or received, or (a manager) that someone in their teams received."""
    condition = Q(giver=user) | Q(pk__in=KudosRecipient.objects.filter(user=user).values("kudos_id"))
    managed = managed_team_ids(user) if user.is_manager else set()
    if managed:
        condition |= _received_by(_people_of_teams(managed))
    return condition


def team_ids_of(user: User) -> set[int]:
    return member_team_ids(user) | (managed_team_ids(user) if user.is_manager else set())


def team_feed_q(user: User) -> Q:
    """Kudos given to or by someone on a team the user is on or manages, or to or by the user."""
    people = _people_of_teams(team_ids_of(user))
    return _received_by(people) | Q(giver_id__in=people) | Q(giver=user) | _received_by([user.pk])


def kudos_visible_to(user: User, *, org_feed: bool | None = None) -> QuerySet[Kudos]:
    qs = Kudos.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    if org_feed is None:
        org_feed = settings_get().org_feed_enabled
    audience = Q(hidden=False) if org_feed else Q(hidden=False) & team_feed_q(user)
    return qs.filter(audience | _concerns(user))


def can_moderate_q(user: User) -> Q:
    """Hide or show again: an admin, or a manager of one of the recipients."""
    if user.is_admin:
        return Q(pk__isnull=False)
    managed = managed_team_ids(user) if user.is_manager else set()
    if not managed:
        return Q(pk__in=[])
    return _received_by(_people_of_teams(managed))


def feed_queryset(user: User, qs: QuerySet[Kudos]) -> QuerySet[Kudos]:
    """Kudos with the figures their card shows (recognition.cards); kudos_cards adds the people,
    values and comments.

    Each figure is a small correlated subquery rather than a join: with the reactions counted
    through a join and GROUP BY and the evidence joined, PostgreSQL spent 5-8 ms planning a page
    (issue 16). The evidence is read through the viewer's own visibility rules, so its name is
    there (`evidence_name`) only when they may open it."""
    return (
        qs.select_related("giver", "rule", "hidden_by")
        .annotate(
            reaction_count=Coalesce(
                Subquery(
                    KudosReaction.objects.filter(kudos=OuterRef("pk"))
                    .order_by()
                    .values("kudos")
                    .annotate(n=Count("*"))
                    .values("n")
                ),
                0,
            ),
            reacted=Exists(KudosReaction.objects.filter(kudos=OuterRef("pk"), user=user)),
            can_moderate=_can_moderate(user),
            evidence_name=Coalesce(
                Subquery(leads_visible_to(user).filter(pk=OuterRef("lead_id")).values("name")[:1]),
                Subquery(goals_visible_to(user).filter(pk=OuterRef("goal_id")).values("title")[:1]),
                Subquery(commitments_visible_to(user).filter(pk=OuterRef("commitment_id")).values("text")[:1]),
            ),
        )
        .order_by("-created_at", "-id")
    )


def feed_page(user: User, qs: QuerySet[Kudos], number, *, per_page: int) -> Page:
    """Page `number` of `qs` (kudos the user may see), newest first, as cards' kudos
    (feed_queryset). The count and the page's ids are read from `qs` alone, so the card's
    figures are computed for the page's kudos only, and not at all on an empty page."""
    page = Paginator(qs.order_by("-created_at", "-id").values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    page.object_list = kudos_cards(user, Kudos.objects.filter(pk__in=ids)) if ids else []
    return page


def person_name(first_name: str, last_name: str, username: str) -> str:
    """User.__str__ from its columns: the full name, else the username."""
    return f"{first_name} {last_name}".strip() or username


@dataclass(frozen=True, slots=True)
class CardPerson:
    pk: int
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class CardValue:
    pk: int
    name: str
    colour: str
    icon: str


@dataclass(frozen=True, slots=True)
class CardComment:
    author: str
    body: str
    created_at: dt.datetime


def kudos_cards(user: User, qs: QuerySet[Kudos]) -> list[Kudos]:
    """The kudos of `qs` as their cards show them (feed_queryset), each with `card_recipients`,
    `card_values` and `card_comments` in the order of the relations (recipients and values by
    their model's ordering, comments oldest first): three values queries for any number of
    kudos. Three prefetch_related levels built and matched model objects for the same rows in
    about 5 ms a page of 20 (issue 16)."""
    kudos = list(feed_queryset(user, qs))
    ids = [k.pk for k in kudos]
    people: dict[int, list[CardPerson]] = {pk: [] for pk in ids}
    values: dict[int, list[CardValue]] = {pk: [] for pk in ids}
    comments: dict[int, list[CardComment]] = {pk: [] for pk in ids}
    if ids:
        rows = (
            KudosRecipient.objects.filter(kudos_id__in=ids)
            .order_by("user__first_name", "user__last_name", "user__username")
            .values_list("kudos_id", "user_id", "user__first_name", "user__last_name", "user__username")
        )
        for kudos_id, pk, first_name, last_name, username in rows:
            people[kudos_id].append(CardPerson(pk, person_name(first_name, last_name, username)))
        rows = (
            Kudos.values.through.objects.filter(kudos_id__in=ids)
            .order_by("companyvalue__position", "companyvalue__name")
            .values_list(
                "kudos_id", "companyvalue_id", "companyvalue__name", "companyvalue__colour", "companyvalue__icon"
            )
        )
        for kudos_id, pk, name, colour, icon in rows:
            values[kudos_id].append(CardValue(pk, name, colour, icon))
        rows = (
            KudosComment.objects.filter(kudos_id__in=ids)
            .order_by("created_at", "id")
            .values_list(
                "kudos_id", "author__first_name", "author__last_name", "author__username", "body", "created_at"
            )
        )
        for kudos_id, first_name, last_name, username, body, created_at in rows:
            comments[kudos_id].append(CardComment(person_name(first_name, last_name, username), body, created_at))
    for k in kudos:
        k.card_recipients, k.card_values, k.card_comments = people[k.pk], values[k.pk], comments[k.pk]
    return kudos


def _can_moderate(user: User):
    """can_moderate_q as a per-kudos figure: hide or show again."""
    if user.is_admin:
        return Value(True)
    managed = managed_team_ids(user) if user.is_manager else set()
    if not managed:
        return Value(False)
    return Exists(KudosRecipient.objects.filter(kudos=OuterRef("pk"), user_id__in=_people_of_teams(managed)))


def kudos_get_for_user(user: User, pk) -> Kudos:
    """One kudos as its card shows it (kudos_cards), 404 when it does not exist or the user may
    not see it."""
    try:
        found = kudos_cards(user, kudos_visible_to(user).filter(pk=pk))
    except (ValueError, TypeError):
        found = []
    if not found:
        raise Http404("No kudos matches the given query.")
    return found[0]


def can_edit(user: User, kudos: Kudos, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return kudos.giver_id == user.pk and now - kudos.created_at <= EDIT_WINDOW


def recipient_choices(user: User, *, org_feed: bool | None = None) -> QuerySet[User]:
    """Whom this user may recognise: anyone active when the organisation feed is on; otherwise
    their teammates and, for a manager, the people of the teams they manage. Never themselves."""
    qs = User.objects.filter(is_active=True).exclude(pk=user.pk)
    if org_feed is None:
        org_feed = settings_get().org_feed_enabled
    if user.is_admin or org_feed:
        return qs
    return qs.filter(pk__in=_people_of_teams(team_ids_of(user)))


def people_visible_to(user: User, *, org_feed: bool | None = None) -> QuerySet[User]:
    """Whose recognition page this user may open: themselves and the people they may recognise."""
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=recipient_choices(user, org_feed=org_feed).values("pk")))


# --- For other apps (reviews packet, review dashboard) ---------------------------------------


def kudos_received(user: User, *, start: dt.datetime, end: dt.datetime) -> QuerySet[Kudos]:
    """Visible (not hidden) kudos `user` received in [start, end), newest first, with the giver,
    values and evidence loaded (3 queries to list them with their values)."""
    return (
        Kudos.objects.filter(
            hidden=False,
            pk__in=KudosRecipient.objects.filter(user=user, created_at__gte=start, created_at__lt=end).values(
                "kudos_id"
            ),
        )
        .select_related("giver", "rule", "lead", "goal", "commitment")
        .prefetch_related("values")
        .order_by("-created_at", "-id")
    )


def last_kudos_received_at(users) -> dict[int, dt.datetime]:
    """When each of `users` (User objects or ids) last received a visible kudos, in one query.
    People who never received one are absent from the answer."""
    ids = [getattr(u, "pk", u) for u in users]
    rows = (
        KudosRecipient.objects.filter(user_id__in=ids, kudos__hidden=False)
        .values("user_id")
        .annotate(last=Max("created_at"))
    )
    return {row["user_id"]: row["last"] for row in rows}


# --- Managers ---------------------------------------------------------------------------------


def unrecognised(
    user: User, *, days: int = 30, now: dt.datetime | None = None
) -> list[tuple[User, dt.datetime | None]]:
    """A manager's private list: people in their teams with no recognition in `days` days,
    with when they last had some (None: never). Two queries."""
    now = now or timezone.now()
    team_ids = None if user.is_admin else managed_team_ids(user)
    people = User.objects.filter(is_active=True, role=User.Role.REP)
    if team_ids is not None:
        people = people.filter(pk__in=_people_of_teams(team_ids))
    people = list(people.order_by("first_name", "last_name", "username"))
    last = last_kudos_received_at(people)
    cutoff = now - dt.timedelta(days=days)
    return [(p, last.get(p.pk)) for p in people if last.get(p.pk) is None or last[p.pk] < cutoff]


def cosign_queue(user: User) -> QuerySet[AutoKudos]:
    """Automatic kudos waiting for this manager's (or an admin's) co-sign."""
    qs = AutoKudos.objects.filter(state=AutoKudos.State.PENDING).select_related("rule", "lead", "goal")
    qs = qs.prefetch_related("recipients")
    if user.is_admin:
        return qs
    managed = managed_team_ids(user) if user.is_manager else set()
    if not managed:
        return qs.none()
    return qs.filter(recipients__in=_people_of_teams(managed)).distinct()


# --- Evidence the giver may link ----------------------------------------------------------------


def evidence_choices(user: User, *, include: str = "", limit: int = 30) -> list[tuple[str, str]]:
    """("lead:12", "Lead: Acme Ltd") for the giver's most recent visible leads, goals and
    commitments (three queries), plus `include` (e.g. the lead the form was opened from) when
    it is visible."""
    leads = list(leads_visible_to(user).order_by("-last_activity_at", "-id").only("id", "name", "company")[:limit])
    kind, _, pk = include.partition(":")
    if kind == "lead" and pk.isdigit() and all(lead.pk != int(pk) for lead in leads):
        leads = list(leads_visible_to(user).filter(pk=int(pk)).only("id", "name", "company")) + leads
    # Only what the labels read (Goal.owner_label, User.__str__): a third less to compile and read.
    names = ("owner__first_name", "owner__last_name", "owner__username")
    goals = (
        goals_visible_to(user)
        .exclude(status="rejected")
        .order_by("-end_date", "-id")
        .only("id", "title", "owner_id", "team_id", "team__name", *names)[:limit]
    )
    commitments = (
        commitments_visible_to(user).order_by("-week_start", "-id").only("id", "text", "owner_id", *names)[:limit]
    )
    return [
        *((f"lead:{x.pk}", f"Lead: {x.name}" + (f" ({x.company})" if x.company else "")) for x in leads),
        *((f"goal:{x.pk}", f"Goal: {x.title} ({x.owner_label})") for x in goals),
        *((f"commitment:{x.pk}", f"Commitment: {x.text} ({x.owner})") for x in commitments),
    ]


def evidence_resolve(user: User, value: str) -> dict:
    """{"lead": Lead} / {"goal": Goal} / {"commitment": Commitment} for a choice, checked visible."""
    if not value:
        return {}
    kind, _, pk = value.partition(":")
    sources = {"lead": leads_visible_to, "goal": goals_visible_to, "commitment": commitments_visible_to}
    if kind not in sources or not pk.isdigit():
        raise ValidationError({"evidence": "Choose evidence you can see."})
    found = sources[kind](user).filter(pk=int(pk)).first()
    if found is None:
        raise ValidationError({"evidence": "Choose evidence you can see."})
    return {kind: found}
