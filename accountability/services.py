"""Every write to teams, memberships and people goes through here."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accountability.models import CalendarFeedToken, Heartbeat, Membership, Team, User
from accountability.scoping import descendant_team_ids


def _check_parent(team: Team | None, parent: Team | None) -> None:
    if team is None or team.pk is None or parent is None:
        return
    if parent.pk in descendant_team_ids([team.pk]):
        raise ValidationError({"parent": "A team cannot sit under itself or one of its own sub-teams."})


@transaction.atomic
def team_save(
    *,
    actor: User,
    team: Team | None = None,
    name: str,
    parent: Team | None,
    manager: User | None,
    time_zone: str,
    members: list[User],
) -> Team:
    """Create or update a team and set its members exactly to `members`."""
    if not actor.is_admin:
        raise ValidationError("Only admins configure teams.")
    _check_parent(team, parent)
    team = team or Team()
    team.name = name.strip()
    team.parent = parent
    team.manager = manager
    team.time_zone = time_zone
    team.full_clean()
    team.save()
    wanted = {u.pk for u in members}
    Membership.objects.filter(team=team).exclude(user_id__in=wanted).delete()
    existing = set(Membership.objects.filter(team=team).values_list("user_id", flat=True))
    Membership.objects.bulk_create([Membership(team=team, user_id=uid) for uid in wanted - existing])
    return team


@transaction.atomic
def person_update(
    *,
    actor: User,
    person: User,
    role: str,
    away_until=None,
    phone: str = "",
    time_zone: str = "",
    is_active: bool = True,
) -> User:
    if not actor.is_admin:
        raise ValidationError("Only admins change roles.")
    if person.pk == actor.pk and ((role != User.Role.ADMIN and not actor.is_superuser) or not is_active):
        raise ValidationError("You cannot remove your own admin access.")
    person.role = role
    person.away_until = away_until
    person.phone = phone
    person.time_zone = time_zone  # "" = their team's zone (accountability.timezones)
    person.is_active = is_active
    person.full_clean()
    person.save()
    return person


def heartbeat_touch(*, name: str) -> None:
    """Record that a background process just did its work (one upsert; read by /healthz)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


# --- private calendar feeds -------------------------------------------------------------


def calendar_feed_token_get_or_create(*, user: User) -> CalendarFeedToken:
    """The person's calendar feed token, made the first time they open the page."""
    token, _ = CalendarFeedToken.objects.get_or_create(user=user, defaults={"token": secrets.token_urlsafe(32)})
    return token


@transaction.atomic
def calendar_feed_token_reset(*, actor: User, user: User) -> CalendarFeedToken:
    """Revoke the feed URL: a new token replaces the old, which answers 404 from now on (a calendar
    app still subscribed to it stops updating). Only its owner resets it."""
    if actor.pk != user.pk:
        raise PermissionDenied("People reset their own calendar feed.")
    token, created = CalendarFeedToken.objects.select_for_update().get_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32)}
    )
    if not created:
        token.token = secrets.token_urlsafe(32)
        token.created_at = timezone.now()
        token.save(update_fields=["token", "created_at"])
    return token
