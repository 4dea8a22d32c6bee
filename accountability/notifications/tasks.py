"""Thin Celery wrappers around accountability.notifications.services."""

from celery import shared_task
from django.conf import settings

from accountability.notifications import services


@shared_task(bind=True, acks_late=True, max_retries=None)
def delivery_send(self, delivery_id: int) -> str:
    """Send one email/SMS delivery. At-least-once as a message (acks_late, requeued when the
    worker dies); at most once per channel in effect because the attempt locks the Delivery row
    and only a pending row is sent, and a sent row is never sent again. The one window left is
    a worker killed after the provider accepted the message but before the commit, inherent
    to any external channel. Retries with exponential backoff (a short one here, a longer one
    through the sweep); after the last attempt the row is marked failed and shown to admins."""
    result = services.delivery_attempt(delivery_id=delivery_id)
    if result.outcome == "retry":
        countdown = services.backoff_seconds(result.attempts)
        if countdown > settings.SLA_SWEEP_LOOKAHEAD_SECONDS:
            # No long countdown held in a worker's memory (a killed worker would sit on it): the
            # sweep's deliveries_requeue sends it once its next_attempt_at has passed.
            return "retry later"
        raise self.retry(countdown=countdown)
    return result.outcome
