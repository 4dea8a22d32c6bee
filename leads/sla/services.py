"""Writes for follow-up SLAs: the sweep, the delivery of each notice, policies.

How the sweep works (every minute from beat; `sweep_followups` runs the same code once):

1. Discover due events from the leads' own columns with indexed range queries: untouched open
   leads that arrived long enough ago (partial index `lead_open_untouched`), open follow-ups
   due soon (`follow_up_open_due`), contacted open leads with no follow-up date whose last
   activity is old enough (`sla_lead_no_follow_up`, added by this app). Each becomes one
   `SlaClock` row, inserted with ON CONFLICT DO NOTHING on (lead, key): two sweeps at once
   create it once. The clock stores the due time, the time of every step and the policy
   version used, so a later policy change only affects new due times.
2. Advance the clocks whose next step is due (partial index `sla_clock_due`), claimed with
   SELECT ... FOR UPDATE SKIP LOCKED in short batches: a clock whose event was handled is
   closed; otherwise one `SlaNotice` per passed step is inserted (unique per clock and step)
   and its delivery enqueued on commit.
3. Enqueue again what was recorded but never delivered (broker down at the time), and the
   email/SMS deliveries whose retry was lost.

The database holds every state; Celery only carries work. A notice is delivered by
`notice_deliver`, which locks the lead, re-checks the event is still breached (else the
notice is cancelled: nobody gets a stale alert) and writes the timeline entry, the in-app
notices (with their email/SMS deliveries) and the escalation's effects in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import zoneinfo
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accountability.models import Membership, Team, User, available_reps_q
from accountability.notifications.services import (
    NotificationDraft,
    deliveries_requeue,
    notification_create,
    notifications_create_many,
)
from accountability.tasking import task_send
from leads.models import Activity, FollowUp, Lead
from leads.services import lead_reassign, lead_take_over
from leads.sla import notices
from leads.sla.bulk import CLOCK_INSERT_FIELDS, NOTICE_INSERT_FIELDS, copy_insert
from leads.sla.business_time import parse_hhmm
from leads.sla.models import BusinessHours, Holiday, SlaClock, SlaNotice, SlaPolicy
from leads.sla.selectors import PolicyBook, clock_is_pending, plan_clock, still_pending_q
from leads.sla.wording import local_text

logger = logging.getLogger(__name__)

OPEN = list(Lead.OPEN_STAGES)
BATCH = 1000
# A pending notice not delivered this long after it was enqueued had its message lost (see requeue_grace).
REQUEUE_AFTER = dt.timedelta(minutes=2)
EARLY_TOLERANCE = dt.timedelta(seconds=2)
STEPS = [s.value for s in SlaNotice.Step]


def lead_url(lead_id: int) -> str:
    return reverse("leads:lead-detail", args=[lead_id])


@dataclass
class SweepResult:
    now: dt.datetime
    horizon: dt.datetime
    clocks_created: list[SlaClock] = field(default_factory=list)
    notices_created: list[SlaNotice] = field(default_factory=list)
    clocks_handled: int = 0
    clocks_expired: int = 0
    notices_requeued: int = 0
    deliveries_requeued: int = 0
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would create" if self.dry_run else "created"
        to_send = sum(1 for n in self.notices_created if n.state == SlaNotice.State.PENDING)
        out = [
            f"Sweep at {self.now.isoformat()}: {verb} {len(self.clocks_created)} due event(s) "
            f"({self.clocks_expired} too old: recorded without notices), "
            f"{len(self.notices_created)} notice(s) ({to_send} to send, "
            f"{len(self.notices_created) - to_send} skipped); {self.clocks_handled} handled in time; "
            f"{self.notices_requeued} notice(s) and {self.deliveries_requeued} delivery(ies) enqueued again."
        ]
        for clock in self.clocks_created:
            expired = " (too old: no notices)" if clock.state == SlaClock.State.EXPIRED else ""
            out.append(f"  due event: lead {clock.lead_id} {clock.key} due {clock.due_at.isoformat()}{expired}")
        for notice in self.notices_created:
            who = notice.recipient or "nobody"
            out.append(
                f"  notice: lead {notice.lead_id} {notice.step} to {who} ({notice.state}"
                f"{': ' + notice.reason if notice.reason else ''})"
            )
        return out


class _DryRun(Exception):
    pass


def lookahead() -> dt.timedelta:
    """How far ahead a sweep records steps: one beat interval by default. A step due within it
    is recorded now and its delivery enqueued with a countdown to the exact due time (never
    longer than this), so a notice goes out on time, not up to a minute late; the delivery
    still re-checks at that moment that the lead was not handled meanwhile."""
    return dt.timedelta(seconds=settings.SLA_SWEEP_LOOKAHEAD_SECONDS)


def backfill_horizon() -> dt.timedelta:
    """How old a breach may be and still be notified (`SLA_BACKFILL_HOURS`, default 24). A due
    event first found when its due time is older than this (the first sweep after a deploy,
    a policy switched on, an outage of more than a day) is recorded as expired, without
    notices; a step of a running clock whose time is older than this is skipped."""
    return dt.timedelta(hours=max(0.0, float(settings.SLA_BACKFILL_HOURS)))


def sla_sweep(
    *, now: dt.datetime | None = None, dry_run: bool = False, batch: int = BATCH, ahead: dt.timedelta | None = None
) -> SweepResult:
    """Run the sweep once (see the module docstring). Safe to run twice, or twice at once:
    a second run finds every clock and notice already there and does nothing."""
    now = now or timezone.now()
    result = SweepResult(now=now, horizon=now + (lookahead() if ahead is None else ahead), dry_run=dry_run)
    if dry_run:
        try:
            with transaction.atomic():
                _sweep(result, batch=batch)
                raise _DryRun  # roll everything back; on_commit enqueues are discarded with it
        except _DryRun:
            pass
        return result
    _sweep(result, batch=batch)
    return result


def _sweep(result: SweepResult, *, batch: int) -> None:
    book = PolicyBook.load()
    _discover(result, book, expire_before=result.now - backfill_horizon())
    result.clocks_handled += _close_handled(result.now)
    _advance(result, book, batch=batch)
    result.notices_requeued = _requeue_notices(result.now)
    result.deliveries_requeued = deliveries_requeue(now=result.now)


def sla_backlog_expire(*, now: dt.datetime | None = None) -> int:
    """Record every event already past due at `now` as expired, without notices (the demo's
    historical leads; a first deploy could do the same). Events not yet due are recorded as
    running clocks, exactly as the sweep would. Returns how many were expired."""
    now = now or timezone.now()
    result = SweepResult(now=now, horizon=now)
    _discover(result, PolicyBook.load(), expire_before=now)
    return result.clocks_expired


# --- 1. discovery -----------------------------------------------------------------------


def _discover(result: SweepResult, book: PolicyBook, *, expire_before: dt.datetime) -> None:
    """Record every due event not yet timed: the three kinds are found and planned, then the
    clocks are recorded in one insert. One whose due time is before `expire_before` is recorded
    as expired: it will never be found again and never notifies anyone."""
    now = result.horizon  # events whose first step falls within the lookahead
    bounds = book.lower_bounds()
    plans = [
        *_plans_first_contact(book, now - bounds["first_contact"]),
        *_plans_follow_up(book, now + bounds["follow_up_ahead"]),
        *_plans_no_follow_up(book, now - bounds["no_follow_up"]),
    ]
    if plans:
        _record_clocks(result, plans, expire_before=expire_before)


def _plans_first_contact(book: PolicyBook, arrived_before: dt.datetime):
    """Leads never contacted that arrived long enough ago and have no first-contact clock yet."""
    untouched = (
        Lead.objects.filter(stage__in=OPEN, first_contacted_at__isnull=True, arrived_at__lte=arrived_before)
        # Any first-contact clock: a lead handed over before it was timed has its new owner's.
        .filter(~Exists(SlaClock.objects.filter(lead=OuterRef("pk"), kind=SlaClock.Kind.FIRST_CONTACT)))
        .only("id", "team_id", "arrived_at", "stage")
    )
    for lead in untouched.iterator(chunk_size=2000):
        yield lead, plan_clock(book, lead=lead, kind=SlaClock.Kind.FIRST_CONTACT, anchor_at=lead.arrived_at)


def _plans_follow_up(book: PolicyBook, due_before: dt.datetime):
    """Open promised follow-ups due soon enough, not timed yet."""
    follow_ups = (
        FollowUp.objects.filter(state=FollowUp.State.OPEN, due_at__lte=due_before)
        .filter(lead__stage__in=OPEN)
        .filter(~Exists(SlaClock.objects.filter(follow_up=OuterRef("pk"))))
        .select_related("lead")
        .only("id", "due_at", "created_at", "lead__id", "lead__team_id", "lead__stage")
    )
    for fu in follow_ups.iterator(chunk_size=2000):
        yield (
            fu.lead,
            plan_clock(
                book,
                lead=fu.lead,
                kind=SlaClock.Kind.FOLLOW_UP,
                anchor_at=fu.due_at,
                follow_up_id=fu.pk,
                set_at=fu.created_at,
            ),
        )


def _plans_no_follow_up(book: PolicyBook, quiet_since: dt.datetime):
    """Contacted open leads with no follow-up date, quiet since long enough, not timed for this
    silence (the same last contact) yet."""
    # Matches the expression index sla_lead_no_follow_up (see migration 0002).
    anchor = Coalesce("last_activity_at", "first_contacted_at")
    quiet = (
        Lead.objects.annotate(sla_anchor=anchor)
        .filter(
            stage__in=OPEN,
            first_contacted_at__isnull=False,
            next_follow_up_at__isnull=True,
            sla_anchor__lte=quiet_since,
        )
        .filter(~Exists(FollowUp.objects.filter(lead=OuterRef("pk"), state=FollowUp.State.OPEN)))
        # Already timed (this silence since the same last contact): one probe of the clock index.
        .filter(
            ~Exists(
                SlaClock.objects.filter(
                    lead=OuterRef("pk"), kind=SlaClock.Kind.NO_FOLLOW_UP, anchor_at=OuterRef("sla_anchor")
                )
            )
        )
        .only("id", "team_id", "stage", "last_activity_at", "first_contacted_at")
    )
    for lead in quiet.iterator(chunk_size=2000):
        yield lead, plan_clock(book, lead=lead, kind=SlaClock.Kind.NO_FOLLOW_UP, anchor_at=lead.sla_anchor)


def _record_clocks(result: SweepResult, plans: list, *, expire_before: dt.datetime) -> None:
    """Insert the planned clocks (COPY, ON CONFLICT DO NOTHING on (lead, key): a concurrent
    sweep that got there first wins)."""
    created = timezone.now()
    clocks = []
    for lead, plan in plans:
        steps = plan.steps()
        expired = plan.due_at < expire_before
        if expired:
            result.clocks_expired += 1
        clocks.append(
            SlaClock(
                lead_id=lead.pk,
                kind=plan.kind,
                key=plan.key,
                follow_up_id=plan.follow_up_id,
                anchor_at=plan.anchor_at,
                due_at=plan.due_at,
                remind_at=plan.remind_at,
                overdue_at=plan.overdue_at,
                escalation_due_at=plan.escalation_due_at,
                escalation2_due_at=plan.escalation2_due_at,
                next_step="" if expired else steps[0][0],
                next_at=None if expired else steps[0][1],
                state=SlaClock.State.EXPIRED if expired else SlaClock.State.ACTIVE,
                handled_at=result.now if expired else None,
                policy_id=plan.policy.pk,
                policy_version=plan.policy.version,
                policy_values=plan.policy_values,
                explanation=plan.explanation,
                created_at=created,
            )
        )
    with transaction.atomic():
        copy_insert(SlaClock, clocks, CLOCK_INSERT_FIELDS, ignore_conflicts=True)
    result.clocks_created.extend(clocks)


# --- 2. advancing clocks ----------------------------------------------------------------


def _close_handled(now: dt.datetime) -> int:
    """Close running clocks whose event was handled (contacted, follow-up done, lead closed), in
    one UPDATE over the running clocks only (partial index): the lead page stops showing a due
    time that no longer applies, and those clocks leave the sweep's work at once."""
    handled = SlaClock.objects.filter(state=SlaClock.State.ACTIVE).exclude(still_pending_q())
    return SlaClock.objects.filter(pk__in=handled.values("pk")).update(
        state=SlaClock.State.HANDLED, handled_at=now, next_step="", next_at=None
    )


