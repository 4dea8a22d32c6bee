"""Every write to leads and their timeline goes through here.

Each service runs in one transaction and writes its timeline entry (Activity) in that
same transaction, so a lead's accountability columns and its timeline never disagree.
`actor=None` means the system (the API, the web form, an import, the SLA sweep).

Duplicates: a new lead whose email or phone matches an OPEN lead of the SAME TEAM is
not created; the inquiry is recorded on the existing lead and its owner is told. We
match within the team (not org-wide) because a token or web form only ever creates
leads in its own team, and a match in another team would tell that source about a
team it cannot see.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accountability.forms import normalise_phone
from accountability.models import Membership, Team, User, available_reps_q
from accountability.notifications.models import NotificationPreference
from accountability.notifications.services import NotificationDraft, notification_create, notifications_create_many
from accountability.scoping import can_manage_team
from leads import notices
from leads.models import Activity, FollowUp, IdempotencyKey, IntakeSource, Lead, TeamIntakeSettings
from leads.selectors import NOT_WRITABLE, lead_writable_by
from leads.sla.handover import sla_clocks_hand_over
from leads.sla.selectors import first_contact_business_minutes

# What a rep may record as the outcome of each kind of activity. A note has none.
OUTCOMES: dict[str, list[tuple[str, str]]] = {
    Activity.Kind.CALL: [
        ("connected", "Connected"),
        ("voicemail", "Left voicemail"),
        ("no_answer", "No answer"),
        ("wrong_number", "Wrong number"),
    ],
    Activity.Kind.EMAIL: [("sent", "Sent"), ("replied", "Replied")],
    Activity.Kind.MEETING: [("held", "Held"), ("no_show", "No-show"), ("rescheduled", "Rescheduled")],
    Activity.Kind.SMS: [("sent", "Sent"), ("replied", "Replied")],
    Activity.Kind.NOTE: [],
}
OUTCOME_LABELS = {value: label for choices in OUTCOMES.values() for value, label in choices}

# Clock skew we tolerate on "when did it happen" before calling it the future.
_FUTURE_TOLERANCE = timedelta(minutes=5)


def edit_window() -> timedelta:
    return timedelta(minutes=settings.LEADS_ACTIVITY_EDIT_MINUTES)


@dataclass(frozen=True)
class LeadCreateResult:
    lead: Lead
    duplicate: bool  # True: an inquiry was recorded on this existing open lead


# --- validation helpers -----------------------------------------------------------------


def normalise_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": "Enter a valid email address such as jo@example.com."}) from None
        if len(email) > 254:
            raise ValidationError({"email": "An email address has at most 254 characters."})
    return email


def _normalise_phone(raw: str) -> str:
    if raw and len(raw) > 30:
        raise ValidationError({"phone": "A phone number has at most 30 characters."})
    try:
        return normalise_phone(raw)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None


def _clean_contact(*, name: str, company: str, email: str, phone: str, value, notes: str) -> dict:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    company = (company or "").strip()
    if not name:
        errors["name"] = ["Enter the person's name."]
    elif len(name) > 200:
        errors["name"] = ["A name has at most 200 characters."]
    if len(company) > 200:
        errors["company"] = ["A company name has at most 200 characters."]
    if notes and len(notes) > 5000:
        errors["notes"] = ["Notes have at most 5000 characters."]
    try:
        email = normalise_email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        phone = _normalise_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not errors.get("email") and not errors.get("phone") and not email and not phone:
        errors["email"] = ["Give an email address or a phone number, so someone can follow up."]
    try:
        value = Decimal(str(value if value not in (None, "") else 0))
        if value < 0 or value >= Decimal("1e10") or value != value.quantize(Decimal("0.01")):
            raise ValueError
    except (ArithmeticError, ValueError):
        errors["value"] = ["Enter an amount of at least 0 with at most 2 decimals, below 10,000,000,000."]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "company": company, "email": email, "phone": phone, "value": value, "notes": notes or ""}


def _lead_url(lead: Lead) -> str:
    return reverse("leads:lead-detail", args=[lead.pk])


# --- assignment -------------------------------------------------------------------------


def _locked_intake_settings(team: Team) -> TeamIntakeSettings:
    rule = TeamIntakeSettings.objects.select_for_update().filter(team=team).first()
    if rule is None:  # first lead of the team: create the row (racing creators meet on the unique team)
        TeamIntakeSettings.objects.get_or_create(team=team)
        rule = TeamIntakeSettings.objects.select_for_update().get(team=team)
    rule.team = team
    return rule


def eligible_reps(team: Team) -> list[User]:
    """The team's reps who can take a new lead today: active, role rep, not away. By id."""
    return list(User.objects.filter(available_reps_q(), memberships__team=team).order_by("id"))


def _next_round_robin(rule: TeamIntakeSettings) -> User | None:
    """The next rep after the pointer (by id, wrapping) who is below the cap, or None."""
    reps = eligible_reps(rule.team)
    if not reps:
        return None
    if rule.max_open_untouched is not None:
        loads = dict(
            Lead.objects.filter(owner__in=reps, stage__in=Lead.OPEN_STAGES, first_contacted_at__isnull=True)
            .values("owner")
            .annotate(n=Count("id"))
            .values_list("owner", "n")
        )
        reps = [r for r in reps if loads.get(r.pk, 0) < rule.max_open_untouched]
        if not reps:
            return None
    pointer = rule.last_assigned_id or 0
    after = [r for r in reps if r.pk > pointer]
    return (after or reps)[0]


def _set_owner(lead: Lead, owner: User, *, at, new: bool = False) -> None:
    """Give the lead to `owner`: THE writer of Lead.owner and of its mirror FollowUp.owner (the
    open follow-up belongs to the lead's owner). The first assignment to a rep (intake, manual
    entry or a claim from the queue) also makes them the rep who received it; a reassignment
    never changes that."""
    if lead.received_by_id is None:
        # A lead that already had an owner (made before received_by existed) was received by them.
        lead.received_by_id = lead.owner_id or owner.pk
    lead.owner = owner
    lead.assigned_at = at
    lead.save(update_fields=["owner", "assigned_at", "received_by", "updated_at"])
    if not new:  # a lead just made has no follow-up yet
        FollowUp.objects.filter(lead=lead, state=FollowUp.State.OPEN).update(owner=owner)


