"""Thin Celery wrappers around accountability.services."""

from celery import shared_task

from accountability import services


@shared_task(acks_late=True)
def invitation_send(invitation_id: int) -> str:
    """Email one invitation. Sent once: the service locks the row and sends only an unsent,
    still-valid invitation, so a redelivered task does nothing."""
    return services.invitation_send(invitation_id=invitation_id)