def _advance(result: SweepResult, book: PolicyBook, *, batch: int) -> None:
    while True:
        with transaction.atomic():
            clocks = list(
                SlaClock.objects.filter(state=SlaClock.State.ACTIVE, next_at__lte=result.horizon)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("lead", "follow_up")
                # Only what the ladder needs: a batch is a thousand clocks with their leads.
                .only(*CLOCK_FIELDS)
                .order_by("next_at")[:batch]
            )
            if not clocks:
                return
            notices = _advance_batch(result, book, clocks)
        result.notices_created.extend(notices)
        if len(clocks) < batch:
            return


CLOCK_FIELDS = (
    "id",
    "lead_id",
    "kind",
    "anchor_at",
    "due_at",
    "remind_at",
    "overdue_at",
    "escalation_due_at",
    "escalation2_due_at",
    "next_step",
    "next_at",
    "state",
    "handled_at",
    "follow_up_id",
    "lead__id",
    "lead__team_id",
    "lead__owner_id",
    "lead__stage",
    "lead__first_contacted_at",
    "lead__last_activity_at",
    "lead__next_follow_up_at",
    "follow_up__id",
    "follow_up__state",
)


def _step_time(clock: SlaClock, step: str) -> dt.datetime | None:
    return {
        SlaNotice.Step.REMINDER: clock.remind_at,
        SlaNotice.Step.OVERDUE: clock.overdue_at,
        SlaNotice.Step.ESCALATION_1: clock.escalation_due_at,
        SlaNotice.Step.ESCALATION_2: clock.escalation2_due_at,
    }[step]


