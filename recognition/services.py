"""Every write of recognition: values, kudos, reactions, comments, moderation.

Automatic recognition lives in recognition.auto, awards in recognition.awards.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.models import DocumentVersion
from accountability.models import User
from accountability.notifications.services import notification_create
from accountability.timezones import site_time_zone
from goals.selectors import commitments_visible_to, goals_visible_to
from leads.selectors import leads_visible_to
from recognition import notices
from recognition.awards import LEADERBOARD_METRICS
from recognition.models import (
    CompanyValue,
    Kudos,
    KudosComment,
    KudosEvent,
    KudosReaction,
    KudosRecipient,
    RecognitionSettings,
)
from recognition.selectors import (
    EDIT_WINDOW,
    can_moderate_q,
    recipient_choices,
    settings_get,
)

DEFAULT_VALUES = [
    ("Honesty first", "We never promise what the product does not do.", "#0d6efd", "🤝"),
    ("Own it", "If a lead is yours, it is yours until it is won, lost or handed over.", "#198754", "🎯"),
    ("Respect the no", "A customer who trusts us is worth more than a deal that churns.", "#6f42c1", "🙏"),
]
COLOURS = ["#0d6efd", "#198754", "#6f42c1", "#fd7e14", "#d63384", "#20c997", "#6610f2", "#dc3545"]

logger = logging.getLogger(__name__)

# "- **Honesty first.** We never promise ..." in the expectations document's values section.
_VALUE_LINE = re.compile(r"^\s*[-*]\s+\*\*(?P<name>[^*]+?)[.:]?\*\*\s*(?P<description>.*)$")


def kudos_url(kudos: Kudos) -> str:
    return reverse("recognition:kudos-detail", args=[kudos.pk])


def _event(kudos: Kudos, *, actor: User | None, kind: str, **details) -> None:
    KudosEvent.objects.create(kudos=kudos, kudos_ref=kudos.pk, actor=actor, kind=kind, details=details)


# --- Company values ---------------------------------------------------------------------------


def values_from_text(text: str) -> list[tuple[str, str]]:
    """(name, description) of each bolded bullet of a values section, in order."""
    found = []
    lines = (text or "").splitlines()
    for index, line in enumerate(lines):
        match = _VALUE_LINE.match(line)
        if not match:
            continue
        description = match["description"].strip()
        # A bullet continued on the next, indented line.
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.startswith("  ") and not _VALUE_LINE.match(following):
            description = f"{description} {following.strip()}"
        found.append((match["name"].strip()[:60], description[:300]))
    return found


def _current_values_text() -> str:
    version = DocumentVersion.objects.filter(document__team__isnull=True, is_current=True).first()
    return version.values if version else ""


@transaction.atomic
def values_seed(*, actor: User | None = None) -> int:
    """Create the company values from the values section of the current organisation
    expectations document (a fixed starter list when there is none). Existing names are
    left alone; returns how many were created."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied
    pairs = values_from_text(_current_values_text()) or [(n, d) for n, d, _c, _i in DEFAULT_VALUES]
    icons = {n: i for n, _d, _c, i in DEFAULT_VALUES}
    created = 0
    for position, (name, description) in enumerate(pairs):
        _value, made = CompanyValue.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "position": position,
                "colour": COLOURS[position % len(COLOURS)],
                "icon": icons.get(name, ""),
            },
        )
        created += made
    return created


def value_is_used(value: CompanyValue) -> bool:
    return value.kudos.exists()


@transaction.atomic
def value_delete(*, actor: User, value: CompanyValue) -> None:
    """Delete an unused value. A value on any kudos can only be retired (kept on old kudos)."""
    if not actor.is_admin:
        raise PermissionDenied
    if value_is_used(value):
        raise ValidationError(f"“{value.name}” is on kudos already: retire it instead of deleting it.")
    value.delete()


# --- Kudos ------------------------------------------------------------------------------------


