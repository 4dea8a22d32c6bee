"""The Monday-morning wave (issue 14, item 7): queues, the re-enqueue grace, batched deliveries."""

from __future__ import annotations

import pytest
from django.conf import settings

from accountability.celery import app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("leads.sla.tasks.sla_sweep_task", "sla-sweep"),
        ("leads.sla.tasks.notice_deliver_task", "notices"),
        ("accountability.notifications.tasks.delivery_send", "outbound"),
        ("accountability.notifications.tasks.deliveries_send", "outbound"),
        ("goals.tasks.goals_evaluate_daily", "celery"),
    ],
)
def test_each_task_goes_to_its_queue(task, queue):
    """The sweep never waits behind notices' deliveries nor those behind email and SMS: each is
    routed to its own queue by name (send_task, beat and .delay all go through the router)."""
    options = app.amqp.router.route({}, task, args=(), kwargs={})
    assert options["queue"].name == queue


def test_serve_script_starts_a_worker_for_every_routed_queue():
    serve = (settings.BASE_DIR / "scripts" / "serve.sh").read_text()
    consumed = set()
    for line in serve.splitlines():
        if " -Q " in line:
            consumed |= set(line.split(" -Q ")[1].split()[0].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {"celery"} <= consumed


@pytest.mark.parametrize(
    ("name", "interval"), [("sla-sweep", 60), ("reviews-deadlines", 3600), ("reviews-one-on-ones", 900)]
)
def test_frequent_schedules_expire_before_their_next_run(name, interval):
    """django-celery-beat's database scheduler reads expire_seconds (not expires): a run the
    workers could not start before the next one is dropped, not piled up behind a backlog."""
    from accountability.schedules import BEAT_SCHEDULE

    options = BEAT_SCHEDULE[name]["options"]
    assert "expires" not in options
    assert 0 < options["expire_seconds"] < interval


def test_notice_countdowns_never_exceed_the_lookahead(monkeypatch, settings):
    from leads.sla import services

    settings.SLA_SWEEP_LOOKAHEAD_SECONDS = 60

    sent = []
    monkeypatch.setattr(services, "task_send", lambda name, args, countdown=None, producer=None: sent.append(countdown))
    monkeypatch.setattr(services.transaction, "on_commit", lambda fn: fn())
    services._enqueue_notices([(1, 0.0), (2, 30.2), (3, 3600.0)])
    assert sent == [None, 31, 60]