def _follow_up_set(
    lead: Lead,
    *,
    end_as: str | None = None,
    at: datetime | None = None,
    by: User | None = None,
    due_at: datetime | None = None,
    set_by: Activity | None = None,
) -> None:
    """THE writer of Lead.next_follow_up_at, the mirror of the open FollowUp's due time that the
    SLA sweep and the lists read. Ends the open follow-up (`end_as`: kept = DONE at `at` by `by`,
    or CANCELLED), then opens a new one due at `due_at` (for the lead's owner). The caller saves
    the lead's next_follow_up_at."""
    if end_as is not None:
        ended = {"state": end_as}
        if end_as == FollowUp.State.DONE:
            ended.update(done_at=at, done_by=by)
        if FollowUp.objects.filter(lead=lead, state=FollowUp.State.OPEN).update(**ended) or (
            end_as == FollowUp.State.CANCELLED  # a lead closed: no follow-up date, whatever it said
        ):
            lead.next_follow_up_at = None
    if due_at is not None:
        FollowUp.objects.filter(lead=lead, state=FollowUp.State.OPEN).update(state=FollowUp.State.CANCELLED)
        FollowUp.objects.create(lead=lead, owner=lead.owner or by, due_at=due_at, set_by=set_by)
        lead.next_follow_up_at = due_at


def _write_assigned(*, lead: Lead, actor: User | None, from_owner: User | None, reason: str, how: str) -> Activity:
    return Activity.objects.create(
        lead=lead,
        kind=Activity.Kind.ASSIGNED,
        actor=actor,
        body=reason,
        data={
            "from_owner": from_owner.pk if from_owner else None,
            "from_owner_name": str(from_owner) if from_owner else "",
            "to_owner": lead.owner_id,
            "to_owner_name": str(lead.owner) if lead.owner else "",
            "reason": reason,
            "how": how,  # round_robin | queue | manual | claim | reassign
        },
    )


def _notify_new_owner(lead: Lead, *, title: str, key: str, actor: User | None = None) -> None:
    if lead.owner is not None:
        notification_create(
            recipient=lead.owner,
            actor=actor,
            kind=notices.LEAD_ASSIGNED,
            title=title,
            key=key,
            body=f"{lead.name}{' · ' + lead.company if lead.company else ''}",
            url=_lead_url(lead),
        )


def _notify_previous_owner(*, lead: Lead, from_owner: User | None, actor: User | None, reason: str, key: str) -> None:
    """Whoever loses a lead is told who took it, who decided and why (they can no longer open it)."""
    if from_owner is None:
        return
    if actor is None:
        by = "It was reassigned automatically"  # an SLA escalation, the system
    elif actor.pk == lead.owner_id:
        by = f"{actor} took it over"
    else:
        by = f"{actor} reassigned it"
    notification_create(
        recipient=from_owner,
        actor=actor,
        kind=notices.LEAD_REASSIGNED_AWAY,
        title=f"Your lead {lead} now belongs to {lead.owner}",
        key=key,
        body=f"{by}. Reason: {reason}",
    )


# The contact fields a repeat inquiry may bring in new, as the timeline and the notice name them.
_INQUIRY_FIELDS = ("name", "company", "email", "phone")


def _inquiry_differences(lead: Lead, cleaned: dict) -> dict[str, dict[str, str]]:
    """The contact details the new inquiry gives that the lead does not hold (a new number...)."""
    return {
        field: {"lead": getattr(lead, field), "inquiry": cleaned[field]}
        for field in _INQUIRY_FIELDS
        if cleaned[field] and cleaned[field].casefold() != (getattr(lead, field) or "").casefold()
    }


def _inquiry_notice_body(*, channel: str, source: IntakeSource | None, notes: str, differs: dict) -> str:
    via = Lead.Channel(channel).label.lower() + (f" ({source.name})" if source else "")
    lines = [f"A new inquiry via {via} matched this open lead."]
    if differs:
        lines.append(
            "Different from the lead: "
            + "; ".join(
                f"{field} {change['inquiry']} (lead has {change['lead'] or 'none'})"
                for field, change in differs.items()
            )
            + "."
        )
    if notes.strip():
        lines.append(f"They wrote: {notes.strip()}")
    return "\n".join(lines)


def _assign_new(*, lead: Lead, rule: TeamIntakeSettings, actor: User | None) -> None:
    owner = None
    if rule.mode == TeamIntakeSettings.Mode.ROUND_ROBIN:
        owner = _next_round_robin(rule)
    if owner is None:
        _write_assigned(
            lead=lead,
            actor=actor,
            from_owner=None,
            reason="Waiting in the team's unassigned queue"
            + (" (every rep is away or at the cap)" if rule.mode == TeamIntakeSettings.Mode.ROUND_ROBIN else ""),
            how="queue",
        )
        return
    _set_owner(lead, owner, at=timezone.now(), new=True)
    rule.last_assigned = owner
    rule.save(update_fields=["last_assigned", "updated_at"])
    _write_assigned(lead=lead, actor=actor, from_owner=None, reason="Round-robin", how="round_robin")
    _notify_new_owner(
        lead, title=f"New lead: {lead}", key=f"lead-assigned:{lead.pk}:{owner.pk}:{lead.assigned_at}", actor=actor
    )


# --- leads ------------------------------------------------------------------------------


def _find_open_duplicate(*, team: Team, email: str, phone: str) -> Lead | None:
    match = Q(pk__in=[])
    if email:
        match |= Q(email=email)
    if phone:
        match |= Q(phone=phone)
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .filter(match, team=team, stage__in=Lead.OPEN_STAGES)
        .order_by("arrived_at", "id")
        .first()
    )


@transaction.atomic
def lead_create(
    *,
    actor: User | None,
    team: Team,
    name: str,
    company: str = "",
    email: str = "",
    phone: str = "",
    value: Decimal | int | str = 0,
    channel: str = Lead.Channel.MANUAL,
    source: IntakeSource | None = None,
    notes: str = "",
    arrived_at: datetime | None = None,
    owner: User | None = None,
) -> LeadCreateResult:
    """Create a lead and assign it, or record a repeat inquiry on the open lead it duplicates.

    `owner` set: the lead goes straight to them (a rep entering their own lead, a manager
    choosing). Otherwise the team's intake settings decide: round-robin or the queue.
    """
    cleaned = _clean_contact(name=name, company=company, email=email, phone=phone, value=value, notes=notes)
    now = timezone.now()
    arrived_at = arrived_at or now
    _check_new_lead(team=team, channel=channel, source=source, owner=owner, arrived_at=arrived_at, now=now)
    # One lock per team: fair round-robin and no duplicate created by two racing requests.
    rule = _locked_intake_settings(team)
    existing = _find_open_duplicate(team=team, email=cleaned["email"], phone=cleaned["phone"])
    if existing is not None:
        _inquiry_record(existing, cleaned, actor=actor, channel=channel, source=source, arrived_at=arrived_at)
        return LeadCreateResult(lead=existing, duplicate=True)
    lead = Lead.objects.create(
        team=team, source=source, channel=channel, arrived_at=arrived_at, stage=Lead.Stage.NEW, **cleaned
    )
    Activity.objects.create(
        lead=lead,
        kind=Activity.Kind.ARRIVED,
        actor=actor,
        occurred_at=arrived_at,
        data={"channel": channel, "source": source.name if source else ""},
    )
    if owner is not None:
        _assign_chosen(lead=lead, owner=owner, actor=actor, at=now)
    else:
        _assign_new(lead=lead, rule=rule, actor=actor)
    return LeadCreateResult(lead=lead, duplicate=False)


