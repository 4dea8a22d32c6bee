"""People, teams and roles: the core every other app scopes its data by."""

import zoneinfo

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accountability.dataversion import TrackedManager


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known time zone (for example Europe/London).") from None


def available_reps_q(prefix: str = "") -> Q:
    """Who can take a lead today: an active rep who is not away (`User.is_away`), as a filter.

    The one rule for round-robin assignment, escalation reassignment and reassign menus;
    `prefix` reaches the user through a relation, e.g. "user__" from Membership.
    Time away is away_from..away_until, both days included; no away_from: from now. A person
    invited who has not set their password yet cannot log in, so gets no lead either.
    """
    today = timezone.localdate()
    return (
        Q(**{f"{prefix}role": User.Role.REP, f"{prefix}is_active": True})
        & ~Q(**{f"{prefix}password__startswith": UNUSABLE_PASSWORD_PREFIX})
    ) & (
        Q(**{f"{prefix}away_until__isnull": True})
        | Q(**{f"{prefix}away_until__lt": today})
        | Q(**{f"{prefix}away_from__gt": today})
    )


def person_name(first_name: str, last_name: str, username: str) -> str:
    """How a person is named on a page: `str(user)` (AbstractUser.get_full_name, else the
    username) from the three columns, for pages that read them with values()."""
    return f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    class Role(models.TextChoices):
        REP = "rep", "Sales rep"
        MANAGER = "manager", "Manager"
        ADMIN = "admin", "Admin"

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, for SMS notices.")
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    # A rep away (leave, holiday) from away_from (empty: now) up to and including away_until gets
    # no new leads (available_reps_q).
    away_from = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(away_from__isnull=True) | Q(away_until__gte=models.F("away_from")),
                name="user_away_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def effective_role(self) -> str:
        """A superuser is always an admin, whatever the role column says."""
        return self.Role.ADMIN if self.is_superuser else self.role

    @property
    def role_label(self) -> str:
        return self.Role(self.effective_role).label

    @property
    def is_admin(self) -> bool:
        return self.effective_role == self.Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.effective_role == self.Role.MANAGER

    @property
    def is_rep(self) -> bool:
        return self.effective_role == self.Role.REP

    @property
    def is_away(self) -> bool:
        today = timezone.localdate()
        return (
            self.away_until is not None
            and self.away_until >= today
            and (self.away_from is None or self.away_from <= today)
        )

    @property
    def away_planned(self) -> bool:
        """Time away set for later (not away yet)."""
        return self.away_until is not None and self.away_from is not None and self.away_from > timezone.localdate()


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # The person accountable for the team; escalations go up the chain of managers.
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="team_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Heartbeat(models.Model):
    """The last time a background process proved it was working (one row per process kind).

    The Celery worker touches "worker" each time it finishes the minute SLA sweep; /healthz reads it
    with the beat's own record (django-celery-beat's last_run_at), so a stopped worker or beat shows as
    a failure instead of as silence (no reminders at all)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class CalendarFeedToken(models.Model):
    """The secret in a person's private calendar feed URL (follow-ups and 1:1s as iCalendar).

    Whoever holds the URL reads the feed, as with Google's "secret address": resetting replaces the
    token, so the old URL answers 404 at once. Stored as is because the owner must see their URL
    again; it is 256 random bits, never derived from anything guessable."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed_token")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class Invitation(models.Model):
    """An invitation to set a password and log in, sent by email to a new person.

    The link carries a signed, timestamped token (django.core.signing) naming this row; it works
    until `expires_at`, once (accepted_at), and only for the person's latest invitation: inviting
    them again revokes the older ones. Nothing secret is stored here."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Invitation for {self.user}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
