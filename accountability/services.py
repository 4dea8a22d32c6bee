"""Every write to teams, memberships and people goes through here."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accountability.forms import normalise_phone
from accountability.models import CalendarFeedToken, Heartbeat, Invitation, Membership, Team, User, validate_time_zone
from accountability.scoping import descendant_team_ids
from accountability.selectors import people_managed_by
from accountability.tasking import task_send_on_commit

logger = logging.getLogger(__name__)

# The task that emails one invitation (accountability/tasks.py), named: tasks import services.
INVITATION_SEND = "accountability.tasks.invitation_send"


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


# --- people -----------------------------------------------------------------------------


def _clean_person(
    *,
    person: User | None,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    teams: list[Team],
    manages: list[Team],
    phone: str,
    time_zone: str,
    away_from: dt.date | None,
    away_until: dt.date | None,
) -> dict:
    """Everything wrong with a person's details at once, by field; else the cleaned values."""
    errors: dict[str, list[str]] = {}
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email = (email or "").strip().lower()
    if not first_name:
        errors["first_name"] = ["Enter their first name."]
    elif len(first_name) > 150:
        errors["first_name"] = ["A first name has at most 150 characters."]
    if len(last_name) > 150:
        errors["last_name"] = ["A last name has at most 150 characters."]
    if not email:
        errors["email"] = ["Enter their email address: the invitation and their notices go there."]
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address such as jo@example.com."]
        else:
            clash = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
            if person is not None:
                clash = clash.exclude(pk=person.pk)
            if clash.exists():
                errors["email"] = ["Someone already has this email address."]
    if role not in User.Role.values:
        errors["role"] = ["Choose a role: sales rep, manager or admin."]
    elif role == User.Role.REP and manages:
        errors["manages"] = ["A sales rep manages no team: make them a manager, or leave this empty."]
    try:
        phone = normalise_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            errors["time_zone"] = exc.messages
    if away_from is not None and away_until is None:
        errors["away_until"] = ["Say until when they are away (the last day away)."]
    elif away_from is not None and away_until < away_from:
        errors["away_until"] = ["The last day away comes before the first: check the dates."]
    if errors:
        raise ValidationError(errors)
    return {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "role": role,
        "phone": phone,
        "time_zone": time_zone,
        "away_from": away_from,
        "away_until": away_until,
    }


def _set_teams(person: User, *, teams: list[Team], manages: list[Team]) -> None:
    """Make `person` a member of exactly `teams` and the manager of exactly `manages` (a team
    they stop managing is left without a manager; one they start managing changes hands)."""
    wanted = {t.pk for t in teams}
    Membership.objects.filter(user=person).exclude(team_id__in=wanted).delete()
    existing = set(Membership.objects.filter(user=person).values_list("team_id", flat=True))
    # In id order: a person's first team (their zone) stays the first one they joined.
    Membership.objects.bulk_create([Membership(user=person, team_id=tid) for tid in sorted(wanted - existing)])
    managed = {t.pk for t in manages}
    Team.objects.filter(manager=person).exclude(pk__in=managed).update(manager=None)
    Team.objects.filter(pk__in=managed).update(manager=person)


def _require_admin(actor: User, what: str = "manage people") -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"Only admins {what}.")


@transaction.atomic
def person_update(
    *,
    actor: User,
    person: User,
    role: str,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    teams: list[Team] | None = None,
    manages: list[Team] | None = None,
    phone: str = "",
    time_zone: str = "",
    away_from: dt.date | None = None,
    away_until: dt.date | None = None,
) -> User:
    """An admin edits a person: names, email, role, teams, teams managed, phone, zone, time away.
    A value left None keeps what the person has. Deactivation is leads.people.person_deactivate
    (it moves their leads)."""
    if not actor.is_admin:
        raise ValidationError("Only admins change roles.")
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.pk == actor.pk and role != User.Role.ADMIN and not actor.is_superuser:
        raise ValidationError("You cannot remove your own admin access.")
    teams = list(person.teams.all()) if teams is None else teams
    manages = list(person.managed_teams.all()) if manages is None else manages
    cleaned = _clean_person(
        person=person,
        first_name=person.first_name if first_name is None else first_name,
        last_name=person.last_name if last_name is None else last_name,
        email=person.email if email is None else email,
        role=role,
        teams=teams,
        manages=manages,
        phone=phone,
        time_zone=time_zone,
        away_from=away_from,
        away_until=away_until,
    )
    for field, value in cleaned.items():
        setattr(person, field, value)  # time_zone "" = their team's zone (accountability.timezones)
    person.full_clean(exclude=["password", "username"])
    person.save()
    _set_teams(person, teams=teams, manages=manages)
    return person