def _check_new_lead(*, team: Team, channel: str, source, owner: User | None, arrived_at: datetime, now) -> None:
    """Bad input for a new lead, besides its contact details (checked by _clean_contact)."""
    if channel not in Lead.Channel.values:
        raise ValidationError({"channel": "Unknown channel."})
    if source is not None and source.team_id != team.pk:
        raise ValidationError("This intake source belongs to another team.")
    if owner is not None and not (owner.is_active and Membership.objects.filter(user=owner, team=team).exists()):
        raise ValidationError({"owner": f"{owner} is not an active member of {team}."})
    if arrived_at > now + _FUTURE_TOLERANCE:
        raise ValidationError({"arrived_at": "A lead cannot arrive in the future."})


def _inquiry_record(
    existing: Lead, cleaned: dict, *, actor: User | None, channel: str, source, arrived_at: datetime
) -> Activity:
    """A repeat inquiry joins the open lead it duplicates. What the person wrote and any new
    contact detail travel with it (timeline and notice), whichever way it came in: every intake
    path joins a duplicate here."""
    differs = _inquiry_differences(existing, cleaned)
    inquiry = Activity.objects.create(
        lead=existing,
        kind=Activity.Kind.INQUIRY,
        actor=actor,
        body=cleaned["notes"].strip(),
        occurred_at=arrived_at,
        data={
            "name": cleaned["name"],
            "company": cleaned["company"],
            "email": cleaned["email"],
            "phone": cleaned["phone"],
            "channel": channel,
            "source": source.name if source else "",
            "differs": differs,
        },
    )
    recipient = existing.owner or existing.team.manager
    if recipient is not None:
        notification_create(
            recipient=recipient,
            actor=actor,
            kind=notices.LEAD_INQUIRY,
            title=f"{existing.name} got in touch again",
            key=f"lead-inquiry:{inquiry.pk}",
            body=_inquiry_notice_body(channel=channel, source=source, notes=cleaned["notes"], differs=differs),
            url=_lead_url(existing),
        )
    return inquiry


def _assign_chosen(*, lead: Lead, owner: User, actor: User | None, at) -> None:
    """A new lead given straight to the owner chosen when it was entered."""
    _set_owner(lead, owner, at=at, new=True)
    reason = "Entered by the owner" if actor is not None and actor.pk == owner.pk else "Chosen when entered"
    _write_assigned(lead=lead, actor=actor, from_owner=None, reason=reason, how="manual")
    _notify_new_owner(lead, title=f"New lead: {lead}", key=f"lead-assigned:{lead.pk}:{owner.pk}:{at}", actor=actor)


def _require_can_edit(actor: User | None, lead: Lead) -> None:
    if not lead_writable_by(actor, lead):
        raise PermissionDenied(NOT_WRITABLE)


@transaction.atomic
def lead_update(*, actor: User, lead: Lead, name: str, company: str, email: str, phone: str, value, notes: str) -> Lead:
    """Correct a lead's contact details (owner or manager). The change is on the timeline."""
    _require_can_edit(actor, lead)
    cleaned = _clean_contact(name=name, company=company, email=email, phone=phone, value=value, notes=notes)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    changed = {}
    for field, new in cleaned.items():
        old = getattr(lead, field)
        if old != new:
            changed[field] = {"from": str(old), "to": str(new)}
            setattr(lead, field, new)
    if not changed:
        return lead
    lead.save()
    Activity.objects.create(lead=lead, kind=Activity.Kind.UPDATED, actor=actor, data={"changed": changed})
    return lead


@transaction.atomic
def lead_claim(*, actor: User, lead: Lead) -> Lead:
    """A rep of the lead's team takes a lead waiting in the unassigned queue."""
    lead = Lead.objects.select_for_update(of=("self",)).select_related("team").get(pk=lead.pk)
    if not actor.is_active or not Membership.objects.filter(user=actor, team=lead.team).exists():
        raise PermissionDenied("Only a member of this lead's team can claim it.")
    if lead.owner_id is not None:
        raise ValidationError("Someone already owns this lead.")
    if not lead.is_open:
        raise ValidationError("This lead is closed.")
    _set_owner(lead, actor, at=timezone.now())
    _write_assigned(lead=lead, actor=actor, from_owner=None, reason="Claimed from the queue", how="claim")
    sla_clocks_hand_over(lead=lead, actor=actor, from_owner=None, to_owner=actor, at=lead.assigned_at)
    return lead


@transaction.atomic
def lead_reassign(*, actor: User | None, lead: Lead, to_owner: User, reason: str) -> Lead:
    """Move a lead to another rep of its team, with a reason (a manager, an admin, or the system)."""
    lead = Lead.objects.select_for_update(of=("self",)).select_related("team", "owner").get(pk=lead.pk)
    if actor is not None and not can_manage_team(actor, lead.team):
        raise PermissionDenied("Only the team's manager or an admin can reassign a lead.")
    return _move_owner(lead=lead, actor=actor, to_owner=to_owner, reason=reason, how="reassign")


@transaction.atomic
def lead_take_over(*, actor: User, lead: Lead, reason: str) -> Lead:
    """A teammate takes over a lead someone else owns, on the timeline as their own act.

    The caller decides when that is allowed (the SLA claim pool opens an escalated lead to its
    team); this checks only that the actor is an active member of the lead's team.
    """
    lead = Lead.objects.select_for_update(of=("self",)).select_related("team", "owner").get(pk=lead.pk)
    return _move_owner(lead=lead, actor=actor, to_owner=actor, reason=reason, how="claim")


