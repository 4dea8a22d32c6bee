"""Thin Celery wrappers for reviews. Schedules: accountability/schedules.py (reviews block)."""

from celery import shared_task

from accountability.models import User
from reviews import drift


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
