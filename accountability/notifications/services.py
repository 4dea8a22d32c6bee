"""Writes for notifications. `notification_create` is THE entry point every app calls.

It records the in-app notice (the bell) once per (recipient, key) and, in the same
transaction, one `Delivery` row per extra channel the recipient chose for that kind of
notice (email, SMS, their chat webhook), and for an escalation one to the team's chat channel.
Each delivery is sent by its own task, enqueued on commit, so a
failing SMS provider never holds back the email or the bell.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accountability.forms import normalise_phone
from accountability.models import Team, User
from accountability.notifications import chat
from accountability.notifications.kinds import KINDS, Kind
from accountability.notifications.models import (
    Channel,
    ChatWebhook,
    Delivery,
    Notification,
    NotificationPreference,
)
from accountability.notifications.sms import get_sms_backend
from accountability.scoping import can_manage_team
from accountability.tasking import task_send, task_send_on_commit

logger = logging.getLogger(__name__)

# The task that sends one delivery (accountability.notifications.tasks), named: tasks import
# services, never the other way round.
DELIVERY_SEND = "accountability.notifications.tasks.delivery_send"
DELIVERIES_SEND = "accountability.notifications.tasks.deliveries_send"


def max_attempts() -> int:
    return settings.NOTIFICATION_MAX_ATTEMPTS


def backoff_seconds(attempts: int) -> int:
    """Exponential backoff after `attempts` failures: 30 s, 60 s, 120 s, 240 s, ... capped at 10 minutes
    (never a long countdown: the redelivery sweep owns anything later)."""
    base = settings.NOTIFICATION_BACKOFF_SECONDS
    return int(min(base * 2 ** max(attempts - 1, 0), 600))


@dataclass(frozen=True)
class ChannelChoice:
    email: bool
    sms: bool
    chat: bool = False


def channels_for(user: User, kind: Kind | str) -> ChannelChoice:
    """The channels `user` gets for `kind`, besides in-app: their preference, else the kind's default.
    SMS needs a phone number, email an address, chat a webhook (`chat_hook`, looked up if not given)."""
    code = str(kind)
    return _choice(user, code, NotificationPreference.objects.filter(user=user, kind=code).first())


def _choice(
    user: User, code: str, pref: NotificationPreference | None, chat_hook: ChatWebhook | None = None
) -> ChannelChoice:
    default = KINDS.get(code)
    email = pref.email if pref else bool(default and default.email)
    sms = pref.sms if pref else bool(default and default.sms)
    wants_chat = pref.chat if pref else bool(default and default.chat)
    return ChannelChoice(email=email and bool(user.email), sms=sms and bool(user.phone), chat=wants_chat)


def _chat_delivery(notification: Notification, hook: ChatWebhook | None, channel: str) -> list[Delivery]:
    if hook is None:
        return []
    whose = hook.team.name if hook.team_id else hook.user.get_username()
    address = f"{hook.get_service_display()} · {whose}"[:254]
    return [Delivery(notification=notification, channel=channel, address=address, webhook=hook)]


def notification_create(
    *,
    recipient: User,
    kind: Kind,
    title: str,
    key: str,
    body: str = "",
    url: str = "",
    actor: User | None = None,
    team_chat: Team | None = None,
) -> Notification | None:
    """Record an in-app notice once per (recipient, key), plus its email/SMS/chat deliveries per the
    recipient's preferences. Returns None when it already exists (nothing is sent again).

    `team_chat`: also post it to that team's chat channel, when the team has one (escalations).

    `actor` is who did what the notice is about (None: the system). Nobody is told of their own
    act: the rule lives here, once, rather than as an `if` beside every caller.

    `kind` is a `Kind` of the sending app's notices.py. A kind's code (a string) still works for
    callers not yet converted, with a DeprecationWarning."""
    kind = _kind_of(kind)
    if actor is not None and actor.pk == recipient.pk:
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind.code, title=title[:200], body=body, url=url, dedupe_key=key[:200]
            )
            choice = channels_for(recipient, kind)
            deliveries = []
            if choice.email:
                deliveries.append(Delivery(notification=notification, channel=Channel.EMAIL, address=recipient.email))
            if choice.sms:
                deliveries.append(Delivery(notification=notification, channel=Channel.SMS, address=recipient.phone))
            if choice.chat:
                hook = ChatWebhook.objects.filter(user=recipient).select_related("user").first()
                deliveries += _chat_delivery(notification, hook, Channel.CHAT)
            if team_chat is not None:
                hook = ChatWebhook.objects.filter(team=team_chat).select_related("team").first()
                deliveries += _chat_delivery(notification, hook, Channel.TEAM_CHAT)
            if deliveries:
                now = timezone.now()
                for delivery in deliveries:
                    delivery.next_attempt_at = now
                Delivery.objects.bulk_create(deliveries)
                for delivery in deliveries:
                    _enqueue_on_commit(DELIVERY_SEND, delivery.pk)
            return notification
    except IntegrityError:
        return None


@dataclass(frozen=True)
class NotificationDraft:
    """One in-app notice to record with `notifications_create_many` (the arguments of notification_create)."""

    recipient: User
    kind: Kind
    title: str
    key: str
    body: str = ""
    url: str = ""


# Deliveries recorded together are sent together: one task per this many, over one email connection.
SEND_BATCH = 50


def notifications_create_many(
    drafts: list[NotificationDraft], *, preferences: dict[tuple[int, str], NotificationPreference | None] | None = None
) -> list[Notification]:
    """Record many in-app notices at once, for a burst (the SLA sweep's Monday-morning wave): one
    INSERT for the notices, one query for the recipients' channel preferences, one INSERT for their
    email/SMS deliveries, sent on commit by one task per SEND_BATCH deliveries (one connection).

    Call it inside the caller's transaction, for notices that do not exist yet (each draft's key is
    new, e.g. that of a notice row the caller has locked): a duplicate raises IntegrityError and the
    caller's transaction rolls back, so the caller falls back to notification_create one at a time.

    `preferences`: the recipients' preference rows the caller already read, by (user id, kind code)
    (None: that person has none for the kind); only the pairs missing from it are queried."""
    if not drafts:
        return []
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=d.recipient,
                kind=d.kind.code,
                title=d.title[:200],
                body=d.body,
                url=d.url,
                dedupe_key=d.key[:200],
            )
            for d in drafts
        ]
    )
    prefs = dict(preferences or {})
    unknown = [d for d in drafts if (d.recipient.pk, d.kind.code) not in prefs]
    if unknown:
        prefs.update(
            ((p.user_id, p.kind), p)
            for p in NotificationPreference.objects.filter(
                user_id__in={d.recipient.pk for d in unknown}, kind__in={d.kind.code for d in unknown}
            )
        )
    chat_users = {user_id for (user_id, _kind), p in prefs.items() if p is not None and p.chat}
    hooks = (
        {h.user_id: h for h in ChatWebhook.objects.filter(user_id__in=chat_users).select_related("user")}
        if chat_users
        else {}
    )
    now = timezone.now()
    deliveries = []
    for draft, notification in zip(drafts, notifications, strict=True):
        user = draft.recipient
        choice = _choice(user, draft.kind.code, prefs.get((user.pk, draft.kind.code)))
        if choice.email:
            deliveries.append(Delivery(notification=notification, channel=Channel.EMAIL, address=user.email))
        if choice.sms:
            deliveries.append(Delivery(notification=notification, channel=Channel.SMS, address=user.phone))
        if choice.chat:
            deliveries += _chat_delivery(notification, hooks.get(user.pk), Channel.CHAT)
    for delivery in deliveries:
        delivery.next_attempt_at = now
    Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    for start in range(0, len(ids), SEND_BATCH):
        _enqueue_on_commit(DELIVERIES_SEND, ids[start : start + SEND_BATCH])
    return notifications


def _kind_of(kind: Kind | str) -> Kind:
    if isinstance(kind, Kind):
        return kind
    warnings.warn(
        f"notification_create(kind={kind!r}): pass the Kind object from the app's notices.py",
        DeprecationWarning,
        stacklevel=3,
    )
    return KINDS.get(kind) or Kind(code=kind, label=kind)  # not registered: in-app only, as before


def _enqueue_on_commit(task_name: str, *args) -> None:
    task_send_on_commit(task_name, *args)


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())


# --- delivery ---------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    if not path:
        return settings.SITE_URL + "/notifications/"
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + path


def _send_email(delivery: Delivery, connection=None) -> str:
    notification = delivery.notification
    context = {
        "notification": notification,
        "recipient": notification.recipient,
        "link": absolute_url(notification.url),
    }
    subject = " ".join(render_to_string("emails/notification-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/notification-body.txt", context),
        to=[delivery.address],
        headers={"X-Accountability-Delivery": str(delivery.pk)},
    )
    message.attach_alternative(render_to_string("emails/notification-body.html", context), "text/html")
    if connection is None:
        message.send(fail_silently=False)
    else:
        connection.send_messages([message])  # a batch's one connection (deliveries_send_batch)
    return ""


def _send_sms(delivery: Delivery, connection=None) -> str:
    notification = delivery.notification
    text = f"{notification.title} {absolute_url(notification.url)}"
    return get_sms_backend().send(to=delivery.address, body=text, reference=f"delivery-{delivery.pk}")


def _send_chat(delivery: Delivery, connection=None) -> str:
    hook = delivery.webhook
    if hook is None:
        raise chat.ChatError("the chat webhook was removed before this notice was sent", permanent=True)
    notification = delivery.notification
    data = chat.payload(
        hook.service, title=notification.title, body=notification.body, link=absolute_url(notification.url)
    )
    try:
        answer = chat.post(hook.url, data)
    except chat.ChatError as exc:
        if exc.permanent:  # shown on the webhook's settings page until a post works again
            ChatWebhook.objects.filter(pk=hook.pk).update(last_error=str(exc)[:500], last_error_at=timezone.now())
        raise
    if hook.last_error:
        ChatWebhook.objects.filter(pk=hook.pk).update(last_error="", last_error_at=None)
    return answer


SENDERS = {
    Channel.EMAIL: _send_email,
    Channel.SMS: _send_sms,
    Channel.CHAT: _send_chat,
    Channel.TEAM_CHAT: _send_chat,
}


@dataclass(frozen=True)
class AttemptResult:
    outcome: str  # sent | retry | failed | skipped
    attempts: int = 0
    error: str = ""


def delivery_attempt(*, delivery_id: int, now: datetime | None = None, email_connection=None) -> AttemptResult:
    """Try to send one delivery, once.

    The row is locked (skip_locked) for the whole attempt: a duplicate task finds it locked and
    does nothing; a worker killed mid-send drops its connection, the lock and the transaction go
    with it, and the redelivered task sends it. A sent or failed row is never sent again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification", "notification__recipient", "webhook")
            .filter(pk=delivery_id, state=Delivery.State.PENDING)
            .first()
        )
        if delivery is None:
            return AttemptResult("skipped")
        delivery.attempts += 1
        try:
            connection = email_connection() if email_connection and delivery.channel == Channel.EMAIL else None
            delivery.provider_id = SENDERS[delivery.channel](delivery, connection)[:100]
        except Exception as exc:  # any failure of a provider (SmsError, SMTP, network) is retried
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            # A refusal that will answer the same again (a chat hook's 4xx) is not retried.
            if delivery.attempts >= max_attempts() or getattr(exc, "permanent", False):
                delivery.state = Delivery.State.FAILED
                delivery.failed_at = now
                outcome = "failed"
                logger.error("delivery %s failed for good: %s", delivery.pk, delivery.last_error)
            else:
                delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
                outcome = "retry"
        else:
            delivery.state = Delivery.State.SENT
            delivery.sent_at = now
            outcome = "sent"
        delivery.save(
            update_fields=["attempts", "provider_id", "last_error", "state", "failed_at", "next_attempt_at", "sent_at"]
        )
        return AttemptResult(outcome, delivery.attempts, delivery.last_error)