def _move_owner(
    *, lead: Lead, actor: User | None, to_owner: User, reason: str, how: str, notify: bool = True, book=None
) -> Lead:
    """THE change of owner (the caller holds the lead's row lock). `notify=False` leaves the two
    notices to the caller (leads.bulk_services sends one per person for a whole selection);
    `book` is an SLA PolicyBook already loaded in this transaction (the same rows)."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the lead is being reassigned."
    elif len(reason) > 500:
        errors["reason"] = "A reason has at most 500 characters."
    if not (to_owner.is_active and Membership.objects.filter(user=to_owner, team=lead.team).exists()):
        errors["to_owner"] = f"{to_owner} is not an active member of {lead.team}."
    elif to_owner.pk == lead.owner_id:
        errors["to_owner"] = f"{to_owner} already owns this lead."
    if errors:
        raise ValidationError(errors)
    from_owner = lead.owner
    _set_owner(lead, to_owner, at=timezone.now())
    entry = _write_assigned(lead=lead, actor=actor, from_owner=from_owner, reason=reason, how=how)
    # The old owner's SLA ladder stops here; the new owner's clock starts from now.
    sla_clocks_hand_over(
        lead=lead, actor=actor, from_owner=from_owner, to_owner=to_owner, at=lead.assigned_at, book=book
    )
    lead.reassigned_entry = entry  # for a caller that notifies itself (notify=False)
    if not notify:
        return lead
    _notify_new_owner(lead, title=f"Lead reassigned to you: {lead}", key=f"lead-reassigned:{entry.pk}", actor=actor)
    _notify_previous_owner(lead=lead, from_owner=from_owner, actor=actor, reason=reason, key=f"lead-away:{entry.pk}")
    return lead


@transaction.atomic
def lead_stage_change(*, actor: User | None, lead: Lead, stage: str, lost_reason: str = "") -> Lead:
    """Move a lead through the pipeline. Won/Lost close it (and cancel its follow-up); reopening clears that."""
    _require_can_edit(actor, lead)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    return _stage_apply(actor=actor, lead=lead, stage=stage, lost_reason=lost_reason)


def stage_change_check(*, stage: str, lost_reason: str) -> str:
    """The stage and reason asked for, whatever the lead: the cleaned reason, or ValidationError."""
    lost_reason = (lost_reason or "").strip()
    if stage not in Lead.Stage.values:
        raise ValidationError({"stage": "Unknown stage."})
    if stage == Lead.Stage.LOST and not lost_reason:
        raise ValidationError({"lost_reason": "Say why the lead was lost."})
    if len(lost_reason) > 200:
        raise ValidationError({"lost_reason": "A reason has at most 200 characters."})
    return lost_reason


def _stage_apply(*, actor: User | None, lead: Lead, stage: str, lost_reason: str) -> Lead:
    """THE stage change of one lead whose row the caller has locked (and may write)."""
    if stage in Lead.Stage.values and stage == lead.stage:
        raise ValidationError({"stage": f"The lead is already {lead.get_stage_display()}."})
    lost_reason = stage_change_check(stage=stage, lost_reason=lost_reason)
    old = lead.stage
    now = timezone.now()
    lead.stage = stage
    if stage in Lead.CLOSED_STAGES:
        lead.closed_at = now
        lead.lost_reason = lost_reason if stage == Lead.Stage.LOST else ""
        _follow_up_set(lead, end_as=FollowUp.State.CANCELLED)
    else:
        lead.closed_at = None
        lead.lost_reason = ""
    lead.save()
    Activity.objects.create(
        lead=lead,
        kind=Activity.Kind.STAGE,
        actor=actor,
        body=lead.lost_reason,
        data={"from": old, "to": stage, "lost_reason": lead.lost_reason},
    )
    return lead


# --- activities -------------------------------------------------------------------------


def _validate_activity(*, kind: str, outcome: str, body: str) -> None:
    if kind not in Activity.LOGGABLE:
        raise ValidationError({"kind": "Choose a call, email, meeting, SMS or note."})
    allowed = [value for value, _ in OUTCOMES[kind]]
    if allowed and outcome not in allowed:
        labels = ", ".join(label.lower() for _, label in OUTCOMES[kind])
        raise ValidationError({"outcome": f"For {Activity.Kind(kind).label.lower()} choose an outcome: {labels}."})
    if not allowed and outcome:
        raise ValidationError({"outcome": "A note has no outcome."})
    if kind == Activity.Kind.NOTE and not (body or "").strip():
        raise ValidationError({"body": "Write the note."})
    if body and len(body) > 5000:
        raise ValidationError({"body": "At most 5000 characters."})


# Apps above leads (recognition) add a function here; it gets the lead's id after a first contact
# commits. leads never imports them.
FIRST_CONTACT_HOOKS: list = []


@transaction.atomic
def activity_log(
    *,
    actor: User,
    lead: Lead,
    kind: str,
    outcome: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    next_follow_up_at: datetime | None = None,
    corrects: Activity | None = None,
) -> Activity:
    """Log what a rep did. A contact (not a note) is the lead's first contact if none came before,
    completes the open follow-up, and the next follow-up date (if given) replaces any open one."""
    _validate_activity(kind=kind, outcome=outcome, body=body)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + _FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": "That is in the future: log what has happened."})
    if next_follow_up_at is not None and next_follow_up_at <= now:
        raise ValidationError({"next_follow_up_at": "Choose a follow-up time in the future."})
    lead = Lead.objects.select_for_update(of=("self",)).select_related("team").get(pk=lead.pk)
    _require_can_edit(actor, lead)
    if next_follow_up_at is not None and not lead.is_open:
        raise ValidationError({"next_follow_up_at": "This lead is closed: reopen it before planning a follow-up."})
    if corrects is not None and corrects.lead_id != lead.pk:
        raise ValidationError("A correction belongs on the same lead.")

    is_contact = kind in Activity.CONTACT_KINDS
    fields = ["last_activity_at", "updated_at"]
    if is_contact and lead.first_contacted_at is None:
        lead.first_contacted_at = occurred_at
        lead.first_contacted_by = actor
        # Speed to lead is judged in the team's business time, like the SLA: computed once, here.
        lead.first_contact_business_minutes = first_contact_business_minutes(lead, occurred_at)
        fields += ["first_contacted_at", "first_contacted_by", "first_contact_business_minutes"]
        for hook in FIRST_CONTACT_HOOKS:
            transaction.on_commit(partial(hook, lead.pk))
        if lead.stage == Lead.Stage.NEW:
            # Written before the contact itself so the contact tops the timeline.
            lead.stage = Lead.Stage.CONTACTED
            fields.append("stage")
            Activity.objects.create(
                lead=lead,
                kind=Activity.Kind.STAGE,
                actor=actor,
                occurred_at=occurred_at,
                body="First contact",
                data={"from": Lead.Stage.NEW, "to": Lead.Stage.CONTACTED},
            )
    activity = Activity.objects.create(
        lead=lead, kind=kind, actor=actor, outcome=outcome, body=(body or "").strip(), occurred_at=occurred_at,
        corrects=corrects,
    )  # fmt: skip
    if lead.last_activity_at is None or occurred_at > lead.last_activity_at:
        lead.last_activity_at = occurred_at
    if is_contact or next_follow_up_at is not None:
        _follow_up_set(
            lead,
            end_as=FollowUp.State.DONE if is_contact else None,
            at=occurred_at,
            by=actor,
            due_at=next_follow_up_at,
            set_by=activity,
        )
        fields.append("next_follow_up_at")
    lead.save(update_fields=sorted(set(fields)))
    return activity


def activity_editable_by(activity: Activity, user: User, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        activity.actor_id == user.pk
        and activity.kind in Activity.LOGGABLE
        and activity.created_at >= now - edit_window()
    )


@transaction.atomic
def activity_correct(*, actor: User, activity: Activity, outcome: str, body: str) -> Activity:
    """Fix one's own entry within the edit window (outcome and text; the kind and time stand).

    After the window the entry is fixed for good: the correction is a new note linked to it
    (activity_log(..., kind="note", corrects=activity)).
    """
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.kind not in Activity.LOGGABLE:
        raise ValidationError("System entries cannot be edited.")
    if activity.actor_id != actor.pk:
        raise PermissionDenied("Only the person who logged an entry can correct it.")
    if not activity_editable_by(activity, actor):
        minutes = int(edit_window().total_seconds() // 60)
        raise ValidationError(f"Entries can be edited for {minutes} minutes; add a correction instead.")
    _validate_activity(kind=activity.kind, outcome=outcome, body=body)
    previous = {"outcome": activity.outcome, "body": activity.body}
    activity.outcome = outcome
    activity.body = (body or "").strip()
    activity.edited_at = timezone.now()
    activity.data = {**activity.data, "previous": [*activity.data.get("previous", []), previous]}
    activity.save(update_fields=["outcome", "body", "edited_at", "data"])
    return activity


# --- intake sources ---------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str, str]:
    token = "acc_" + secrets.token_urlsafe(32)
    return token, token[:12], hash_token(token)


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins configure intake sources.")


@transaction.atomic
def intake_source_create(
    *, actor: User, name: str, slug: str, team: Team, rate_limit_per_minute: int = 0, public_name: str = ""
) -> tuple[IntakeSource, str]:
    """Create a source and its API token. The token is returned once and never stored in clear."""
    _require_admin(actor)
    token, prefix, digest = _new_token()
    source = IntakeSource(
        name=name.strip(),
        public_name=(public_name or "").strip(),
        slug=slug,
        team=team,
        rate_limit_per_minute=rate_limit_per_minute,
        token_prefix=prefix,
        token_hash=digest,
        token_rotated_at=timezone.now(),
    )
    source.full_clean()
    source.save()
    return source, token


@transaction.atomic
def intake_source_rotate_token(*, actor: User, source: IntakeSource) -> tuple[IntakeSource, str]:
    """Replace the token; the old one stops working at once."""
    _require_admin(actor)
    token, prefix, digest = _new_token()
    source.token_prefix = prefix
    source.token_hash = digest
    source.token_rotated_at = timezone.now()
    source.save(update_fields=["token_prefix", "token_hash", "token_rotated_at"])
    return source, token


@transaction.atomic
def intake_source_set_public_name(*, actor: User, source: IntakeSource, public_name: str) -> IntakeSource:
    """What visitors of the source's web form read (empty: the organisation's name)."""
    _require_admin(actor)
    public_name = (public_name or "").strip()
    if len(public_name) > 100:
        raise ValidationError({"public_name": "A public name has at most 100 characters."})
    source.public_name = public_name
    source.save(update_fields=["public_name"])
    return source


@transaction.atomic
def intake_source_set_active(*, actor: User, source: IntakeSource, is_active: bool) -> IntakeSource:
    _require_admin(actor)
    source.is_active = is_active
    source.save(update_fields=["is_active"])
    return source


def intake_source_for_token(token: str, *, idempotency_key: str = "") -> IntakeSource | None:
    """The active source of an API token, with its team. With `idempotency_key`, the same query brings
    the answer stored under that key (`prior_fingerprint`, `prior_status`, `prior_response`; None when
    unused). One query in SQL written once (_IntakeSql): the intake path is hot."""
    if not token or len(token) > 200:
        return None
    row = _fetch_one(_IntakeSql.get().source, [idempotency_key, hash_token(token)])
    if row is None:
        return None
    source, end = _hydrate(IntakeSource, row)
    source.team, end = _hydrate(Team, row, end)
    if idempotency_key:
        fingerprint, status_code, response = row[end:]
        source.prior_fingerprint, source.prior_status = fingerprint, status_code
        source.prior_response = json.loads(response) if isinstance(response, str) else response
    return source


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came back with a different request body."""


