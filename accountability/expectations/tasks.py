from celery import shared_task

from accountability.expectations.services import acknowledgement_reminders_send


@shared_task(acks_late=True)
def send_acknowledgement_reminders() -> int:
    """Daily sweep: remind people who have not acknowledged a version published N days ago.

    At-least-once: acks_late=True (stated here, and also the project default CELERY_TASK_ACKS_LATE,
    with CELERY_TASK_REJECT_ON_WORKER_LOST) acknowledges the message only after the sweep returns,
    so a worker that dies mid-sweep leaves it to be redelivered and run again. That is safe: every
    notice is keyed per (version, person) under the notifications' unique constraint, so a
    redelivery or a second run sends nobody a reminder twice for the same version.
    """
    return acknowledgement_reminders_send()
