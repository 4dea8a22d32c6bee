"""Enqueueing a Celery task by name, so services never import a tasks module.

Tasks sit above services (a task is a thin wrapper that calls one service), so a service that
needs work done in the background names the task instead of importing it: the dependency
goes one way only, and import-linter checks it. A task's name is its module path plus its
function name (Celery's default), e.g. "leads.sla.tasks.notice_deliver_task".
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def task_send(name: str, args: tuple = (), *, countdown: float | None = None, producer=None) -> None:
    """Send task `name` now. In eager mode (tests, CELERY_TASK_ALWAYS_EAGER) it runs in place,
    as `.delay()` would: send_task alone ignores eager mode, so the registered task is used."""
    app = current_app
    if app.conf.task_always_eager:
        app.loader.import_default_modules()  # the autodiscovered tasks modules, once
        app.tasks[name].apply_async(args, countdown=countdown)
        return
    app.send_task(name, args=args, countdown=countdown, producer=producer)


def task_send_on_commit(name: str, *args) -> None:
    """Send task `name` with `args` once the current transaction commits. The broker being down
    is logged, not raised: the row the task works on stays pending and a sweep sends it later."""

    def send():
        try:
            task_send(name, args)
        except Exception:
            logger.warning("could not enqueue %s%s; the sweep will retry", name, args, exc_info=True)

    transaction.on_commit(send)