@dataclass
class IntakeItem:
    """One lead an API client sent: its contact fields (validated by the API's serializer), and
    the Idempotency-Key it came with (optional) and the fingerprint of what was sent under it."""

    data: dict
    key: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class IntakeAnswer:
    """What the API answers for one lead: 201 with {id, owner, team, duplicate} (created, joined as a
    duplicate, or the stored answer of a retry), or 409 when its key was used for other content."""

    status: int
    body: dict


KEY_REUSED = "This Idempotency-Key was already used with a different request body."


def lead_create_via_api(
    *, source: IntakeSource, data: dict, idempotency_key: str = "", fingerprint: str = ""
) -> tuple[dict, int]:
    """Create (or join) one lead for an API client; with an Idempotency-Key a retry gets the first answer.
    Raises IdempotencyKeyReused when the key was used with another body."""
    [answer] = leads_intake(source=source, items=[IntakeItem(data, idempotency_key, fingerprint)])
    if answer.status == 409:
        raise IdempotencyKeyReused
    return answer.body, answer.status


def leads_intake(*, source: IntakeSource, items: list[IntakeItem], keys_looked_up: bool = False) -> list[IntakeAnswer]:
    """Create or join the leads an API client sent (one, or a batch of up to 500), in one transaction,
    with a number of queries that does not grow with the number of leads. One answer per item, in order.

    Each item behaves as if it had been posted alone, one after the other: a duplicate of an open
    lead of the team (or of an earlier item) joins it with an inquiry on its timeline; the others are
    shared round-robin from the team's pointer (skipping reps away or at the cap) or queued; the new
    owners and the owners of joined leads are notified once, on commit; each key's answer is stored.

    Keys are read under the team's lock, so a retry waiting behind the first request finds its keys.
    `keys_looked_up`: the single endpoint read its one key with the token (attribute `prior_*` on the
    source) before the lock; a retry racing it then fails on the unique index at the end, everything
    it did is rolled back, and the second pass below answers with the stored response.
    """
    if keys_looked_up and getattr(source, "prior_fingerprint", None) is not None:
        return [_replayed(items[0], source.prior_fingerprint, source.prior_status, source.prior_response)]
    try:
        with transaction.atomic():
            return _leads_intake(source, items, keys_looked_up=keys_looked_up)
    except IntegrityError:
        if not any(item.key for item in items):
            raise
    with transaction.atomic():
        return _leads_intake(source, items, keys_looked_up=False)