def _recipient(book: PolicyBook, clock: SlaClock, step: str) -> tuple[int | None, str]:
    lead = clock.lead
    if step in (SlaNotice.Step.REMINDER, SlaNotice.Step.OVERDUE):
        return (lead.owner_id, "") if lead.owner_id else (None, "the lead has no owner")
    managers = book.managers_above(lead.team_id)
    if step == SlaNotice.Step.ESCALATION_1:
        return (managers[0], "") if managers else (None, "no manager on the team or above")
    return (managers[1], "") if len(managers) > 1 else (None, "nobody above the team's manager")


def _advance_batch(result: SweepResult, book: PolicyBook, clocks: list[SlaClock]) -> list[SlaNotice]:
    """Move a batch of running clocks on: each one handled meanwhile is closed, each other one
    records the steps now due (or due within the lookahead); then the clocks are written back,
    the notices inserted and the pending ones enqueued."""
    stale_before = result.now - backfill_horizon()
    notices: list[SlaNotice] = []
    for clock in clocks:
        notices += _clock_advance(result, book, clock, stale_before=stale_before)
    _save_clock_progress(clocks)
    if not notices:
        return notices
    notices = _record_notices(notices, clocks)
    pending = [
        (n.pk, max(0.0, (n.scheduled_at - result.now).total_seconds()))
        for n in notices
        if n.state == SlaNotice.State.PENDING
    ]
    if pending:
        _enqueue_notices(pending)
    return notices


