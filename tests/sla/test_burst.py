"""The Monday-morning wave (issue 14, item 7): queues, the re-enqueue grace, batched deliveries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from accountability.celery import app
from leads.sla import services
from leads.sla.models import SlaNotice
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory


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
    settings.SLA_SWEEP_LOOKAHEAD_SECONDS = 60

    sent = []
    monkeypatch.setattr(services, "task_send", lambda name, args, countdown=None, producer=None: sent.append(countdown))
    monkeypatch.setattr(services.transaction, "on_commit", lambda fn: fn())
    services._enqueue_notices([(1, 0.0), (2, 30.2), (3, 3600.0)])
    assert sent == [None, 31, 60]


# --- the re-enqueue grace -------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # a Monday


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def reminder(org, db, settings):
    """alice's lead's reminder (due at 10 min), recorded and enqueued by the sweep at 10 min."""
    settings.SLA_SWEEP_SECONDS = 60
    SlaPolicyFactory()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    services.sla_sweep(now=at(10))
    return SlaNotice.objects.get(lead=lead, state="pending")


def test_a_notice_still_queued_is_enqueued_again_once_per_grace_not_every_sweep(reminder, monkeypatch):
    enqueued = []
    monkeypatch.setattr(services, "_enqueue_notices", lambda ids: enqueued.append([pk for pk, _ in ids]))
    assert services.requeue_grace() == dt.timedelta(minutes=2)  # two sweep intervals, at least two minutes
    # Sweeps within the grace leave it alone: its message is most likely still in the queue.
    assert [services.sla_sweep(now=at(m)).notices_requeued for m in (11, 11.5, 11.9)] == [0, 0, 0]
    assert services.sla_sweep(now=at(12.1)).notices_requeued == 1  # lost: enqueued again...
    # ...once: the time of that enqueue is kept in the database, the next sweeps wait another grace.
    assert [services.sla_sweep(now=at(m)).notices_requeued for m in (13, 14)] == [0, 0]
    assert services.sla_sweep(now=at(14.2)).notices_requeued == 1
    assert enqueued == [[reminder.pk], [reminder.pk]]
    reminder.refresh_from_db()
    assert reminder.enqueued_at == at(14.2)


def test_the_grace_follows_a_longer_sweep_interval(settings):
    settings.SLA_SWEEP_SECONDS = 300
    assert services.requeue_grace() == dt.timedelta(minutes=10)
