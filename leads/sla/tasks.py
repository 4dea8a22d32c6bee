"""Thin Celery wrappers around leads.sla.services."""

from celery import shared_task

from accountability.services import heartbeat_touch
from leads.sla import services


@shared_task(acks_late=True)
def sla_sweep_task() -> str:
    """The minute sweep (beat). Safe to run twice, even at the same time: due events and notices
    are rows under unique constraints, claimed with SKIP LOCKED; a lost run is made up by the next,
    because everything it needs is in the database."""
    result = services.sla_sweep()
    heartbeat_touch(name="worker")  # /healthz: a worker ran the sweep the beat sent
    return f"{len(result.clocks_created)} due events, {len(result.notices_created)} notices"


@shared_task(acks_late=True)
def notice_deliver_task(notice_ids: list[int]) -> dict:
    """Deliver SLA notices (a batch of ids due at the same second). At-least-once as a message
    (acks_late, requeued if the worker dies; re-enqueued by the sweep if it was lost);
    exactly-once in effect: each delivery locks its notice and only a pending one is delivered,
    in one transaction with its timeline entry, so a redelivered batch skips what was sent.
    A notice that arrives before its due time is enqueued again for then (<= the lookahead)."""
    return services.notices_deliver(notice_ids=notice_ids)
