"""Thin Celery wrappers around accountability.notifications.services."""

from celery import shared_task

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
        if countdown > services.longest_countdown():
            # No long countdown held in a worker's memory (a killed worker would sit on it): the
            # sweep's deliveries_requeue sends it once its next_attempt_at has passed.
            return "retry later"
        raise self.retry(countdown=countdown)
    return result.outcome


@shared_task(acks_late=True)
def deliveries_send(delivery_ids: list[int]) -> dict:
    """Send a batch of email/SMS deliveries (recorded together by notifications_create_many), the
    emails over one connection. Each delivery is attempted as by delivery_send, in its own
    transaction, so a batch redelivered after a crash sends only what was not sent."""
    return services.deliveries_send_batch(delivery_ids=delivery_ids)