def longest_countdown() -> int:
    """The longest a retry may wait in a worker's memory (a countdown); a longer backoff is left to
    the sweep's deliveries_requeue, so a killed worker never sits on a delivery for long."""
    return settings.SLA_SWEEP_LOOKAHEAD_SECONDS


def deliveries_send_batch(*, delivery_ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Send a batch of deliveries, each attempted in its own transaction exactly as delivery_attempt
    (so a batch delivered twice sends nothing twice), the emails over one SMTP connection, opened at
    the first email and closed at the end. A failed one is retried by its own task when its backoff
    is short, else by the sweep's requeue."""
    opened = []

    def email_connection():
        if not opened:
            connection = get_connection(fail_silently=False)
            connection.open()
            opened.append(connection)
        return opened[0]

    outcomes: dict[str, int] = {}
    try:
        for pk in delivery_ids:
            result = delivery_attempt(delivery_id=pk, now=now, email_connection=email_connection)
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            if result.outcome == "retry":
                if opened:  # a failed SMTP conversation: start the next email on a fresh connection
                    opened.pop().close()
                countdown = backoff_seconds(result.attempts)
                if countdown <= longest_countdown():
                    task_send(DELIVERY_SEND, (pk,), countdown=countdown)
    finally:
        if opened:
            opened[0].close()
    return outcomes


def deliveries_requeue(*, now: datetime | None = None, grace: timedelta = timedelta(minutes=2)) -> int:
    """Enqueue again every pending delivery whose next attempt is overdue by `grace`: its message
    was lost (broker down at enqueue time, a retry dropped). Sending twice is impossible: the
    attempt locks the row and checks it is still pending."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now - grace)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:5000]
    )
    if ids:
        Delivery.objects.filter(pk__in=ids, state=Delivery.State.PENDING).update(next_attempt_at=now)
        # In batches, as recorded: after a Redis restart lost a wave, 100 messages instead of 5,000.
        for start in range(0, len(ids), SEND_BATCH):
            _enqueue_on_commit(DELIVERIES_SEND, ids[start : start + SEND_BATCH])
    return len(ids)


def delivery_retry(*, actor: User, delivery: Delivery) -> Delivery:
    """An admin sends a finally-failed delivery again (a fresh set of attempts)."""
    if not actor.is_admin:
        raise ValidationError("Only an admin can retry a delivery.")
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.FAILED).update(
            state=Delivery.State.PENDING, attempts=0, next_attempt_at=timezone.now(), failed_at=None
        )
        if not updated:
            raise ValidationError("Only a failed delivery can be retried.")
        _enqueue_on_commit(DELIVERY_SEND, delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- preferences ------------------------------------------------------------------------


@transaction.atomic
def notification_preferences_save(*, actor: User, user: User, phone: str, choices: dict[str, tuple[bool, ...]]) -> User:
    """Save a user's phone number and their (email, sms[, chat]) choice per kind of notice."""
    if actor.pk != user.pk and not actor.is_admin:
        raise ValidationError("You can only change your own notification preferences.")
    try:
        phone = normalise_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None
    unknown = set(choices) - set(KINDS)
    if unknown:
        raise ValidationError(f"Unknown kinds of notice: {', '.join(sorted(unknown))}.")
    if not phone and any(choice[1] for choice in choices.values()):
        raise ValidationError({"phone": ["Add a mobile number to receive SMS notices."]})
    wants_chat = any(len(choice) > 2 and choice[2] for choice in choices.values())
    if wants_chat and not ChatWebhook.objects.filter(user=user).exists():
        raise ValidationError("Add your chat webhook below to receive chat notices.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.phone != phone:
        user.phone = phone
        user.save(update_fields=["phone"])
    for kind, choice in choices.items():
        defaults = {"email": choice[0], "sms": choice[1]}
        if len(choice) > 2:
            defaults["chat"] = choice[2]
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults=defaults)
    return user


# --- chat webhooks ----------------------------------------------------------------------


def _check_webhook_owner(actor: User, *, team: Team | None, user: User | None) -> None:
    if (team is None) == (user is None):
        raise ValueError("A chat webhook belongs to one team or one person.")
    if team is not None and not can_manage_team(actor, team):
        raise PermissionDenied("Only the team's manager or an admin sets its chat channel.")
    if user is not None and actor.pk != user.pk:
        raise PermissionDenied("People set their own chat webhook.")


@transaction.atomic
def chat_webhook_save(
    *, actor: User, service: str, url: str, team: Team | None = None, user: User | None = None
) -> ChatWebhook:
    """Set (or replace) the chat webhook of a team (its escalations) or of a person (their notices).
    Validated to Slack's or Teams' own hosts; a replaced URL is forgotten."""
    _check_webhook_owner(actor, team=team, user=user)
    try:
        url = chat.validate_webhook_url(url, service)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None
    hook, _ = ChatWebhook.objects.update_or_create(
        team=team,
        user=user,
        defaults={"service": service, "url": url, "updated_by": actor, "last_error": "", "last_error_at": None},
    )
    return hook


@transaction.atomic
def chat_webhook_remove(*, actor: User, team: Team | None = None, user: User | None = None) -> bool:
    """Remove a webhook. Deliveries not yet sent to it fail with a clear reason (they keep no URL)."""
    _check_webhook_owner(actor, team=team, user=user)
    deleted, _ = ChatWebhook.objects.filter(team=team, user=user).delete()
    if user is not None:
        NotificationPreference.objects.filter(user=user, chat=True).update(chat=False)
    return bool(deleted)


def chat_webhook_test(*, actor: User, hook: ChatWebhook) -> str:
    """Post a test message now (a button on the settings page) and say what the service answered.
    Raises ChatError with the reason when it did not arrive. Not a delivery: nothing to retry."""
    _check_webhook_owner(actor, team=hook.team, user=hook.user)
    whose = f"the {hook.team.name} channel" if hook.team_id else f"{hook.user}'s notices"
    data = chat.payload(
        hook.service,
        title="Test message from Accountability",
        body=f"{actor} checked that {whose} reach this chat.",
        link=absolute_url(reverse("notifications:preference-edit" if hook.user_id else "notifications:chat-team-list")),
    )
    try:
        answer = chat.post(hook.url, data)
    except chat.ChatError as exc:
        ChatWebhook.objects.filter(pk=hook.pk).update(last_error=str(exc)[:500], last_error_at=timezone.now())
        raise
    ChatWebhook.objects.filter(pk=hook.pk).update(last_error="", last_error_at=None)
    return answer
