"""Notifications: the in-app row (the bell) and its deliveries on other channels.

`Notification` is what a person is told; `Delivery` is one attempt-tracked copy of it on
email, SMS or chat, at most one per (notification, channel), so a retried or duplicated task can
never send a second email. `SmsMessage` is the outbox of the default SMS backend.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    # One row per event and recipient: a retried sender hits the unique constraint
    # instead of notifying twice.
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notif_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient}"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    CHAT = "chat", "Chat"  # the recipient's own Slack/Teams webhook
    TEAM_CHAT = "team_chat", "Team chat"  # the team's channel (escalations)


class NotificationPreference(models.Model):
    """A user's channels for one kind of notice (in-app is always on). No row: the kind's defaults."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=50)
    email = models.BooleanField(default=False)
    sms = models.BooleanField(default=False)
    chat = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}"


class ChatWebhook(models.Model):
    """A Slack or Microsoft Teams incoming webhook: a team's channel (escalations) or one person's
    own notices. The URL is a secret (whoever holds it can post): pages show it masked."""

    class Service(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    team = models.OneToOneField(
        "accountability.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="chat_webhook"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="chat_webhook"
    )
    service = models.CharField(max_length=10, choices=Service.choices)
    url = models.URLField(max_length=1000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The last refusal (a 4xx: revoked hook, wrong URL), shown on the settings page until it works again.
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False, user__isnull=True) | Q(team__isnull=True, user__isnull=False)),
                name="chat_webhook_team_xor_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} webhook for {self.team or self.user}"

    @property
    def masked_url(self) -> str:
        """Enough to recognise the hook (host and last characters), never enough to post to it."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/…{self.url[-4:]}"


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # gave up after the last retry

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254)  # email address or E.164 number at the time of sending
    # Chat: the webhook it goes to (address then says whose, never the secret URL).
    webhook = models.ForeignKey(ChatWebhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the next attempt is due (now, or after a backoff); the redelivery sweep reads it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            # The same notice is never sent twice on one channel.
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel"),
        ]
        indexes = [
            # The redelivery sweep reads only unfinished deliveries.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="delivery_pending"),
            models.Index(fields=["-failed_at"], condition=Q(state="failed"), name="delivery_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address} ({self.state})"


class SmsMessage(models.Model):
    """An SMS recorded by the outbox backend (the default when no provider is configured)."""

    to = models.CharField(max_length=20)
    body = models.TextField()
    reference = models.CharField(max_length=100, unique=True)  # the delivery it carries: sent once
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"SMS to {self.to}"