def _api_body(lead: Lead, *, duplicate: bool) -> dict:
    return {
        "id": lead.pk,
        "owner": {"id": lead.owner_id, "name": str(lead.owner)} if lead.owner_id else None,
        "team": {"id": lead.team_id, "name": lead.team.name},
        "duplicate": duplicate,
    }


def _replayed(item: IntakeItem, fingerprint: str, status_code: int, response: dict) -> IntakeAnswer:
    """The answer to a key seen before: the stored one, or 409 when it came with other content."""
    if fingerprint != item.fingerprint:
        return IntakeAnswer(409, {"detail": KEY_REUSED})
    return IntakeAnswer(status_code, response)


def _stored_answers(source: IntakeSource, items: list[IntakeItem], *, keys_looked_up: bool) -> dict:
    """{key: (fingerprint, status, response)} of the items' keys already used by this source."""
    if keys_looked_up:
        fingerprint = getattr(source, "prior_fingerprint", None)
        if fingerprint is None:
            return {}
        return {items[0].key: (fingerprint, source.prior_status, source.prior_response)}
    keys = {item.key for item in items if item.key}
    if not keys:
        return {}
    return {
        row.key: (row.fingerprint, row.status_code, row.response)
        for row in IdempotencyKey.objects.filter(source=source, key__in=keys).only(
            "key", "fingerprint", "status_code", "response"
        )
    }


def _open_duplicates(team: Team, items: list[IntakeItem]) -> list[Lead]:
    """The team's open leads that share an email or phone with an item, oldest first, locked, with
    their owners."""
    emails = sorted({item.data["email"] for item in items if item.data.get("email")})
    phones = sorted({item.data["phone"] for item in items if item.data.get("phone")})
    rows = _fetch_all(_IntakeSql.get().duplicates, [team.pk, list(map(str, Lead.OPEN_STAGES)), emails, phones])
    leads = []
    for row in rows:
        lead, end = _hydrate(Lead, row)
        lead.team = team
        lead.owner = _hydrate(User, row, end)[0] if lead.owner_id is not None else None
        leads.append(lead)
    return leads


def _reps_for_round_robin(rule: TeamIntakeSettings) -> list[User]:
    """eligible_reps(): the same rule (available_reps_q) in one query, each rep with `load` (open
    never-contacted leads, when the team has a cap) and `assigned_pref` (their NotificationPreference
    for new leads, or None). tests/leads/test_api_batch.py checks it picks who eligible_reps() picks."""
    sql = _IntakeSql.get()
    capped = rule.max_open_untouched is not None
    rows = _fetch_all(
        sql.reps_with_load if capped else sql.reps,
        [
            *([list(map(str, Lead.OPEN_STAGES))] if capped else []),
            rule.team_id,
            notices.LEAD_ASSIGNED.code,
            str(User.Role.REP),
            UNUSABLE_PASSWORD_PREFIX.replace("%", r"\%").replace("_", r"\_") + "%",
            timezone.localdate(),
            timezone.localdate(),
        ],
    )
    reps = []
    for row in rows:
        rep, end = _hydrate(User, row)
        pref_id, pref_email, pref_sms, pref_chat = row[end : end + 4]
        rep.load = row[end + 4] if capped else 0
        rep.assigned_pref = (
            NotificationPreference(
                pk=pref_id,
                user=rep,
                kind=notices.LEAD_ASSIGNED.code,
                email=pref_email,
                sms=pref_sms,
                chat=pref_chat,
            )
            if pref_id is not None
            else None
        )
        reps.append(rep)
    return reps


def _locked_rule(team: Team, *, with_lead_id: bool) -> TeamIntakeSettings:
    """_locked_intake_settings() in SQL written once (the row exists from the team's first lead on).
    `with_lead_id`: the same query takes the next lead id (`next_lead_id`) for a lead sent alone, so
    its writes can go in one statement (a duplicate leaves a gap in the ids, as a rollback does)."""
    sql = _IntakeSql.get()
    row = _fetch_one(sql.lock_rule_and_id if with_lead_id else sql.lock_rule, [team.pk])
    if row is None:
        return _locked_intake_settings(team)
    rule, end = _hydrate(TeamIntakeSettings, row)
    rule.team = team
    rule.next_lead_id = row[end] if with_lead_id else None
    return rule


def _new_lead_ids(rule: TeamIntakeSettings, count: int) -> list[int]:
    first = [rule.next_lead_id] if getattr(rule, "next_lead_id", None) else []
    if count > len(first):
        first += [pk for (pk,) in _fetch_all(_IntakeSql.get().lead_ids, [count - len(first)])]
    return first[:count]