def _clock_advance(result: SweepResult, book: PolicyBook, clock: SlaClock, *, stale_before) -> list[SlaNotice]:
    """The step choice for one clock: close it when its event was handled; else the notices of
    the steps due up to the horizon (the missed ones skipped, see below), and its next step."""
    now, horizon = result.now, result.horizon
    follow_up_state = clock.follow_up.state if clock.follow_up_id else None
    if not clock_is_pending(clock, clock.lead, follow_up_state):
        clock.state, clock.handled_at, clock.next_step, clock.next_at = SlaClock.State.HANDLED, now, "", None
        result.clocks_handled += 1
        return []
    notices = []
    order = [s for s in STEPS if _step_time(clock, s) is not None]
    index = order.index(clock.next_step)
    # The step due now is the last one whose time has passed: the earlier ones were missed
    # (found late, or the sweep was not running) and are recorded as skipped, so a lead
    # found hours late tells one person once, not the whole ladder at the same instant.
    current = max((i for i, s in enumerate(order) if _step_time(clock, s) <= now), default=-1)
    while index < len(order) and _step_time(clock, order[index]) <= horizon:
        step = order[index]
        recipient_id, why_not = _recipient(book, clock, step)
        state, reason = SlaNotice.State.PENDING, ""
        if index < current:
            state, reason = SlaNotice.State.SKIPPED, "a later step was already due when recorded"
        elif _step_time(clock, step) < stale_before:
            state, reason = SlaNotice.State.SKIPPED, "older than the backfill horizon"
        elif recipient_id is None:
            state, reason = SlaNotice.State.SKIPPED, why_not
        elif step == SlaNotice.Step.REMINDER and clock.due_at <= now:
            # The sweep was not running when the reminder was due: the overdue notice follows.
            state, reason = SlaNotice.State.SKIPPED, "already overdue when recorded"
        notices.append(
            SlaNotice(
                clock=clock,
                lead_id=clock.lead_id,
                step=step,
                recipient_id=recipient_id,
                scheduled_at=_step_time(clock, step),
                state=state,
                reason=reason,
                # A step recorded ahead counts as enqueued at its due time (for the requeue).
                enqueued_at=max(now, _step_time(clock, step)) if state == SlaNotice.State.PENDING else None,
                finished_at=now if state != SlaNotice.State.PENDING else None,
            )
        )
        index += 1
    if index >= len(order):
        clock.state, clock.next_step, clock.next_at = SlaClock.State.DONE, "", None
    else:
        clock.next_step, clock.next_at = order[index], _step_time(clock, order[index])
    return notices


def _record_notices(notices: list[SlaNotice], clocks: list[SlaClock]) -> list[SlaNotice]:
    """Insert the notices with COPY and read their ids back (PostgreSQL); the ones recorded."""
    stamp = timezone.now()
    for notice in notices:
        notice.created_at = stamp
    try:
        with transaction.atomic():
            copy_insert(SlaNotice, notices, NOTICE_INSERT_FIELDS)
            if connection.vendor == "postgresql":  # COPY returns no ids: read them back
                ids = {
                    (clock_id, step): pk
                    for pk, clock_id, step in SlaNotice.objects.filter(
                        clock_id__in=[c.pk for c in clocks], created_at=stamp
                    ).values_list("pk", "clock_id", "step")
                }
                for notice in notices:
                    notice.pk = ids[(notice.clock_id, notice.step)]
    except IntegrityError:
        return _record_notices_one_by_one(notices)
    return notices


def _record_notices_one_by_one(notices: list[SlaNotice]) -> list[SlaNotice]:
    """The SQLite fallback: without row locks two sweeps may race, so each notice is recorded on
    its own, skipping the ones another sweep recorded first."""
    recorded = []
    for notice in notices:
        try:
            with transaction.atomic():
                notice.save(force_insert=True)
            recorded.append(notice)
        except IntegrityError:
            continue
    return recorded


def _save_clock_progress(clocks: list[SlaClock]) -> None:
    """Write back state/next step of a batch of clocks. On PostgreSQL one UPDATE ... FROM (VALUES)
    (bulk_update's CASE per row is quadratic to plan for a thousand rows)."""
    if connection.vendor != "postgresql":
        SlaClock.objects.bulk_update(clocks, ["state", "handled_at", "next_step", "next_at"], batch_size=500)
        return
    rows = ", ".join(["(%s, %s, %s, %s::timestamptz, %s::timestamptz)"] * len(clocks))
    params: list = []
    for c in clocks:
        params += [c.pk, c.state, c.next_step, c.next_at, c.handled_at]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE sla_slaclock AS c SET state = v.state, next_step = v.next_step, next_at = v.next_at, "  # noqa: S608
            f"handled_at = v.handled_at FROM (VALUES {rows}) AS v(id, state, next_step, next_at, handled_at) "
            "WHERE c.id = v.id",
            params,
        )


ENQUEUE_CHUNK = 100
# The task that delivers a batch of notices (leads.sla.tasks), named: tasks import services,
# never the other way round.
NOTICE_DELIVER = "leads.sla.tasks.notice_deliver_task"


def _enqueue_notices(ids: list[tuple[int, float]]) -> None:
    """Enqueue deliveries on commit: (notice id, countdown in seconds, at most the lookahead).

    Notices due at the same second travel in messages of up to 100 ids: 10,000 due leads are a
    hundred messages, not ten thousand round trips to the broker. Each notice is still delivered
    in its own transaction, so a batch redelivered after a crash skips the ones already sent.
    """
    # A countdown is a message held in a worker's memory: never longer than the lookahead, so a
    # killed worker costs at most that plus the re-enqueue grace, not the broker's visibility timeout.
    longest = lookahead().total_seconds()
    groups: dict[int, list[int]] = {}
    for pk, countdown in ids:
        groups.setdefault(math.ceil(min(max(0.0, countdown), longest)), []).append(pk)

    def send():
        try:
            with current_app.producer_or_acquire() as producer:
                for countdown, pks in sorted(groups.items()):
                    for start in range(0, len(pks), ENQUEUE_CHUNK):
                        task_send(
                            NOTICE_DELIVER,
                            (pks[start : start + ENQUEUE_CHUNK],),
                            countdown=countdown or None,
                            producer=producer,
                        )
        except Exception:
            # Broker down: the notices stay pending and a later sweep enqueues them again.
            logger.warning("could not enqueue %d SLA notice(s); the sweep will retry", len(ids), exc_info=True)

    transaction.on_commit(send)


# Steps delivered in bulk: a notice and a timeline entry, nothing else. Escalations (which may
# reassign the lead or open it to claims) are delivered one at a time by notice_deliver.
BULK_STEPS = (SlaNotice.Step.REMINDER, SlaNotice.Step.OVERDUE)


