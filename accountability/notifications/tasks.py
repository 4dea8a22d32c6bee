"""Thin Celery wrappers around accountability.notifications.services."""

from celery import shared_task

from accountability.notifications import services


@shared_task(bind=True, acks_late=True, max_retries=None)
def delivery_send(self, delivery_id: int) -> str:
    """Send one email/SMS delivery. At-least-once as a message (acks_late, requeued when the
    worker dies); at most once per channel in effect because the attempt locks the Delivery row
    and only a pending row is sent, and a sent row is never sent again. The one window left is
    a worker killed after the provider accepted the message but before the commit, inherent
    to any external channel. Retries with exponential backoff; after the last attempt the row is
    marked failed and shown to admins."""
    result = services.delivery_attempt(delivery_id=delivery_id)
    if result.outcome == "retry":
        raise self.retry(countdown=services.backoff_seconds(result.attempts))
    return result.outcome