class _IntakeSql:
    """The intake path's reads as SQL, built once per process from the models' tables and columns
    (every value a parameter): the ORM compiled each of them on every request, about a millisecond
    apiece."""

    _built = None

    @classmethod
    def get(cls) -> _IntakeSql:
        if cls._built is None:
            cls._built = cls()
        return cls._built

    def __init__(self):
        t = {m: m._meta.db_table for m in (IntakeSource, Team, IdempotencyKey, Lead, User, TeamIntakeSettings)}
        membership, prefs = Membership._meta.db_table, NotificationPreference._meta.db_table
        self.source = (
            f"SELECT {_columns(IntakeSource, 's')}, {_columns(Team, 't')}, k.fingerprint, k.status_code, k.response"  # noqa: S608
            f" FROM {t[IntakeSource]} s JOIN {t[Team]} t ON t.id = s.team_id"
            f" LEFT JOIN {t[IdempotencyKey]} k ON k.source_id = s.id AND k.key = %s"
            " WHERE s.token_hash = %s AND s.is_active"
        )
        lock = f" FROM {t[TeamIntakeSettings]} r WHERE r.team_id = %s FOR UPDATE"
        self.lock_rule = f"SELECT {_columns(TeamIntakeSettings, 'r')}" + lock
        sequence = f"nextval(pg_get_serial_sequence('{t[Lead]}', '{Lead._meta.pk.column}'))"
        self.lock_rule_and_id = f"SELECT {_columns(TeamIntakeSettings, 'r')}, {sequence}" + lock
        self.lead_ids = f"SELECT {sequence} FROM generate_series(1, %s)"  # noqa: S608
        self.move_pointer = f"UPDATE {t[TeamIntakeSettings]} SET last_assigned_id = %s, updated_at = %s"  # noqa: S608
        self.move_pointer += " WHERE id = %s"
        # `<> ''` matches the partial indexes lead_email / lead_phone whatever the length of the lists.
        self.duplicates = (
            f"SELECT {_columns(Lead, 'l')}, {_columns(User, 'o')} FROM {t[Lead]} l"  # noqa: S608
            f" LEFT JOIN {t[User]} o ON o.id = l.owner_id WHERE l.team_id = %s AND l.stage = ANY(%s)"
            " AND ((l.email = ANY(%s) AND l.email <> '') OR (l.phone = ANY(%s) AND l.phone <> ''))"
            " ORDER BY l.arrived_at, l.id FOR UPDATE OF l"
        )
        reps = (
            f" FROM {t[User]} u JOIN {membership} m ON m.user_id = u.id AND m.team_id = %s"
            f" LEFT JOIN {prefs} p ON p.user_id = u.id AND p.kind = %s"
            # available_reps_q(): an active rep with a usable password (not an invitation still
            # pending), not away today (no time away, or it ended before today or starts after it).
            " WHERE u.role = %s AND u.is_active AND u.password NOT LIKE %s"
            " AND (u.away_until IS NULL OR u.away_until < %s OR u.away_from > %s) ORDER BY u.id"
        )
        self.reps = f"SELECT {_columns(User, 'u')}, p.id, p.email, p.sms, p.chat" + reps
        untouched = (
            f"(SELECT count(*) FROM {t[Lead]} l WHERE l.owner_id = u.id AND l.stage = ANY(%s)"  # noqa: S608
            " AND l.first_contacted_at IS NULL)"
        )
        self.reps_with_load = f"SELECT {_columns(User, 'u')}, p.id, p.email, p.sms, p.chat, {untouched}" + reps


def _insert_sql(objs: list, *, returning: bool = False) -> tuple[str, list]:
    """INSERT of model instances (their pk too when set), its statement built from the model's fields
    and its values prepared as Django prepares them (defaults, auto_now, JSON)."""
    model = type(objs[0])
    with_pk = objs[0].pk is not None
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)})"  # noqa: S608
        f" VALUES {', '.join([row] * len(objs))}" + (f" RETURNING {model._meta.pk.column}" if returning else "")
    )
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]


def _write_together(*, first: list[list], update: tuple[str, list] | None, last: list) -> None:
    """One statement for the intake path's writes: the INSERTs of `first` (lists of instances whose
    ids are known) and `update` as data-modifying CTEs, then the INSERT of `last`, whose ids it
    returns. Django's foreign keys are deferred, so the order of the parts does not matter."""
    parts, params = [], []
    for objs in first:
        if objs:
            sql, values = _insert_sql(objs)
            parts.append(sql)
            params += values
    if update is not None:
        parts.append(update[0])
        params += update[1]
    sql, values = _insert_sql(last, returning=True)
    if parts:
        sql = "WITH " + ", ".join(f"w{n} AS ({part})" for n, part in enumerate(parts)) + " " + sql
    for obj, (pk,) in zip(last, _fetch_all(sql, params + values), strict=True):
        obj.pk = pk
    for obj in [*last, *(obj for objs in first for obj in objs)]:
        obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS


def _columns(model, alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def _hydrate(model, row, start: int = 0):
    """The model instance in row[start:], and where the next one starts (columns as _columns gives)."""
    fields = model._meta.concrete_fields
    end = start + len(fields)
    return model.from_db(DEFAULT_DB_ALIAS, [f.attname for f in fields], row[start:end]), end


def _fetch_one(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _fetch_all(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _RoundRobin:
    """The team's rule applied to leads one after the other, in memory: next rep after the pointer
    (by id, wrapping) below the cap, as _next_round_robin() picks them one request at a time."""

    def __init__(self, rule: TeamIntakeSettings):
        self.rule = rule
        self.pointer = rule.last_assigned_id
        self.reps = _reps_for_round_robin(rule) if rule.mode == TeamIntakeSettings.Mode.ROUND_ROBIN else []
        self.load = {rep.pk: getattr(rep, "load", 0) for rep in self.reps}

    def next(self) -> User | None:
        cap = self.rule.max_open_untouched
        reps = [r for r in self.reps if cap is None or self.load[r.pk] < cap]
        if not reps:
            return None
        pointer = self.pointer or 0
        owner = next((r for r in reps if r.pk > pointer), reps[0])
        self.pointer = owner.pk
        self.load[owner.pk] += 1
        return owner


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _leads_intake_portable(source: IntakeSource, items: list[IntakeItem]) -> list[IntakeAnswer]:
    """The same answers through lead_create(), one lead after the other, with the ORM only: for a
    database other than PostgreSQL (make run's no-setup SQLite), where the SQL below does not run."""
    answers = []
    for item in items:
        if item.key:
            prior = IdempotencyKey.objects.filter(source=source, key=item.key).first()
            if prior is not None:
                answers.append(_replayed(item, prior.fingerprint, prior.status_code, prior.response))
                continue
        result = lead_create(actor=None, team=source.team, source=source, channel=Lead.Channel.API, **item.data)
        body = _api_body(result.lead, duplicate=result.duplicate)
        if item.key:
            IdempotencyKey.objects.create(
                source=source, key=item.key, fingerprint=item.fingerprint, lead=result.lead, status_code=201,
                response=body,
            )  # fmt: skip
        answers.append(IntakeAnswer(201, body))
    return answers


def _leads_intake(source: IntakeSource, items: list[IntakeItem], *, keys_looked_up: bool) -> list[IntakeAnswer]:
    if not _on_postgresql():
        return _leads_intake_portable(source, items)
    team = source.team
    now = timezone.now()
    # One lock per team: fair round-robin, no duplicate created by two racing requests, keys read fresh.
    rule = _locked_rule(team, with_lead_id=len(items) == 1)
    stored = _stored_answers(source, items, keys_looked_up=keys_looked_up)

    answers: list[IntakeAnswer | None] = [None] * len(items)
    first_of_key: dict[str, int] = {}  # key -> the item that used it first in this batch
    todo: list[int] = []
    for i, item in enumerate(items):
        if item.key in stored:
            answers[i] = _replayed(item, *stored[item.key])
        elif item.key and item.key in first_of_key:
            pass  # answered below, once the first item with this key has its answer
        else:
            if item.key:
                first_of_key[item.key] = i
            todo.append(i)

    by_email: dict[str, Lead] = {}
    by_phone: dict[str, Lead] = {}
    for lead in reversed(_open_duplicates(team, [items[i] for i in todo]) if todo else []):
        by_email[lead.email] = by_phone[lead.phone] = lead  # oldest wins: set last
    by_email.pop("", None)
    by_phone.pop("", None)

    round_robin: _RoundRobin | None = None
    new_leads: list[Lead] = []
    joins: list[tuple[int, Lead]] = []  # (item, the open lead it duplicates)
    outcome: dict[int, tuple[Lead, bool]] = {}
    rank: dict[int, int] = {}
    for i in todo:
        data = items[i].data
        matches = [m for m in (by_email.get(data.get("email")), by_phone.get(data.get("phone"))) if m is not None]
        if matches:
            existing = min(matches, key=lambda lead: (lead.arrived_at, lead.pk or rank[id(lead)]))
            joins.append((i, existing))
            outcome[i] = (existing, True)
            continue
        if round_robin is None:
            round_robin = _RoundRobin(rule)
        owner = round_robin.next()
        lead = Lead(team=team, source=source, channel=Lead.Channel.API, arrived_at=now, stage=Lead.Stage.NEW)
        for field in ("name", "company", "email", "phone", "value", "notes"):
            setattr(lead, field, data.get(field, "") if field != "value" else data.get("value", 0))
        lead.owner = owner
        if owner is not None:
            lead.received_by = owner
            lead.assigned_at = now
        new_leads.append(lead)
        rank[id(lead)] = 2**63 + len(new_leads)  # after every stored lead, in the order sent
        outcome[i] = (lead, False)
        if lead.email:
            by_email[lead.email] = lead
        if lead.phone:
            by_phone[lead.phone] = lead

    for lead, pk in zip(new_leads, _new_lead_ids(rule, len(new_leads)) if new_leads else [], strict=True):
        lead.pk = lead.id = pk
    pointer = None
    if round_robin is not None and round_robin.pointer != rule.last_assigned_id:
        pointer = (_IntakeSql.get().move_pointer, [round_robin.pointer, now, rule.pk])

    entries, drafts = [], []
    queue_reason = "Waiting in the team's unassigned queue" + (
        " (every rep is away or at the cap)" if rule.mode == TeamIntakeSettings.Mode.ROUND_ROBIN else ""
    )
    for lead in new_leads:
        entries.append(
            Activity(
                lead=lead,
                kind=Activity.Kind.ARRIVED,
                occurred_at=now,
                data={"channel": Lead.Channel.API, "source": source.name},
            )
        )
        how = "round_robin" if lead.owner is not None else "queue"
        reason = "Round-robin" if lead.owner is not None else queue_reason
        entries.append(
            Activity(
                lead=lead,
                kind=Activity.Kind.ASSIGNED,
                body=reason,
                data={
                    "from_owner": None,
                    "from_owner_name": "",
                    "to_owner": lead.owner_id,
                    "to_owner_name": str(lead.owner) if lead.owner else "",
                    "reason": reason,
                    "how": how,
                },
            )
        )
    inquiries = []
    for i, existing in joins:
        cleaned = {field: items[i].data.get(field, "") for field in (*_INQUIRY_FIELDS, "notes")}
        differs = _inquiry_differences(existing, cleaned)
        inquiry = Activity(
            lead=existing,
            kind=Activity.Kind.INQUIRY,
            body=cleaned["notes"].strip(),
            occurred_at=now,
            data={
                **{field: cleaned[field] for field in _INQUIRY_FIELDS},
                "channel": Lead.Channel.API,
                "source": source.name,
                "differs": differs,
            },
        )
        entries.append(inquiry)
        inquiries.append((inquiry, existing, cleaned["notes"], differs))

    keys = []
    for i, (lead, duplicate) in outcome.items():
        answers[i] = IntakeAnswer(201, _api_body(lead, duplicate=duplicate))
        item = items[i]
        if item.key:
            keys.append(
                IdempotencyKey(
                    source=source,
                    key=item.key,
                    fingerprint=item.fingerprint,
                    lead=lead,
                    status_code=201,
                    response=answers[i].body,
                )
            )
    # Leads, key rows, the pointer and the timeline entries: one statement.
    if entries:  # none when every item was a replayed key
        _write_together(first=[new_leads, keys], update=pointer, last=entries)

    known_prefs = {}
    for lead in new_leads:
        if lead.owner is not None:
            drafts.append(
                NotificationDraft(
                    recipient=lead.owner,
                    kind=notices.LEAD_ASSIGNED,
                    title=f"New lead: {lead}",
                    key=f"lead-assigned:{lead.pk}:{lead.owner_id}:{lead.assigned_at}",
                    body=f"{lead.name}{' · ' + lead.company if lead.company else ''}",
                    url=_lead_url(lead),
                )
            )
            known_prefs[(lead.owner_id, notices.LEAD_ASSIGNED.code)] = lead.owner.assigned_pref
    for inquiry, existing, notes, differs in inquiries:
        recipient = existing.owner or team.manager
        if recipient is not None:
            drafts.append(
                NotificationDraft(
                    recipient=recipient,
                    kind=notices.LEAD_INQUIRY,
                    title=f"{existing.name} got in touch again",
                    key=f"lead-inquiry:{inquiry.pk}",
                    body=_inquiry_notice_body(channel=Lead.Channel.API, source=source, notes=notes, differs=differs),
                    url=_lead_url(existing),
                )
            )
    notifications_create_many(drafts, preferences=known_prefs)
    for i, item in enumerate(items):
        if answers[i] is None:  # a key used again later in the same batch
            first = first_of_key[item.key]
            same = items[first].fingerprint == item.fingerprint
            answers[i] = answers[first] if same else IntakeAnswer(409, {"detail": KEY_REUSED})
    return answers


@transaction.atomic
def team_intake_settings_update(
    *, actor: User, team: Team, mode: str, max_open_untouched: int | None
) -> TeamIntakeSettings:
    """How a team's new leads are assigned (the team's manager or an admin)."""
    if not can_manage_team(actor, team):
        raise PermissionDenied("Only the team's manager or an admin can change how its leads are assigned.")
    if mode not in TeamIntakeSettings.Mode.values:
        raise ValidationError({"mode": "Unknown mode."})
    if max_open_untouched is not None and not 1 <= max_open_untouched <= 10000:
        raise ValidationError({"max_open_untouched": "Give a cap between 1 and 10000, or leave it empty."})
    rule = _locked_intake_settings(team)
    rule.mode = mode
    rule.max_open_untouched = max_open_untouched
    rule.save(update_fields=["mode", "max_open_untouched", "updated_at"])
    return rule