def notices_deliver(*, notice_ids: list[int]) -> dict[str, int]:
    """Deliver a batch of notices: the reminders and overdue notices together in one transaction
    (leads and notices locked, in-app notices, timeline entries and email/SMS deliveries written in
    bulk: a Monday-morning wave is a hundred transactions, not ten thousand), then each escalation
    in its own. Exactly once either way: only a locked, pending notice is delivered, so a batch
    delivered twice finds its notices sent. If the bulk transaction fails it is rolled back and its
    notices are delivered one at a time. A notice that fails stays pending (the sweep enqueues it
    again); one that is early is enqueued again for its due time."""
    outcomes: dict[str, int] = {}
    early: list[tuple[int, float]] = []
    try:
        rest = _deliver_bulk(notice_ids, now=timezone.now(), outcomes=outcomes, early=early)
    except Exception:
        logger.exception("SLA notices %s could not be delivered together; one at a time instead", notice_ids[:5])
        outcomes, early, rest = {}, [], list(notice_ids)
    for pk in rest:
        try:
            result = notice_deliver(notice_id=pk)
        except Exception:
            logger.exception("SLA notice %s could not be delivered; the sweep will retry", pk)
            outcomes["error"] = outcomes.get("error", 0) + 1
            continue
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        if result.outcome == "early":
            early.append((pk, min(float(result.detail), lookahead().total_seconds())))
    if early:
        _enqueue_notices(early)
    return outcomes


def _deliver_bulk(
    notice_ids: list[int], *, now: dt.datetime, outcomes: dict[str, int], early: list[tuple[int, float]]
) -> list[int]:
    """Deliver the reminders and overdue notices among `notice_ids` in one transaction, with the
    checks of notice_deliver; returns the ids left to deliver one at a time (escalations)."""
    with transaction.atomic():
        # Leads first, in id order (as notice_deliver: lead, then notice), so two batches never deadlock.
        lead_ids = SlaNotice.objects.filter(pk__in=notice_ids, step__in=BULK_STEPS, state=SlaNotice.State.PENDING)
        leads = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update(of=("self",))
            .select_related("team", "owner")
            .filter(pk__in=lead_ids.values("lead_id"))
            .order_by("pk")
        }
        notices_ = list(
            SlaNotice.objects.select_for_update(of=("self",))
            .select_related("clock", "clock__follow_up", "recipient")
            .filter(pk__in=notice_ids, step__in=BULK_STEPS)
            .order_by("pk")
        )
        bulk = {n.pk for n in notices_}
        rest = [pk for pk in notice_ids if pk not in bulk]
        finished, entries, drafts = [], [], []
        for notice in notices_:
            lead = leads.get(notice.lead_id)
            if notice.state != SlaNotice.State.PENDING:
                outcome = "already"
            elif lead is None:  # became pending after the leads were locked: cannot happen; be safe
                rest.append(notice.pk)
                continue
            elif notice.scheduled_at > now + EARLY_TOLERANCE:
                early.append((notice.pk, min((notice.scheduled_at - now).total_seconds(), lookahead().total_seconds())))
                outcome = "early"
            else:
                outcome = _bulk_outcome(notice, lead, now)
                finished.append(notice)
                if outcome == "sent":
                    clock, recipient = notice.clock, notice.recipient
                    entries.append(_timeline_entry(notice=notice, clock=clock, lead=lead, recipient=recipient, now=now))
                    drafts.append(_in_app_notice(notice=notice, clock=clock, lead=lead, recipient=recipient))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        SlaNotice.objects.bulk_update(finished, ["state", "finished_at", "reason"], batch_size=500)
        Activity.objects.bulk_create(entries)
        notifications_create_many(drafts)
    return rest


def _bulk_outcome(notice: SlaNotice, lead: Lead, now: dt.datetime) -> str:
    """notice_deliver's decision for a pending, due reminder or overdue notice, set on the notice."""
    clock = notice.clock
    follow_up_state = clock.follow_up.state if clock.follow_up_id else None
    if clock.state == SlaClock.State.REASSIGNED:
        notice.state, notice.reason, outcome = SlaNotice.State.CANCELLED, "the lead changed hands", "cancelled"
    elif not clock_is_pending(clock, lead, follow_up_state):
        notice.state, notice.reason, outcome = SlaNotice.State.CANCELLED, "handled in time", "cancelled"
    elif notice.recipient is None or not notice.recipient.is_active:
        notice.state, notice.reason, outcome = SlaNotice.State.SKIPPED, "recipient unavailable", "skipped"
    else:
        notice.state, outcome = SlaNotice.State.SENT, "sent"
    notice.finished_at = now
    return outcome


def requeue_grace() -> dt.timedelta:
    """How long a pending notice may wait after it was (last) enqueued before the sweep enqueues it
    again: two sweep intervals, at least two minutes. Its message is most likely lost by then (a
    worker killed, Redis restarted empty); one merely still queued behind a burst is enqueued again
    at most once per grace, never every sweep, because `enqueued_at` is moved to the time of each
    enqueue. Delivering a notice twice is impossible anyway (the delivery locks it, pending only)."""
    return max(REQUEUE_AFTER, dt.timedelta(seconds=2 * settings.SLA_SWEEP_SECONDS))


