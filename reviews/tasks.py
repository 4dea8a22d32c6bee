"""Thin Celery wrappers around reviews services. Schedules: accountability/schedules.py (reviews block)."""

from celery import shared_task

from accountability.models import User
from reviews import drift, services


@shared_task(acks_late=True)
def reviews_deadlines_sweep() -> int:
    """Self/manager assessment due-in-3-days and overdue notices, and the cut-off freeze.
    At-least-once is safe: each notice is keyed by review and kind (unique notification row) and a
    packet freezes by a conditional update on frozen_at."""
    return services.reviews_remind()


@shared_task(acks_late=True)
def one_on_ones_sweep() -> int:
    """Schedule each active series' next meeting (with its suggested agenda), then remind both
    people the day before. At-least-once is safe: a meeting slot is unique per series, a
    suggestion unique per meeting and source, a reminder keyed per meeting and person."""
    made = services.series_schedule_all()
    return made + services.meetings_remind()


@shared_task(acks_late=True)
def action_items_overdue_sweep() -> int:
    """Remind each owner of an overdue open action item, once per item (keyed notice).
    At-least-once is safe for the same reason."""
    return services.action_items_remind()


@shared_task(acks_late=True)
def drift_flags_nightly() -> int:
    """Raise the early flags of drift found in the rollup. At-least-once is safe: a flag is a row
    under a unique (rep, rule, week) key and one active flag per (rep, rule), so a rerun raises
    nothing new."""
    return drift.drift_flags_compute()


@shared_task(acks_late=True)
def drift_digests_weekly() -> int:
    """Fan out one digest task per manager."""
    managers = drift.digest_recipients()
    for manager_id in managers:
        drift_digest_manager.delay(manager_id)
    return len(managers)


@shared_task(acks_late=True)
def drift_digest_manager(manager_id: int) -> bool:
    """One manager's weekly digest of new flags. At-least-once is safe: the notice is keyed per
    manager and ISO week, so a retry sends nothing twice."""
    manager = User.objects.filter(pk=manager_id, is_active=True).first()
    return bool(manager) and drift.drift_digest_send(manager=manager)
