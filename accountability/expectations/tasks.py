from celery import shared_task

from accountability.expectations.services import acknowledgement_reminders_send


@shared_task
def send_acknowledgement_reminders() -> int:
    """Daily sweep: remind people who have not acknowledged a version published N days ago.

    At-least-once is safe: every notice is keyed per (version, person) under the notifications'
    unique constraint, so a retry or a second run in the same day sends nothing twice.
    """
    return acknowledgement_reminders_send()