def _requeue_notices(now: dt.datetime) -> int:
    """Enqueue again the pending notices last enqueued more than the grace ago, and record the
    time of this enqueue (`enqueued_at`) so the next sweeps leave them alone for another grace."""
    with transaction.atomic():
        stale = list(
            SlaNotice.objects.filter(state=SlaNotice.State.PENDING, enqueued_at__lte=now - requeue_grace())
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:5000]
        )
        if stale:
            SlaNotice.objects.filter(pk__in=stale).update(enqueued_at=now)
            _enqueue_notices([(pk, 0.0) for pk in stale])
    return len(stale)


# --- delivery of one notice -------------------------------------------------------------


@dataclass(frozen=True)
class DeliverResult:
    outcome: str  # sent | cancelled | skipped | already | early
    detail: str = ""


TITLES = {
    SlaNotice.Step.REMINDER: "Follow up soon: {lead} (due {due})",
    SlaNotice.Step.OVERDUE: "Overdue: {lead} ({kind} was due {due})",
    SlaNotice.Step.ESCALATION_1: "Escalated to you: {lead} ({kind} overdue since {due})",
    SlaNotice.Step.ESCALATION_2: "Escalated to you (second level): {lead} ({kind} overdue since {due})",
}
KIND_OF_STEP = {
    SlaNotice.Step.REMINDER: notices.SLA_REMINDER,
    SlaNotice.Step.OVERDUE: notices.SLA_OVERDUE,
    SlaNotice.Step.ESCALATION_1: notices.SLA_ESCALATION,
    SlaNotice.Step.ESCALATION_2: notices.SLA_ESCALATION,
}
ACTIVITY_OF_STEP = {
    SlaNotice.Step.REMINDER: Activity.Kind.REMINDER,
    SlaNotice.Step.OVERDUE: Activity.Kind.BREACH,
    SlaNotice.Step.ESCALATION_1: Activity.Kind.ESCALATED,
    SlaNotice.Step.ESCALATION_2: Activity.Kind.ESCALATED,
}


def _due_text(clock: SlaClock, lead: Lead) -> str:
    return local_text(clock.due_at, lead.team.time_zone)


def notice_deliver(*, notice_id: int, now: dt.datetime | None = None) -> DeliverResult:
    """Deliver one recorded notice, exactly once.

    Locks the lead (so a rep handling it at this instant is serialised with us) and the
    notice; only a pending notice is delivered. If the due event was handled meanwhile the
    notice is cancelled instead. Timeline entry, in-app notices (whose email/SMS deliveries
    are enqueued on commit) and the escalation's reassignment commit together or not at all.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lead_id = SlaNotice.objects.filter(pk=notice_id).values_list("lead_id", flat=True).first()
        if lead_id is None:
            return DeliverResult("already", "no such notice")
        lead = Lead.objects.select_for_update(of=("self",)).select_related("team", "owner").get(pk=lead_id)
        notice = (
            SlaNotice.objects.select_for_update(of=("self",))
            .select_related("clock", "clock__follow_up", "recipient")
            .get(pk=notice_id)
        )
        if notice.state != SlaNotice.State.PENDING:
            return DeliverResult("already", notice.state)
        if notice.scheduled_at > now + EARLY_TOLERANCE:
            # Recorded ahead and delivered early (a requeue, a clock skew): not yet.
            return DeliverResult("early", str((notice.scheduled_at - now).total_seconds()))
        clock = notice.clock
        follow_up_state = clock.follow_up.state if clock.follow_up_id else None
        if clock.state == SlaClock.State.REASSIGNED:
            # Stopped when the lead changed hands (leads.sla.handover cancels these already).
            notice.state, notice.finished_at, notice.reason = SlaNotice.State.CANCELLED, now, "the lead changed hands"
            notice.save(update_fields=["state", "finished_at", "reason"])
            return DeliverResult("cancelled")
        if not clock_is_pending(clock, lead, follow_up_state):
            notice.state, notice.finished_at, notice.reason = SlaNotice.State.CANCELLED, now, "handled in time"
            notice.save(update_fields=["state", "finished_at", "reason"])
            return DeliverResult("cancelled")
        recipient = notice.recipient
        if recipient is None or not recipient.is_active:
            notice.state, notice.finished_at, notice.reason = SlaNotice.State.SKIPPED, now, "recipient unavailable"
            notice.save(update_fields=["state", "finished_at", "reason"])
            return DeliverResult("skipped")
        # Marked sent before its effects: an escalation that reassigns the lead stops this clock
        # and cancels its pending notices in the same transaction, and this one is no longer pending.
        notice.state, notice.finished_at = SlaNotice.State.SENT, now
        notice.save(update_fields=["state", "finished_at"])
        _deliver(notice=notice, clock=clock, lead=lead, recipient=recipient, now=now)
        return DeliverResult("sent")


def _timeline_entry(*, notice: SlaNotice, clock: SlaClock, lead: Lead, recipient: User, now: dt.datetime) -> Activity:
    """The lead's timeline entry for a delivered notice (not saved)."""
    step = notice.step
    due = _due_text(clock, lead)
    kind_label = clock.get_kind_display().lower()
    if step in (SlaNotice.Step.ESCALATION_1, SlaNotice.Step.ESCALATION_2):
        level = 1 if step == SlaNotice.Step.ESCALATION_1 else 2
        text = f"Escalated to {recipient} (level {level}): {kind_label} overdue since {due}."
    elif step == SlaNotice.Step.OVERDUE:
        text = f"{clock.get_kind_display()} overdue (was due {due}); {lead.owner or 'nobody'} was told."
    else:
        text = f"Reminder sent to {recipient}: {kind_label} due {due}."
    return Activity(
        lead=lead,
        kind=ACTIVITY_OF_STEP[step],
        actor=None,
        body=text,
        occurred_at=now,
        data={"sla_notice": notice.pk, "step": step, "due_at": clock.due_at.isoformat(), "to": recipient.pk},
    )


