"""Reads of people for the people pages (the admin's list, a manager's person page)."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accountability.models import Invitation, Membership, Team, User
from accountability.scoping import managed_team_ids


def away_today_q() -> Q:
    """`User.is_away` as a filter (the complement of the time-away part of available_reps_q)."""
    today = timezone.localdate()
    return Q(away_until__gte=today) & (Q(away_from__isnull=True) | Q(away_from__lte=today))


def people_for_admin(*, q: str = "", team: Team | None = None, role: str = "", status: str = "") -> QuerySet[User]:
    """Everyone, filtered, with their teams, the teams they manage and their latest invitation
    prefetched: four queries whatever the number of people."""
    people = User.objects.all()
    if q:
        people = people.filter(
            Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q) | Q(username__icontains=q)
        )
    if team is not None:
        people = people.filter(Q(memberships__team=team) | Q(managed_teams=team)).distinct()
    if role:
        people = people.filter(role=role)
    invited = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)  # invited, no password set yet
    if status == "active":
        people = people.filter(is_active=True).exclude(invited)
    elif status == "invited":
        people = people.filter(invited, is_active=True)
    elif status == "away":
        people = people.filter(away_today_q(), is_active=True)
    elif status == "inactive":
        people = people.filter(is_active=False)
    elif status != "all":
        people = people.filter(is_active=True)
    return people.prefetch_related(
        Prefetch("teams", queryset=Team.objects.order_by("name")),
        Prefetch("managed_teams", queryset=Team.objects.order_by("name")),
        Prefetch("invitations", queryset=Invitation.objects.order_by("-created_at", "-id"), to_attr="invitation_list"),
    ).order_by("-is_active", "role", "first_name", "last_name", "username")


def person_for_admin(pk: int) -> User | None:
    return (
        User.objects.prefetch_related(
            "teams",
            "managed_teams",
            Prefetch(
                "invitations", queryset=Invitation.objects.order_by("-created_at", "-id"), to_attr="invitation_list"
            ),
        )
        .filter(pk=pk)
        .first()
    )


def reports_to(person: User) -> list[User]:
    """The managers of the teams `person` is a member of (whom they report to), by name."""
    return list(
        User.objects.filter(managed_teams__memberships__user=person)
        .exclude(pk=person.pk)
        .distinct()
        .order_by("first_name")
    )


def people_managed_by(user: User) -> QuerySet[User]:
    """Whose time away `user` sets: an admin everyone; a manager the members of the teams they
    manage (sub-teams included), never themselves."""
    if user.is_admin:
        return User.objects.all()
    if not user.is_manager:
        return User.objects.none()
    team_ids = managed_team_ids(user)
    return User.objects.filter(pk__in=Membership.objects.filter(team_id__in=team_ids).values("user_id")).exclude(
        pk=user.pk
    )