def _month_start(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(site_time_zone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _day_start(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(site_time_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _clean_message(message: str, minimum: int) -> str:
    message = (message or "").strip()
    if len(message) < minimum:
        raise ValidationError({"message": f"Say what they did: at least {minimum} characters ({len(message)} so far)."})
    if len(message) > 2000:
        raise ValidationError({"message": "At most 2000 characters."})
    return message


def _clean_values(values: Iterable[CompanyValue], *, allow_retired_ids: set[int] = frozenset()) -> list:
    values = list(values)
    if not values:
        raise ValidationError({"values": "Choose at least one company value this shows."})
    for value in values:
        if value.retired and value.pk not in allow_retired_ids:
            raise ValidationError({"values": f"“{value.name}” is retired: choose a current value."})
    return values


def _check_evidence(actor: User, *, lead, goal, commitment) -> None:
    given = [e for e in (lead, goal, commitment) if e is not None]
    if len(given) > 1:
        raise ValidationError({"evidence": "Link one piece of evidence at most."})
    if lead is not None and not leads_visible_to(actor).filter(pk=lead.pk).exists():
        raise ValidationError({"evidence": "Choose a lead you can see."})
    if goal is not None and not goals_visible_to(actor).filter(pk=goal.pk).exists():
        raise ValidationError({"evidence": "Choose a goal you can see."})
    if commitment is not None and not commitments_visible_to(actor).filter(pk=commitment.pk).exists():
        raise ValidationError({"evidence": "Choose a commitment you can see."})


def _notify_recipients(kudos: Kudos, recipients: list[User]) -> None:
    who = str(kudos.giver) if kudos.giver_id else "Automatic recognition"
    for person in recipients:
        notification_create(
            recipient=person,
            kind=notices.KUDOS_RECEIVED,
            title=f"{who}: {kudos.message[:120]}",
            key=f"kudos:{kudos.pk}",
            url=kudos_url(kudos),
        )


@transaction.atomic
def kudos_give(
    *,
    actor: User,
    recipients: Iterable[User],
    message: str,
    values: Iterable[CompanyValue],
    lead=None,
    goal=None,
    commitment=None,
    now: dt.datetime | None = None,
) -> Kudos:
    """A person recognises one or more colleagues for something specific, tagged with values."""
    now = now or timezone.now()
    config = settings_get()
    recipients = list({r.pk: r for r in recipients}.values())
    if not recipients:
        raise ValidationError({"recipients": "Choose who you are recognising."})
    if any(r.pk == actor.pk for r in recipients):
        raise ValidationError({"recipients": "You cannot give kudos to yourself."})
    allowed = set(recipient_choices(actor).filter(pk__in=[r.pk for r in recipients]).values_list("pk", flat=True))
    if len(allowed) != len(recipients):
        raise ValidationError({"recipients": "Choose colleagues you work with."})
    message = _clean_message(message, config.min_message_length)
    values = _clean_values(values)
    _check_evidence(actor, lead=lead, goal=goal, commitment=commitment)

    # One giver's gifts are counted and written one at a time (two tabs cannot both pass the caps).
    User.objects.select_for_update().filter(pk=actor.pk).first()
    given = KudosRecipient.objects.filter(kudos__giver=actor)
    if config.monthly_allowance is not None:
        used = given.filter(created_at__gte=_month_start(now)).count()
        if used + len(recipients) > config.monthly_allowance:
            left = max(config.monthly_allowance - used, 0)
            raise ValidationError(
                {"recipients": f"Your monthly allowance is {config.monthly_allowance} kudos; {left} left this month."}
            )
    today = given.filter(created_at__gte=_day_start(now), user_id__in=[r.pk for r in recipients])
    over = [
        row["user_id"]
        for row in today.values("user_id").annotate(n=Count("id"))
        if row["n"] >= config.max_per_recipient_per_day
    ]
    if over:
        names = ", ".join(str(r) for r in recipients if r.pk in over)
        raise ValidationError(
            {"recipients": f"You already recognised {names} {config.max_per_recipient_per_day} times today."}
        )

    kudos = Kudos.objects.create(
        giver=actor, message=message, lead=lead, goal=goal, commitment=commitment, created_at=now
    )
    KudosRecipient.objects.bulk_create([KudosRecipient(kudos=kudos, user=r, created_at=now) for r in recipients])
    kudos.values.set(values)
    _event(kudos, actor=actor, kind=KudosEvent.Kind.GIVEN, recipients=[r.pk for r in recipients])
    _notify_recipients(kudos, recipients)
    return kudos


@transaction.atomic
def kudos_update(
    *, actor: User, kudos: Kudos, message: str, values: Iterable[CompanyValue], now: dt.datetime | None = None
) -> Kudos:
    """The giver corrects their kudos within 10 minutes of giving it."""
    now = now or timezone.now()
    kudos = Kudos.objects.select_for_update().get(pk=kudos.pk)
    if kudos.giver_id != actor.pk:
        raise PermissionDenied
    if now - kudos.created_at > EDIT_WINDOW:
        raise ValidationError("A kudos can be edited for 10 minutes after it is given.")
    old_values = set(kudos.values.values_list("pk", flat=True))
    message = _clean_message(message, settings_get().min_message_length)
    values = _clean_values(values, allow_retired_ids=old_values)
    changes = {}
    if message != kudos.message:
        changes["message"] = [kudos.message, message]
    new_values = {v.pk for v in values}
    if new_values != old_values:
        changes["values"] = [sorted(old_values), sorted(new_values)]
    if changes:
        kudos.message = message
        kudos.edited_at = now
        kudos.save(update_fields=["message", "edited_at"])
        kudos.values.set(values)
        _event(kudos, actor=actor, kind=KudosEvent.Kind.EDITED, **changes)
    return kudos


@transaction.atomic
def kudos_delete(*, actor: User, kudos: Kudos) -> None:
    """The giver withdraws their own kudos (the audit trail keeps that it existed)."""
    if kudos.giver_id != actor.pk:
        raise PermissionDenied
    _event(kudos, actor=actor, kind=KudosEvent.Kind.DELETED, message=kudos.message)
    kudos.delete()


def _check_can_moderate(actor: User, kudos: Kudos) -> None:
    if not Kudos.objects.filter(can_moderate_q(actor), pk=kudos.pk).exists():
        raise PermissionDenied


@transaction.atomic
def kudos_hide(*, actor: User, kudos: Kudos, reason: str, now: dt.datetime | None = None) -> Kudos:
    """A manager of a recipient (or an admin) hides a kudos from the feeds, with a reason.
    Kept and audited; the giver is told why."""
    _check_can_moderate(actor, kudos)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it is hidden: the giver is told."})
    now = now or timezone.now()
    updated = Kudos.objects.filter(pk=kudos.pk, hidden=False).update(
        hidden=True, hidden_reason=reason[:300], hidden_by=actor, hidden_at=now
    )
    if not updated:
        raise ValidationError("This kudos is already hidden.")
    kudos.refresh_from_db()
    _event(kudos, actor=actor, kind=KudosEvent.Kind.HIDDEN, reason=reason)
    if kudos.giver_id and kudos.giver_id != actor.pk:
        notification_create(
            recipient=kudos.giver,
            kind=notices.KUDOS_HIDDEN,
            title=f"{actor} hid a kudos you gave: {reason[:120]}",
            key=f"kudos-hidden:{kudos.pk}:{now.isoformat()}",
            url=kudos_url(kudos),
        )
    return kudos


@transaction.atomic
def kudos_unhide(*, actor: User, kudos: Kudos) -> Kudos:
    _check_can_moderate(actor, kudos)
    updated = Kudos.objects.filter(pk=kudos.pk, hidden=True).update(
        hidden=False, hidden_reason="", hidden_by=None, hidden_at=None
    )
    if not updated:
        raise ValidationError("This kudos is not hidden.")
    kudos.refresh_from_db()
    _event(kudos, actor=actor, kind=KudosEvent.Kind.UNHIDDEN)
    return kudos


# --- Reactions and comments -------------------------------------------------------------------


def reaction_toggle(*, actor: User, kudos: Kudos) -> bool:
    """+1 (or take it back). Returns whether the actor now reacts. A double click is harmless:
    the unique constraint keeps one reaction per person."""
    with transaction.atomic():
        deleted, _ = KudosReaction.objects.filter(kudos=kudos, user=actor).delete()
        if deleted:
            return False
        try:
            with transaction.atomic():
                KudosReaction.objects.create(kudos=kudos, user=actor)
        except IntegrityError:
            pass
        return True


@transaction.atomic
def comment_add(*, actor: User, kudos: Kudos, body: str) -> KudosComment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a comment."})
    if len(body) > 1000:
        raise ValidationError({"body": "At most 1000 characters."})
    return KudosComment.objects.create(kudos=kudos, author=actor, body=body)


# --- Automatic kudos (posting) ----------------------------------------------------------------


def kudos_post_automatic(
    *, rule, recipients: list[User], message: str, lead=None, goal=None, now: dt.datetime | None = None
) -> Kudos:
    """Post a system kudos (called inside the AutoKudos transaction that makes it once only)."""
    now = now or timezone.now()
    kudos = Kudos.objects.create(giver=None, rule=rule, message=message, lead=lead, goal=goal, created_at=now)
    KudosRecipient.objects.bulk_create([KudosRecipient(kudos=kudos, user=r, created_at=now) for r in recipients])
    if rule.value_id:
        kudos.values.set([rule.value_id])
    _event(kudos, actor=None, kind=KudosEvent.Kind.POSTED, rule=rule.code)
    _notify_recipients(kudos, recipients)
    return kudos


# --- Settings ---------------------------------------------------------------------------------


@transaction.atomic
def recognition_settings_update(*, actor: User, **fields) -> RecognitionSettings:
    """An admin changes the organisation's recognition settings (each change is logged)."""
    if not actor.is_admin:
        raise PermissionDenied

    unknown = set(fields.get("leaderboard_metrics") or []) - set(LEADERBOARD_METRICS)
    if unknown:
        raise ValidationError({"leaderboard_metrics": f"Unknown metrics: {', '.join(sorted(unknown))}."})
    if fields.get("max_per_recipient_per_day") == 0:
        raise ValidationError({"max_per_recipient_per_day": "At least 1, or nobody could recognise anybody."})
    row = RecognitionSettings.objects.select_for_update().get(pk=settings_get().pk)
    changed = {}
    for name, value in fields.items():
        if getattr(row, name) != value:
            changed[name] = [getattr(row, name), value]
            setattr(row, name, value)
    if changed:
        row.full_clean()
        row.save()
        logger.info("recognition settings changed by %s: %s", actor.pk, changed)
    return row