def _in_app_notice(*, notice: SlaNotice, clock: SlaClock, lead: Lead, recipient: User) -> NotificationDraft:
    """The recipient's in-app notice for a delivered notice (recorded by the caller)."""
    title = TITLES[notice.step].format(lead=lead, due=_due_text(clock, lead), kind=clock.get_kind_display().lower())
    return NotificationDraft(
        recipient=recipient,
        kind=KIND_OF_STEP[notice.step],
        title=title,
        key=f"sla-notice:{notice.pk}",
        body=clock.explanation,
        url=lead_url(lead.pk),
    )


def _deliver(*, notice: SlaNotice, clock: SlaClock, lead: Lead, recipient: User, now: dt.datetime) -> None:
    step = notice.step
    _timeline_entry(notice=notice, clock=clock, lead=lead, recipient=recipient, now=now).save()
    draft = _in_app_notice(notice=notice, clock=clock, lead=lead, recipient=recipient)
    escalation = step in (SlaNotice.Step.ESCALATION_1, SlaNotice.Step.ESCALATION_2)
    notification_create(
        recipient=recipient,
        kind=draft.kind,
        title=draft.title,
        key=draft.key,
        body=draft.body,
        url=draft.url,
        team_chat=lead.team if escalation else None,  # the team's Slack/Teams channel hears of it too
    )
    if not escalation:
        return
    due = _due_text(clock, lead)
    kind_label = clock.get_kind_display().lower()
    url = lead_url(lead.pk)
    # The owner hears of an escalation of their own clock only: never of one from before they
    # owned the lead (a hand-over stops the old clock; this guards any other path).
    owned_since_clock = lead.assigned_at is None or lead.assigned_at <= clock.created_at
    if lead.owner_id and lead.owner_id != recipient.pk and owned_since_clock:
        notification_create(
            recipient=lead.owner,
            kind=notices.SLA_ESCALATED_OWNER,
            title=f"Your lead {lead} was escalated to {recipient}",
            key=f"sla-notice:{notice.pk}:owner",
            body=clock.explanation,
            url=url,
        )
    if step == SlaNotice.Step.ESCALATION_1:
        clock.escalated_at = now
        action = clock.policy_values.get("on_escalation", SlaPolicy.OnEscalation.NOTIFY)
        if action == SlaPolicy.OnEscalation.CLAIM:
            clock.claimable = True
            _tell_teammates_they_can_claim(notice=notice, lead=lead, what=f"{kind_label} overdue since {due}")
        clock.save(update_fields=["escalated_at", "claimable"])
        if action == SlaPolicy.OnEscalation.REASSIGN:
            _reassign_to_next_rep(lead=lead, reason=f"Escalated: {kind_label} overdue since {due}")


def _tell_teammates_they_can_claim(*, notice: SlaNotice, lead: Lead, what: str) -> None:
    teammates = User.objects.filter(memberships__team_id=lead.team_id, role=User.Role.REP, is_active=True).exclude(
        pk=lead.owner_id
    )
    for teammate in teammates:
        notification_create(
            recipient=teammate,
            kind=notices.SLA_CLAIMABLE,
            title=f"Save a lead: {lead} ({what}); you can claim it",
            key=f"sla-notice:{notice.pk}:claim",
            url=reverse("sla:claim-list"),
        )


def next_available_rep(lead: Lead) -> User | None:
    """The team's rep with the fewest open leads (then by id), active, not away, not the owner."""
    return (
        User.objects.filter(available_reps_q(), memberships__team_id=lead.team_id)
        .exclude(pk=lead.owner_id)
        .annotate(open_leads=Count("owned_leads", filter=Q(owned_leads__stage__in=OPEN)))
        .order_by("open_leads", "id")
        .first()
    )


def _reassign_to_next_rep(*, lead: Lead, reason: str) -> None:
    to_owner = next_available_rep(lead)
    if to_owner is None:
        return
    lead_reassign(actor=None, lead=lead, to_owner=to_owner, reason=reason)


# --- people acting on escalations -------------------------------------------------------


@transaction.atomic
def escalation_reassign(*, actor: User, clock: SlaClock, to_owner: User) -> Lead:
    """A manager moves an escalated lead to someone else on the team, in one click. The
    escalation leaves their "act now" list; the reassignment is on the lead's timeline."""
    clock = SlaClock.objects.select_for_update(of=("self",)).select_related("lead", "lead__team").get(pk=clock.pk)
    if clock.actioned_at is not None:
        raise ValidationError("Someone already acted on this escalation.")
    if not User.objects.filter(available_reps_q(), pk=to_owner.pk).exists():
        why = f"is away until {to_owner.away_until:%d %b}" if to_owner.is_away else "is not an active rep"
        raise ValidationError({"to_owner": f"{to_owner} {why}: choose an available rep."})
    lead = lead_reassign(
        actor=actor, lead=clock.lead, to_owner=to_owner, reason=f"Escalated lead reassigned by {actor}"
    )
    clock.actioned_at, clock.actioned_by, clock.claimable = timezone.now(), actor, False
    clock.save(update_fields=["actioned_at", "actioned_by", "claimable"])
    return lead


