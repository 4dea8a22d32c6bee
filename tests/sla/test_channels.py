"""Notification channels: preferences, email and SMS deliveries, retries, the outbox."""

import base64
import urllib.parse

import pytest
from django.core import mail
from django.test import override_settings

from accountability.notifications import services
from accountability.notifications.models import Delivery, NotificationPreference, SmsMessage
from accountability.notifications.services import delivery_attempt, notification_create
from accountability.notifications.sms import OutboxBackend, SmsError, TwilioBackend, get_sms_backend
from leads.sla.notices import SLA_ESCALATION

pytestmark = pytest.mark.django_db


class BrokenSms:
    def send(self, *, to, body, reference):
        raise SmsError("provider down")


@pytest.fixture
def maria_with_phone(org):
    maria = org["maria"]
    maria.phone = "+14155552671"
    maria.save()
    return maria


def escalation_to(user, key="e1"):
    return notification_create(
        recipient=user, kind=SLA_ESCALATION, title="Escalated to you: Acme", key=key, url="/leads/7/"
    )


def test_escalations_default_to_email_and_sms_when_a_phone_is_set(maria_with_phone):
    notification = escalation_to(maria_with_phone)
    assert sorted(notification.deliveries.values_list("channel", "address")) == [
        ("email", "maria@example.com"),
        ("sms", "+14155552671"),
    ]


def test_no_sms_without_a_phone_and_preferences_override_defaults(org):
    alice = org["alice"]
    assert list(escalation_to(alice).deliveries.values_list("channel", flat=True)) == ["email"]
    NotificationPreference.objects.create(user=alice, kind=SLA_ESCALATION, email=False, sms=False)
    assert not escalation_to(alice, key="e2").deliveries.exists()


def test_email_links_straight_to_the_lead_and_is_sent_once(maria_with_phone, settings):
    settings.SITE_URL = "https://acc.example.com"
    delivery = escalation_to(maria_with_phone).deliveries.get(channel="email")
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "sent"
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "skipped"
    (message,) = mail.outbox
    assert message.subject == "Escalated to you: Acme"
    assert "https://acc.example.com/leads/7/" in message.body
    assert 'href="https://acc.example.com/leads/7/"' in message.alternatives[0][0]


def test_sms_is_recorded_in_the_outbox_once(maria_with_phone):
    delivery = escalation_to(maria_with_phone).deliveries.get(channel="sms")
    delivery_attempt(delivery_id=delivery.pk)
    delivery_attempt(delivery_id=delivery.pk)
    (sms,) = SmsMessage.objects.all()
    assert sms.to == "+14155552671" and sms.body.startswith("Escalated to you: Acme http")
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.provider_id == f"outbox-{sms.pk}"


@override_settings(SMS_BACKEND="tests.sla.test_channels.BrokenSms", NOTIFICATION_MAX_ATTEMPTS=3)
def test_failing_sms_retries_with_backoff_then_fails_while_email_is_still_sent(maria_with_phone):
    notification = escalation_to(maria_with_phone)
    sms = notification.deliveries.get(channel="sms")
    outcomes = [delivery_attempt(delivery_id=sms.pk) for _ in range(4)]
    assert [o.outcome for o in outcomes] == ["retry", "retry", "failed", "skipped"]
    sms.refresh_from_db()
    assert sms.state == "failed" and sms.attempts == 3 and "provider down" in sms.last_error
    email = notification.deliveries.get(channel="email")
    assert delivery_attempt(delivery_id=email.pk).outcome == "sent"
    assert len(mail.outbox) == 1


