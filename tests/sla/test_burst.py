"""The Monday-morning wave (issue 14, item 7): queues, the re-enqueue grace, batched deliveries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail

from accountability.celery import app
from accountability.notifications import services as notification_services
from accountability.notifications.models import Delivery, Notification, NotificationPreference, SmsMessage
from leads.models import Activity
from leads.sla import services
from leads.sla.models import SlaNotice
from leads.sla.notices import SLA_OVERDUE
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


# --- batch delivery -------------------------------------------------------------------------


@pytest.fixture
def overdue_wave(org, db, settings, monkeypatch):
    """Twelve of alice's leads and three of bob's overdue at 15 min, recorded by one sweep; the
    delivery tasks the services enqueue are captured instead of sent."""
    settings.SITE_URL = "https://acc.example.com"
    alice = org["alice"]
    alice.phone = "+14155552671"
    alice.save()
    NotificationPreference.objects.create(user=alice, kind=SLA_OVERDUE.code, email=True, sms=True)
    SlaPolicyFactory()
    leads = [LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0) for _ in range(12)]
    leads += [LeadFactory(owner=org["bob"], team=org["north"], arrived_at=T0) for _ in range(3)]
    result = services.sla_sweep(now=at(15))
    leads[0].first_contacted_at = at(15)  # handled before delivery: its notice is cancelled, not sent
    leads[0].save(update_fields=["first_contacted_at"])
    enqueued = []
    monkeypatch.setattr(notification_services, "_enqueue_on_commit", lambda name, *args: enqueued.append((name, *args)))
    return {
        "ids": [n.pk for n in result.notices_created if n.state == "pending"],
        "enqueued": enqueued,
        "leads": leads,
    }


def test_a_batch_is_delivered_in_one_go_and_exactly_once_when_delivered_twice(
    overdue_wave, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    ids = overdue_wave["ids"]
    assert len(ids) == 15
    # One transaction for the batch: a constant number of queries, not a dozen per notice.
    with django_assert_max_num_queries(16), django_capture_on_commit_callbacks(execute=False):
        first = services.notices_deliver(notice_ids=ids)
    assert first == {"sent": 14, "cancelled": 1}
    again = services.notices_deliver(notice_ids=ids)  # the message delivered a second time
    assert again == {"already": 15}
    assert Notification.objects.filter(kind=SLA_OVERDUE.code).count() == 14
    assert Activity.objects.filter(kind=Activity.Kind.BREACH).count() == 14
    assert sorted(
        Notification.objects.filter(recipient__username="alice").values_list("dedupe_key", flat=True)
    ) == sorted(f"sla-notice:{n.pk}" for n in SlaNotice.objects.filter(lead__owner__username="alice", state="sent"))
    # alice's 11 sent notices: an email and an SMS each; bob's defaults: email only.
    assert Delivery.objects.filter(channel="email").count() == 14
    assert Delivery.objects.filter(channel="sms").count() == 11
    # Enqueued in batches of deliveries, not one task each.
    batches = [args for name, *args in overdue_wave["enqueued"] if name.endswith("deliveries_send")]
    assert sorted(len(b[0]) for b in batches) == [25]
    assert overdue_wave["enqueued"] == [(notification_services.DELIVERIES_SEND, b[0]) for b in batches]


def test_a_batch_of_deliveries_sends_each_email_once_over_one_connection(overdue_wave, monkeypatch):
    services.notices_deliver(notice_ids=overdue_wave["ids"])
    ((_name, delivery_ids),) = overdue_wave["enqueued"]
    connections = []
    real = notification_services.get_connection

    def counting(*args, **kwargs):
        connections.append(real(*args, **kwargs))
        return connections[-1]

    monkeypatch.setattr(notification_services, "get_connection", counting)
    outcomes = notification_services.deliveries_send_batch(delivery_ids=delivery_ids)
    assert outcomes == {"sent": 25}
    assert len(connections) == 1
    assert len(mail.outbox) == 14 and SmsMessage.objects.count() == 11
    # Delivered again (a worker killed before the ack): nothing is sent twice.
    assert notification_services.deliveries_send_batch(delivery_ids=delivery_ids) == {"skipped": 25}
    assert len(mail.outbox) == 14 and SmsMessage.objects.count() == 11


def test_a_batch_that_fails_is_delivered_one_at_a_time(overdue_wave, monkeypatch):
    def broken(drafts):
        raise RuntimeError("bulk insert failed")

    monkeypatch.setattr(services, "notifications_create_many", broken)
    assert services.notices_deliver(notice_ids=overdue_wave["ids"]) == {"sent": 14, "cancelled": 1}
    assert Notification.objects.filter(kind=SLA_OVERDUE.code).count() == 14
    assert Activity.objects.filter(kind=Activity.Kind.BREACH).count() == 14


def test_escalations_in_a_batch_are_delivered_one_at_a_time_with_their_effects(org, db):
    SlaPolicyFactory()
    leads = [LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0) for _ in range(3)]
    result = services.sla_sweep(now=at(80))  # found at the first escalation: maria is told
    ids = [n.pk for n in result.notices_created if n.state == "pending"]
    assert services.notices_deliver(notice_ids=ids) == {"sent": 3}
    assert services.notices_deliver(notice_ids=ids) == {"already": 3}
    # maria's escalation, and alice told her lead was escalated: once each.
    assert Notification.objects.filter(recipient=org["maria"]).count() == 3
    assert Notification.objects.filter(recipient=org["alice"], kind="sla_escalated_owner").count() == len(leads)