@transaction.atomic
def escalated_lead_claim(*, actor: User, clock: SlaClock) -> Lead:
    """A teammate takes an escalated lead the policy left open to claims."""
    clock = SlaClock.objects.select_for_update().select_related("lead").get(pk=clock.pk)
    lead = clock.lead
    if not clock.claimable:
        raise ValidationError("This lead is not open to claims.")
    if not Membership.objects.filter(user=actor, team_id=lead.team_id).exists() or not actor.is_active:
        raise ValidationError("Only a member of this lead's team can claim it.")
    if lead.owner_id == actor.pk:
        raise ValidationError("You already own this lead.")
    clock.claimable, clock.actioned_at, clock.actioned_by = False, timezone.now(), actor
    clock.save(update_fields=["claimable", "actioned_at", "actioned_by"])
    return lead_take_over(actor=actor, lead=lead, reason=f"Claimed by {actor} after escalation")


# --- policies ---------------------------------------------------------------------------

POLICY_FIELDS = [
    "first_contact_minutes",
    "reminder_before_minutes",
    "overdue_reminder_minutes",
    "no_follow_up_after_minutes",
    "escalation_grace_minutes",
    "second_level_delay_minutes",
    "on_escalation",
]


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise ValidationError("Only an admin can change SLA policies.")


def _clean_hours(hours: dict[int, tuple[str, str]]) -> list[tuple[int, int, int]]:
    errors = {}
    windows = []
    for weekday, (opens_raw, closes_raw) in sorted(hours.items()):
        if not (0 <= weekday <= 6):
            errors["hours"] = "Weekdays are 0 (Monday) to 6 (Sunday)."
            continue
        if not (opens_raw or "").strip() and not (closes_raw or "").strip():
            continue  # closed that day
        try:
            opens, closes = parse_hhmm(opens_raw), parse_hhmm(closes_raw)
        except ValueError as exc:
            errors[f"day_{weekday}"] = str(exc)
            continue
        if opens >= closes:
            errors[f"day_{weekday}"] = "Closing time must be after opening time."
            continue
        windows.append((weekday, opens, closes))
    if errors:
        raise ValidationError(errors)
    if not windows:
        raise ValidationError({"hours": "Open at least one day a week."})
    return windows


@transaction.atomic
def sla_policy_save(
    *,
    actor: User,
    policy: SlaPolicy | None,
    team: Team | None,
    hours: dict[int, tuple[str, str]],
    **values,
) -> SlaPolicy:
    """Create or change a policy. Every change bumps the version; due times already computed
    keep the values they were computed with (stored on each clock)."""
    _require_admin(actor)
    errors = {}
    for name in POLICY_FIELDS[:-1]:
        value = values.get(name)
        if not isinstance(value, int) or value < 0:
            errors[name] = "Enter a whole number of minutes, 0 or more."
        elif value > 60 * 24 * 60:
            errors[name] = "At most 60 days (86,400 minutes)."
    for name in ("first_contact_minutes", "no_follow_up_after_minutes"):
        if name not in errors and values.get(name) == 0:
            errors[name] = "Must be at least 1 minute."
    if values.get("on_escalation") not in SlaPolicy.OnEscalation.values:
        errors["on_escalation"] = "Choose what happens on escalation."
    clash = SlaPolicy.objects.filter(team=team)
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        errors["team"] = f"{team or 'The organisation'} already has a policy; edit that one."
    try:
        windows = _clean_hours(hours)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if policy is None:
        policy = SlaPolicy(team=team, version=1)
    else:
        policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        old_hours = sorted(policy.hours.values_list("weekday", "opens", "closes"))
        changed = policy.team_id != (team.pk if team else None) or old_hours != sorted(windows)
        changed |= any(getattr(policy, name) != values[name] for name in POLICY_FIELDS)
        if not changed:
            return policy
        policy.version += 1
        policy.team = team
    for name in POLICY_FIELDS:
        setattr(policy, name, values[name])
    policy.updated_by = actor
    policy.save()
    policy.hours.all().delete()
    BusinessHours.objects.bulk_create(
        [BusinessHours(policy=policy, weekday=d, opens=o, closes=c) for d, o, c in windows]
    )
    return policy


@transaction.atomic
def sla_policy_delete(*, actor: User, policy: SlaPolicy) -> None:
    """Remove a team's policy (it then inherits); the organisation default stays."""
    _require_admin(actor)
    if policy.team_id is None:
        raise ValidationError("The organisation default policy cannot be deleted; change it instead.")
    policy.delete()


def _holiday_today(team: Team | None) -> dt.date:
    """The first date a holiday may still fall on: today in the team's zone; for an organisation-wide
    holiday, today where it is earliest (a day still under way in any team's zone can be closed)."""
    names = (
        [team.time_zone]
        if team is not None
        else [settings.TIME_ZONE, *Team.objects.values_list("time_zone", flat=True)]
    )
    days = []
    for name in names:
        try:
            days.append(timezone.localdate(timezone=zoneinfo.ZoneInfo(name)))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return min(days, default=timezone.localdate())


@transaction.atomic
def holiday_create(*, actor: User, team: Team | None, date: dt.date, name: str) -> Holiday:
    _require_admin(actor)
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Name the holiday."
    elif len(name) > 100:
        errors["name"] = "At most 100 characters."
    today = _holiday_today(team)
    if date < today:
        # A past holiday would change nothing the clocks already measured, and is usually a typo (a year).
        errors["date"] = f"{date:%d %b %Y} is already past: choose {today:%d %b %Y} or later."
    if Holiday.objects.filter(team=team, date=date).exists():
        errors["date"] = f"{date:%d %b %Y} is already a holiday for {team or 'the organisation'}."
    if errors:
        raise ValidationError(errors)
    return Holiday.objects.create(team=team, date=date, name=name)


@transaction.atomic
def holiday_delete(*, actor: User, holiday: Holiday) -> None:
    _require_admin(actor)
    holiday.delete()
