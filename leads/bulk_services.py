"""Acting on many leads at once: reassign a selection, or move it to another stage.

Each action is one transaction: every selected lead is locked (in id order, so two bulk actions
over overlapping selections queue instead of deadlocking), checked with the rules one lead is
checked with, and changed by the same per-lead code as a single action (leads.services
`_move_owner`, `_stage_apply`): each lead gets its own timeline entries, and a reassignment hands
its SLA clocks over exactly as a single one does (leads.sla.handover). Any refusal rolls the
whole action back. What is shared is loaded once (the SLA policies) and the notices are sent
once per person, summarising the selection, instead of one per lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from accountability.models import Membership, User
from accountability.notifications.services import notification_create
from accountability.scoping import can_manage_team
from leads import notices
from leads.bulk_selectors import BULK_MAX, NOT_MANAGED, NOT_WRITABLE
from leads.models import Lead
from leads.selectors import lead_writable_by
from leads.services import _move_owner, _notify_new_owner, _notify_previous_owner, _stage_apply, stage_change_check
from leads.sla.selectors import PolicyBook

# A summary notice names this many leads, then says how many more.
NOTICE_NAMES = 10


@dataclass
class BulkResult:
    changed: list[Lead] = field(default_factory=list)
    # Already as asked (owned by the new owner, already in the stage): left alone, said so.
    unchanged: list[Lead] = field(default_factory=list)


def _check_selection(leads: list[Lead]) -> None:
    if not leads:
        raise ValidationError({"ids": "Select at least one lead."})
    if len(leads) > BULK_MAX:
        raise ValidationError({"ids": f"Select at most {BULK_MAX} leads at once."})


def _locked(leads: list[Lead]) -> list[Lead]:
    return list(
        Lead.objects.select_for_update(of=("self",))
        .select_related("team", "owner")
        .filter(pk__in=[lead.pk for lead in leads])
        .order_by("pk")
    )


def _names(leads: list[Lead]) -> str:
    shown = ", ".join(str(lead) for lead in leads[:NOTICE_NAMES])
    more = len(leads) - NOTICE_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


@transaction.atomic
def leads_bulk_reassign(*, actor: User | None, leads: list[Lead], to_owner: User, reason: str) -> BulkResult:
    """Give the selected leads to `to_owner`, with one reason for all (a manager of every lead's
    team, an admin, or the system). All or nothing."""
    _check_selection(leads)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the leads are being reassigned."})
    if len(reason) > 500:
        raise ValidationError({"reason": "A reason has at most 500 characters."})
    locked = _locked(leads)
    if len(locked) != len({lead.pk for lead in leads}):
        raise PermissionDenied(NOT_MANAGED)
    if actor is not None and not all(can_manage_team(actor, lead.team) for lead in locked):
        raise PermissionDenied(NOT_MANAGED)
    # One query for the rule every lead will ask again: the new owner belongs to its team.
    teams = {lead.team_id: lead.team for lead in locked}
    member_of = set(Membership.objects.filter(user=to_owner, team_id__in=teams).values_list("team_id", flat=True))
    outside = [lead for lead in locked if lead.team_id not in member_of]
    if not to_owner.is_active or outside:
        where = ", ".join(sorted({str(lead.team) for lead in (outside or locked)}))
        count = len(outside or locked)
        raise ValidationError(
            {"to_owner": f"{to_owner} is not an active member of {where} ({count} of the selected leads)."}
        )
    result = BulkResult()
    book = PolicyBook.load()
    moved_from: dict[int, tuple[User, list[Lead]]] = {}
    entries = []
    for lead in locked:
        if lead.owner_id == to_owner.pk:
            result.unchanged.append(lead)
            continue
        from_owner = lead.owner
        _move_owner(lead=lead, actor=actor, to_owner=to_owner, reason=reason, how="reassign", notify=False, book=book)
        entries.append(lead.reassigned_entry)
        result.changed.append(lead)
        if from_owner is not None:
            moved_from.setdefault(from_owner.pk, (from_owner, []))[1].append(lead)
    if result.changed:
        _notify_bulk(actor=actor, to_owner=to_owner, moved=result.changed, moved_from=moved_from, reason=reason,
                     batch=entries[0].pk)  # fmt: skip
    return result


def _notify_bulk(*, actor, to_owner: User, moved: list[Lead], moved_from: dict, reason: str, batch: int) -> None:
    """One notice to the new owner, one to each previous owner, whatever the number of leads (a
    single lead reads exactly like a single reassignment). Keyed by the batch's first timeline
    entry, so a retry of the same batch never tells anyone twice."""
    if len(moved) == 1:
        _notify_new_owner(moved[0], title=f"Lead reassigned to you: {moved[0]}", key=f"lead-reassigned:{batch}",
                          actor=actor)  # fmt: skip
    else:
        notification_create(
            recipient=to_owner,
            actor=actor,
            kind=notices.LEAD_ASSIGNED,
            title=f"{len(moved)} leads reassigned to you",
            key=f"leads-reassigned:{batch}",
            body=f"{_names(moved)}. Reason: {reason}",
            url=reverse("leads:lead-list") + f"?owner={to_owner.pk}",
        )
    for from_owner, leads in moved_from.values():
        if len(leads) == 1:
            _notify_previous_owner(lead=leads[0], from_owner=from_owner, actor=actor, reason=reason,
                                   key=f"lead-away:{batch}:{from_owner.pk}")  # fmt: skip
            continue
        by = "They were reassigned automatically" if actor is None else f"{actor} reassigned them"
        notification_create(
            recipient=from_owner,
            actor=actor,
            kind=notices.LEAD_REASSIGNED_AWAY,
            title=f"{len(leads)} of your leads now belong to {to_owner}",
            key=f"leads-away:{batch}:{from_owner.pk}",
            body=f"{by}. Reason: {reason}\n{_names(leads)}.",
        )


@transaction.atomic
def leads_bulk_stage_change(*, actor: User | None, leads: list[Lead], stage: str, lost_reason: str = "") -> BulkResult:
    """Move the selected leads to `stage` (Lost with one reason for all). Leads already there are
    left alone. All or nothing."""
    _check_selection(leads)
    lost_reason = stage_change_check(stage=stage, lost_reason=lost_reason)
    locked = _locked(leads)
    if len(locked) != len({lead.pk for lead in leads}) or not all(lead_writable_by(actor, x) for x in locked):
        raise PermissionDenied(NOT_WRITABLE)
    result = BulkResult()
    for lead in locked:
        if lead.stage == stage:
            result.unchanged.append(lead)
            continue
        _stage_apply(actor=actor, lead=lead, stage=stage, lost_reason=lost_reason)
        result.changed.append(lead)
    return result