def test_backoff_is_exponential_and_capped():
    assert [services.backoff_seconds(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]


@override_settings(SMS_BACKEND="tests.sla.test_channels.BrokenSms", NOTIFICATION_MAX_ATTEMPTS=1)
def test_admin_sees_failed_deliveries_and_can_retry(maria_with_phone, org, login):
    sms = escalation_to(maria_with_phone).deliveries.get(channel="sms")
    delivery_attempt(delivery_id=sms.pk)
    assert login(org["alice"]).get("/notifications/outbox/").status_code == 403
    client = login(org["admin"])
    page = client.get("/notifications/outbox/").content.decode()
    assert "provider down" in page and "Escalated to you: Acme" in page
    assert client.get(f"/notifications/deliveries/{sms.pk}/retry/").status_code == 405
    client.post(f"/notifications/deliveries/{sms.pk}/retry/")
    sms.refresh_from_db()
    assert sms.state == "pending" and sms.attempts == 0


def test_lost_delivery_messages_are_enqueued_again(maria_with_phone, monkeypatch):
    from django.utils import timezone

    sent = []
    monkeypatch.setattr(services, "_enqueue_on_commit", lambda task, arg: sent.append((task, arg)))
    delivery = escalation_to(maria_with_phone).deliveries.first()
    sent.clear()
    assert services.deliveries_requeue() == 0
    later = timezone.now() + timezone.timedelta(minutes=3)
    assert services.deliveries_requeue(now=later) == 2
    # Both in one batch (one task, one email connection).
    ((task, ids),) = sent
    assert task == services.DELIVERIES_SEND and delivery.pk in ids and len(ids) == 2


def test_twilio_backend_is_used_when_its_three_variables_are_set(settings):
    assert isinstance(get_sms_backend(), OutboxBackend)
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", "secret"
    assert isinstance(get_sms_backend(), OutboxBackend)  # still missing the sender number
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    backend = get_sms_backend()
    assert isinstance(backend, TwilioBackend)
    request = backend.build_request(to="+14155552671", body="Escalated")
    assert request.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    assert request.get_header("Authorization") == "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert urllib.parse.parse_qs(request.data.decode()) == {
        "To": ["+14155552671"],
        "From": ["+15005550006"],
        "Body": ["Escalated"],
    }


# --- preferences page -------------------------------------------------------------------


def test_every_user_can_choose_channels(org, login):
    client = login(org["alice"])
    assert client.get("/notifications/preferences/").status_code == 200
    response = client.post(
        "/notifications/preferences/",
        {"phone": "+44 20 7946 0958", "sms_sla_overdue": "on", "email_sla_reminder": "on"},
    )
    assert response.status_code == 302
    org["alice"].refresh_from_db()
    assert org["alice"].phone == "+442079460958"
    pref = NotificationPreference.objects.get(user=org["alice"], kind="sla_overdue")
    assert (pref.email, pref.sms) == (False, True)


def test_bad_phone_is_refused_and_input_kept(org, login):
    response = login(org["alice"]).post("/notifications/preferences/", {"phone": "12", "sms_sla_overdue": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and "This is not a valid phone number." in page
    assert 'value="12"' in page
    assert not NotificationPreference.objects.exists()


def test_sms_needs_a_phone(org, login):
    response = login(org["alice"]).post("/notifications/preferences/", {"phone": "", "sms_sla_overdue": "on"})
    assert "Add a mobile number to receive SMS notices." in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_deliveries_are_unique_per_channel(maria_with_phone):
    from django.db import IntegrityError, transaction

    notification = escalation_to(maria_with_phone)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(notification=notification, channel="email", address="x@example.com")


@pytest.mark.parametrize("count", [5, 50])
@override_settings(SMS_BACKEND="tests.sla.test_channels.BrokenSms", NOTIFICATION_MAX_ATTEMPTS=1)
def test_outbox_query_count_is_constant(maria_with_phone, org, login, django_assert_num_queries, count):
    for i in range(count):
        sms = escalation_to(maria_with_phone, key=f"e{i}").deliveries.get(channel="sms")
        delivery_attempt(delivery_id=sms.pk)
        OutboxBackend().send(to="+14155552671", body=f"m{i}", reference=f"r{i}")
    client = login(org["admin"])
    # session, user, unread count, failed deliveries with notice and recipient, pending count,
    # SMS outbox (an admin has no expectations banner query)
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(7):
        page = client.get("/notifications/outbox/").content.decode()
    assert page.count("provider down") == count
