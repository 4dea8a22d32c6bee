"""When a lead changes hands, its SLA follows the new owner, not the old one's ladder.

Called by leads.services in the same transaction as every change of owner (a manager's
reassignment, an escalation reassigned in one click or by the policy, a teammate's claim of an
escalated lead, a claim from the queue), with the lead row locked:

- The old owner's clocks stop: every first-contact clock, and every other clock already due
  (a follow-up overdue, no follow-up date set). Their recorded but undelivered notices are
  cancelled, so nobody is told about an escalation from before the new owner had the lead: not
  the manager above (second level), not the new owner ("your lead was escalated").
- A reminder or overdue notice still waiting for the old owner is cancelled too (the lead is
  no longer theirs). A follow-up not yet due keeps its clock: the date stands, and its next
  steps go to whoever owns the lead when they are recorded.
- What is still pending starts again for the new owner from the moment of the hand-over, in
  the team's business time under the team's live policy: an uncontacted lead gets a new
  first-contact clock (also when the sweep had not timed it yet), a stopped follow-up or
  no-follow-up clock a replacement; each gets the policy's first-contact time.
- One timeline entry says what stopped, what was cancelled and what is now due.
- `to_owner=None` is a hand-over to the team's unassigned queue (the owner was deactivated and
  nobody can take the lead): the same, with every reminder of the old owner cancelled and the new
  clocks for the queue (their reminders skip, their escalations reach the team's manager).

This module writes clocks and notices but never calls leads.services (which calls it).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from accountability.models import User
from leads.models import Activity, Lead
from leads.sla.models import SlaClock, SlaNotice
from leads.sla.selectors import PolicyBook, clock_is_pending, plan_clock
from leads.sla.wording import local_text

RUNNING = [SlaClock.State.ACTIVE, SlaClock.State.DONE]
QUEUE_NAME = "the team's unassigned queue"


def sla_clocks_hand_over(
    *,
    lead: Lead,
    actor: User | None,
    from_owner: User | None,
    to_owner: User | None,
    at: dt.datetime,
    book: PolicyBook | None = None,
) -> list[SlaClock]:
    """Stop the old owner's clocks and start the new owner's (see the module docstring).
    The caller holds the lead's row lock. Returns the clocks started. `book`: the policies
    already loaded in this transaction (a bulk reassignment loads them once for every lead)."""
    clocks = list(
        SlaClock.objects.select_for_update(of=("self",))
        .filter(lead=lead, state__in=RUNNING)
        .select_related("follow_up")
        .order_by("created_at", "id")
    )
    stop = [c for c in clocks if c.kind == SlaClock.Kind.FIRST_CONTACT or c.due_at <= at]
    stop_ids = [c.pk for c in stop]
    to_name = str(to_owner) if to_owner is not None else QUEUE_NAME
    reason = f"the lead was handed over to {to_name}"[:200]
    not_new_owner = ~Q(recipient_id=to_owner.pk) if to_owner is not None else Q()
    cancelled = SlaNotice.objects.filter(lead=lead, state=SlaNotice.State.PENDING).filter(
        Q(clock_id__in=stop_ids)
        | (Q(step__in=[SlaNotice.Step.REMINDER, SlaNotice.Step.OVERDUE], recipient__isnull=False) & not_new_owner)
    )
    cancelled_count = cancelled.update(state=SlaNotice.State.CANCELLED, finished_at=at, reason=reason)
    if stop_ids:
        SlaClock.objects.filter(pk__in=stop_ids).update(
            state=SlaClock.State.REASSIGNED, handled_at=at, next_step="", next_at=None, claimable=False
        )

    wanted: list[tuple[str, int | None]] = []
    if lead.is_open:
        if lead.first_contacted_at is None:
            wanted.append((SlaClock.Kind.FIRST_CONTACT, None))
        for clock in stop:
            if clock.kind == SlaClock.Kind.FIRST_CONTACT:
                continue
            follow_up_state = clock.follow_up.state if clock.follow_up_id else None
            if clock_is_pending(clock, lead, follow_up_state):
                wanted.append((clock.kind, clock.follow_up_id))
    started: list[SlaClock] = []
    if wanted:
        book = book or PolicyBook.load()
        for kind, follow_up_id in dict.fromkeys(wanted):
            started.append(_start(book, lead=lead, kind=kind, follow_up_id=follow_up_id, to_owner=to_owner, at=at))
    if stop or cancelled_count or started:
        _write_timeline(
            lead=lead, actor=actor, from_owner=from_owner, to_owner=to_owner, at=at,
            stopped=stop, cancelled=cancelled_count, started=started,
        )  # fmt: skip
    return started


def _start(book: PolicyBook, *, lead: Lead, kind: str, follow_up_id: int | None, to_owner: User | None, at) -> SlaClock:
    to_name = str(to_owner) if to_owner is not None else QUEUE_NAME
    plan = plan_clock(book, lead=lead, kind=kind, anchor_at=at, follow_up_id=follow_up_id, handed_over_to=to_name)
    step, step_at = plan.steps()[0]
    return SlaClock.objects.create(
        lead=lead,
        kind=plan.kind,
        key=plan.key,
        follow_up_id=plan.follow_up_id,
        anchor_at=plan.anchor_at,
        due_at=plan.due_at,
        remind_at=plan.remind_at,
        overdue_at=plan.overdue_at,
        escalation_due_at=plan.escalation_due_at,
        escalation2_due_at=plan.escalation2_due_at,
        next_step=step,
        next_at=step_at,
        policy_id=plan.policy.pk,
        policy_version=plan.policy.version,
        policy_values=plan.policy_values,
        explanation=plan.explanation,
    )


def _write_timeline(*, lead, actor, from_owner, to_owner, at, stopped, cancelled, started) -> None:
    tz = lead.team.time_zone
    parts = []
    if stopped:
        what = "; ".join(
            f"{c.get_kind_display().lower()} due {local_text(c.due_at, tz)}{' (escalated)' if c.escalated_at else ''}"
            for c in stopped
        )
        parts.append(f"Stopped {from_owner or 'the queue'}'s SLA clock{'s' if len(stopped) > 1 else ''}: {what}.")
    if cancelled:
        parts.append(f"{cancelled} notice{'s' if cancelled > 1 else ''} not yet sent cancelled.")
    for clock in started:
        parts.append(f"{clock.explanation}.")
    Activity.objects.create(
        lead=lead,
        kind=Activity.Kind.SLA_HANDOVER,
        actor=actor,
        occurred_at=at,
        body=" ".join(parts),
        data={
            "from_owner": from_owner.pk if from_owner else None,
            "to_owner": to_owner.pk if to_owner is not None else None,
            "stopped": [c.pk for c in stopped],
            "cancelled_notices": cancelled,
            "started": [c.pk for c in started],
        },
    )