@transaction.atomic
def person_invite(
    *,
    actor: User,
    first_name: str,
    last_name: str = "",
    email: str,
    role: str,
    teams: list[Team] = (),
    manages: list[Team] = (),
    phone: str = "",
    time_zone: str = "",
    away_from: dt.date | None = None,
    away_until: dt.date | None = None,
) -> Invitation:
    """An admin adds a person and emails them a link to set their password (their username is
    their email address). They cannot log in until they have set it."""
    _require_admin(actor, "invite people")
    teams, manages = list(teams), list(manages)
    cleaned = _clean_person(
        person=None, first_name=first_name, last_name=last_name, email=email, role=role, teams=teams,
        manages=manages, phone=phone, time_zone=time_zone, away_from=away_from, away_until=away_until,
    )  # fmt: skip
    person = User(username=cleaned["email"], **cleaned)
    person.set_unusable_password()
    person.full_clean(exclude=["password"])
    person.save()
    _set_teams(person, teams=teams, manages=manages)
    return _invitation_create(person, invited_by=actor)


def _invitation_create(person: User, *, invited_by: User | None) -> Invitation:
    """A fresh invitation; every older one of this person stops working. Emailed on commit."""
    now = timezone.now()
    Invitation.objects.filter(user=person, accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    invitation = Invitation.objects.create(
        user=person,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    task_send_on_commit(INVITATION_SEND, invitation.pk)
    return invitation


@transaction.atomic
def invitation_resend(*, actor: User, person: User) -> Invitation:
    """An admin sends a person a new link (lost, expired); the old link stops working."""
    _require_admin(actor, "invite people")
    person = User.objects.select_for_update().get(pk=person.pk)
    if not person.is_active:
        raise ValidationError("This person is deactivated: reactivate them first.")
    if person.has_usable_password():
        raise ValidationError(f"{person} has already set a password; they can reset it from the log-in page.")
    return _invitation_create(person, invited_by=actor)


# --- the invitation link ------------------------------------------------------------------

_SALT = "accountability.invitation"


def invitation_token(invitation: Invitation) -> str:
    """The signed, timestamped token of the link (django.core.signing; nothing stored)."""
    return signing.dumps({"i": invitation.pk}, salt=_SALT)


def invitation_link(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("invitation-accept", args=[invitation_token(invitation)])


@dataclass(frozen=True)
class InvitationCheck:
    """What a link is worth: `invitation` is usable only when `problem` is empty."""

    invitation: Invitation | None
    problem: str = ""  # "" | invalid | expired | used | replaced | inactive

    @property
    def renewable(self) -> bool:
        """A genuine link that went stale: its owner may ask for a fresh one, sent to the same address."""
        return self.problem in ("expired", "replaced")


def invitation_check(token: str) -> InvitationCheck:
    """Read a link's token: forged or garbled is `invalid`; else the invitation and what stops it."""
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return InvitationCheck(None, "invalid")
    invitation = (
        Invitation.objects.select_related("user").filter(pk=payload.get("i") if isinstance(payload, dict) else None)
    ).first()
    if invitation is None:
        return InvitationCheck(None, "invalid")
    if not invitation.user.is_active:
        return InvitationCheck(invitation, "inactive")
    if invitation.accepted_at is not None or invitation.user.has_usable_password():
        return InvitationCheck(invitation, "used")
    if invitation.revoked_at is not None:
        return InvitationCheck(invitation, "replaced")
    max_age = dt.timedelta(days=settings.INVITATION_VALID_DAYS)
    try:
        signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return InvitationCheck(invitation, "expired")
    if invitation.expires_at <= timezone.now():
        return InvitationCheck(invitation, "expired")
    return InvitationCheck(invitation)


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """The invitee sets their password through a valid link; the link is then used up.
    The password has been validated by the form (Django's SetPasswordForm)."""
    check = invitation_check(token)
    if check.problem:
        raise ValidationError("This invitation link no longer works.")
    invitation = Invitation.objects.select_for_update().get(pk=check.invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation link no longer works.")
    person = User.objects.select_for_update().get(pk=invitation.user_id)
    person.set_password(password)
    person.save(update_fields=["password"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return person


@transaction.atomic
def invitation_renew(*, token: str) -> Invitation | None:
    """The invitee of an expired or replaced link asks for a new one: it goes to the address on
    their account (as a password reset would), never to one they type. None when not renewable."""
    check = invitation_check(token)
    if not check.renewable:
        return None
    return _invitation_create(check.invitation.user, invited_by=check.invitation.invited_by)


def invitation_send(*, invitation_id: int) -> str:
    """Email one invitation (the task). Sent once: a pending invitation not yet sent, locked;
    a stale one (replaced, used, expired) is not sent."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("user", "invited_by")
            .filter(pk=invitation_id, sent_at__isnull=True)
            .first()
        )
        if invitation is None:
            return "already"
        if not invitation.is_pending or not invitation.user.is_active:
            return "stale"
        person = invitation.user
        context = {
            "person": person,
            "invited_by": invitation.invited_by,
            "link": invitation_link(invitation),
            "expires_at": invitation.expires_at,
            "valid_days": settings.INVITATION_VALID_DAYS,
            "site_url": settings.SITE_URL,
        }
        subject = " ".join(render_to_string("emails/invitation-subject.txt", context).split())
        send_mail(subject, render_to_string("emails/invitation-body.txt", context), None, [person.email])
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
    return "sent"


@transaction.atomic
def person_reactivate(*, actor: User, person: User) -> User:
    """An admin lets a deactivated person log in again (their old leads stay where they went)."""
    _require_admin(actor, "reactivate people")
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.is_active:
        raise ValidationError(f"{person} is already active.")
    person.is_active = True
    person.save(update_fields=["is_active"])
    return person


def user_deactivate(*, actor: User, person: User) -> User:
    """Stop a person logging in (their sessions end: Django refuses inactive users). Called by
    leads.people.person_deactivate inside its transaction, which moves their leads first."""
    _require_admin(actor, "deactivate people")
    if person.pk == actor.pk:
        raise ValidationError("You cannot deactivate yourself.")
    if not person.is_active:
        raise ValidationError(f"{person} is already deactivated.")
    person.is_active = False
    person.save(update_fields=["is_active"])
    return person


def manager_reaches(actor: User, person: User) -> bool:
    """Whether `actor` may set `person`'s time away (accountability.selectors.people_managed_by)."""
    return people_managed_by(actor).filter(pk=person.pk).exists()


@transaction.atomic
def time_away_set(*, actor: User, person: User, away_from: dt.date | None, away_until: dt.date | None) -> User:
    """A manager (or an admin) sets a person's time away; empty both to clear it."""
    if not manager_reaches(actor, person):
        raise PermissionDenied("Only their manager or an admin sets a person's time away.")
    errors = {}
    if away_from is not None and away_until is None:
        errors["away_until"] = "Say until when they are away (the last day away)."
    elif away_from is not None and away_until < away_from:
        errors["away_until"] = "The last day away comes before the first: check the dates."
    if errors:
        raise ValidationError(errors)
    person = User.objects.select_for_update().get(pk=person.pk)
    person.away_from, person.away_until = away_from, away_until
    person.save(update_fields=["away_from", "away_until"])
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
