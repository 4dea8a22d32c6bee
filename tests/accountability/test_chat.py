"""Chat notices: Slack/Teams webhooks per person and per team, delivered once, against a local fake
webhook server (tests/fake_webhook.py)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from accountability.notifications import chat, services
from accountability.notifications.models import ChatWebhook, Delivery, NotificationPreference
from accountability.notifications.services import delivery_attempt, notification_create
from accountability.notifications.tasks import delivery_send
from leads.notices import LEAD_ASSIGNED
from leads.sla import services as sla
from leads.sla.notices import SLA_ESCALATION
from tests.factories import LeadFactory, TeamFactory
from tests.fake_webhook import fake_webhook_server
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

fake_webhook = pytest.fixture(fake_webhook_server)

SLACK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop"
TEAMS = "https://contoso.webhook.office.com/webhookb2/1111@2222/IncomingWebhook/abcd/3333"


def alice_on_chat(alice, url, service="slack", kind=LEAD_ASSIGNED):
    hook = services.chat_webhook_save(actor=alice, user=alice, service=service, url=url)
    NotificationPreference.objects.create(user=alice, kind=kind.code, chat=True)
    return hook


def assigned(alice, key="k1", title="New lead: Priya Raman"):
    return notification_create(recipient=alice, kind=LEAD_ASSIGNED, title=title, key=key, url="/leads/7/")


# --- which URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "url", "message"),
    [
        ("slack", "", "Paste the webhook URL"),
        ("slack", "not a url", "https://"),
        ("slack", "http://hooks.slack.com/services/T/B/x", "must start with https://"),
        ("slack", "https://evil.example.com/services/T/B/x", "hooks.slack.com/services"),
        ("slack", "https://hooks.slack.com.evil.example/services/x", "hooks.slack.com/services"),
        ("slack", "https://hooks.slack.com/other", "hooks.slack.com/services"),
        ("slack", TEAMS, "hooks.slack.com/services"),
        ("teams", SLACK, "webhook.office.com"),
        ("teams", "https://webhook.office.com/x", "webhook.office.com"),
        ("teams", "https://contoso.webhook.office.com.evil.example/x", "webhook.office.com"),
        ("slack", "https://user:pw@hooks.slack.com/services/T/B/x", "no user name"),
        ("slack", "https://hooks.slack.com:99999/services/T/B/x", "not a valid URL"),
        ("discord", SLACK, "Choose Slack or Microsoft Teams"),
    ],
)
def test_bad_webhook_urls_are_refused_with_a_reason(service, url, message):
    with pytest.raises(ValidationError) as exc:
        chat.validate_webhook_url(url, service)
    assert message in " ".join(exc.value.messages)


def test_the_services_own_hosts_are_accepted():
    assert chat.validate_webhook_url(f"  {SLACK} ", "slack") == SLACK
    assert chat.validate_webhook_url(TEAMS, "teams") == TEAMS


def test_loopback_hooks_only_when_allowed(settings):
    settings.CHAT_WEBHOOK_ALLOW_LOOPBACK = True
    assert chat.validate_webhook_url("http://127.0.0.1:9000/hook", "slack")
    settings.CHAT_WEBHOOK_ALLOW_LOOPBACK = False  # production
    with pytest.raises(ValidationError):
        chat.validate_webhook_url("http://127.0.0.1:9000/hook", "slack")


# --- payloads -----------------------------------------------------------------------------


def test_slack_and_teams_payloads_link_back_and_slack_escapes_markup(alice, fake_webhook):
    alice_on_chat(alice, fake_webhook.url("/slack"))
    delivery = assigned(alice, title="New lead: <Acme & Sons>").deliveries.get(channel="chat")
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "sent"
    services.chat_webhook_save(actor=alice, user=alice, service="teams", url=fake_webhook.url("/teams"))
    delivery = assigned(alice, key="k2").deliveries.get(channel="chat")
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "sent"
    (slack_path, slack), (teams_path, teams) = fake_webhook.posts
    assert slack_path == "/slack"
    assert slack["text"] == "<http://127.0.0.1:8000/leads/7/|New lead: &lt;Acme &amp; Sons&gt;>"
    assert teams_path == "/teams"
    assert teams["@type"] == "MessageCard" and teams["title"] == "New lead: Priya Raman"
    assert teams["potentialAction"][0]["targets"][0]["uri"] == "http://127.0.0.1:8000/leads/7/"


# --- exactly once, retries, giving up -----------------------------------------------------


def test_a_chat_notice_is_posted_once_across_a_retried_and_duplicated_task(alice, fake_webhook):
    alice_on_chat(alice, fake_webhook.url())
    delivery = assigned(alice).deliveries.get(channel="chat")
    fake_webhook.answers = [500]  # the first post fails; the task retries (eagerly here)
    delivery_send.apply(args=(delivery.pk,))
    delivery_send.apply(args=(delivery.pk,))  # the broker redelivers the message: nothing more
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.attempts == 2
    assert len(fake_webhook.posts) == 2  # one refused with 500, one accepted: one message in the channel


def test_a_5xx_is_retried_with_backoff(alice, fake_webhook):
    alice_on_chat(alice, fake_webhook.url())
    delivery = assigned(alice).deliveries.get(channel="chat")
    fake_webhook.answers = [503, 502]
    outcomes = [delivery_attempt(delivery_id=delivery.pk).outcome for _ in range(4)]
    assert outcomes == ["retry", "retry", "sent", "skipped"]
    assert len(fake_webhook.posts) == 3


@override_settings(CHAT_WEBHOOK_TIMEOUT=0.3)
def test_a_timeout_is_retried(alice, fake_webhook):
    alice_on_chat(alice, fake_webhook.url())
    delivery = assigned(alice).deliveries.get(channel="chat")
    fake_webhook.delay = 1.0
    result = delivery_attempt(delivery_id=delivery.pk)
    assert result.outcome == "retry" and "unreachable" in result.error
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.next_attempt_at is not None


def test_a_4xx_gives_up_at_once_and_the_admin_sees_why(alice, admin, fake_webhook, login):
    hook = alice_on_chat(alice, fake_webhook.url())
    delivery = assigned(alice).deliveries.get(channel="chat")
    fake_webhook.answers = [404]
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "failed"
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "skipped"
    assert len(fake_webhook.posts) == 1
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 1
    assert delivery.last_error == "ChatError: webhook answered 404: invalid_token"
    page = login(admin).get("/notifications/outbox/").content.decode()
    assert "webhook answered 404: invalid_token" in page and "Slack · alice" in page
    hook.refresh_from_db()
    assert "404" in hook.last_error  # shown on alice's preferences page too
    assert "Last post refused" in login(alice).get("/notifications/preferences/").content.decode()


def test_a_redirect_is_not_followed(alice, fake_webhook):
    alice_on_chat(alice, fake_webhook.url())
    delivery = assigned(alice).deliveries.get(channel="chat")
    fake_webhook.answers = [302]
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "failed"
    assert [path for path, _ in fake_webhook.posts] == ["/services/T000/B000/secretsecret"]  # not /elsewhere


def test_a_removed_webhook_fails_its_pending_deliveries_with_a_reason(alice, fake_webhook):
    alice_on_chat(alice, fake_webhook.url())
    delivery = assigned(alice).deliveries.get(channel="chat")
    services.chat_webhook_remove(actor=alice, user=alice)
    assert delivery_attempt(delivery_id=delivery.pk).outcome == "failed"
    delivery.refresh_from_db()
    assert "removed" in delivery.last_error and not fake_webhook.posts
    assert not NotificationPreference.objects.filter(user=alice, chat=True).exists()


def test_no_chat_delivery_without_a_webhook_or_the_choice(alice, fake_webhook):
    NotificationPreference.objects.create(user=alice, kind=LEAD_ASSIGNED.code, chat=True)
    assert not assigned(alice).deliveries.filter(channel="chat").exists()  # no webhook
    services.chat_webhook_save(actor=alice, user=alice, service="slack", url=fake_webhook.url())
    NotificationPreference.objects.filter(user=alice).update(chat=False)
    assert not assigned(alice, key="k2").deliveries.filter(channel="chat").exists()  # not chosen


def test_bulk_notices_get_their_chat_deliveries(alice, bob, fake_webhook):
    alice_on_chat(alice, fake_webhook.url())
    drafts = [
        services.NotificationDraft(recipient=user, kind=LEAD_ASSIGNED, title="t", key=f"bulk-{user.pk}")
        for user in (alice, bob)
    ]
    services.notifications_create_many(drafts)
    chats = Delivery.objects.filter(channel="chat")
    assert [d.notification.recipient for d in chats] == [alice]


# --- the team's channel -------------------------------------------------------------------


def test_escalations_reach_the_teams_channel_once(maria, alice, north, fake_webhook):
    services.chat_webhook_save(actor=maria, team=north, service="teams", url=fake_webhook.url("/north"))
    notification = notification_create(
        recipient=maria, kind=SLA_ESCALATION, title="Escalated: Acme", key="esc-1", url="/leads/7/", team_chat=north
    )
    team = notification.deliveries.get(channel="team_chat")
    assert team.address == "Microsoft Teams · North" and north.chat_webhook.url not in team.address
    delivery_attempt(delivery_id=team.pk)
    delivery_attempt(delivery_id=team.pk)
    assert [(path, body["title"]) for path, body in fake_webhook.posts] == [("/north", "Escalated: Acme")]
    # The same escalation notified again (a retried sweep) posts nothing new.
    again = notification_create(
        recipient=maria, kind=SLA_ESCALATION, title="Escalated: Acme", key="esc-1", team_chat=north
    )
    assert again is None and Delivery.objects.filter(channel="team_chat").count() == 1


def test_a_team_without_a_channel_gets_no_team_delivery(maria, north):
    notification = notification_create(
        recipient=maria, kind=SLA_ESCALATION, title="Escalated", key="e", team_chat=north
    )
    assert not notification.deliveries.filter(channel="team_chat").exists()


def test_webhooks_are_set_only_by_their_owner_or_team_manager(maria, sam, alice, bob, north, south, helen, admin):
    with pytest.raises(PermissionDenied):
        services.chat_webhook_save(actor=maria, team=south, service="slack", url=SLACK)
    with pytest.raises(PermissionDenied):
        services.chat_webhook_save(actor=alice, team=north, service="slack", url=SLACK)
    with pytest.raises(PermissionDenied):
        services.chat_webhook_save(actor=bob, user=alice, service="slack", url=SLACK)
    services.chat_webhook_save(actor=helen, team=north, service="slack", url=SLACK)  # the parent team's head
    services.chat_webhook_save(actor=admin, team=south, service="slack", url=SLACK)
    assert ChatWebhook.objects.count() == 2


# --- pages --------------------------------------------------------------------------------


def test_a_person_saves_their_webhook_sees_it_masked_and_sends_a_test(alice, login, fake_webhook):
    client = login(alice)
    url = fake_webhook.url("/services/T1/B1/topsecretvalue")
    response = client.post("/notifications/preferences/chat/", {"service": "slack", "url": url})
    assert response.status_code == 302
    page = client.get("/notifications/preferences/").content.decode()
    assert "topsecretvalue" not in page and "…alue" in page
    client.post("/notifications/preferences/chat/test/")
    ((path, body),) = fake_webhook.posts
    assert path == "/services/T1/B1/topsecretvalue" and "Test message from Accountability" in body["text"]
    assert "Test message posted to Slack" in client.get("/notifications/preferences/").content.decode()


def test_a_failed_test_message_says_why(alice, login, fake_webhook):
    services.chat_webhook_save(actor=alice, user=alice, service="slack", url=fake_webhook.url())
    fake_webhook.answers = [403]
    client = login(alice)
    response = client.post("/notifications/preferences/chat/test/", follow=True)
    assert "The test message did not arrive: webhook answered 403: invalid_token" in response.content.decode()


def test_test_messages_are_rate_limited(alice, login, fake_webhook):
    services.chat_webhook_save(actor=alice, user=alice, service="slack", url=fake_webhook.url())
    client = login(alice)
    for _ in range(6):
        response = client.post("/notifications/preferences/chat/test/", follow=True)
    assert "Too many test messages" in response.content.decode()
    assert len(fake_webhook.posts) == 5


def test_a_bad_webhook_url_is_refused_with_the_input_back_and_nothing_saved(alice, login, settings):
    settings.CHAT_WEBHOOK_ALLOW_LOOPBACK = False
    client = login(alice)
    response = client.post(
        "/notifications/preferences/chat/", {"service": "slack", "url": "https://evil.example.com/services/x"}
    )
    page = response.content.decode()
    assert response.status_code == 400 and "hooks.slack.com/services" in page
    assert 'value="https://evil.example.com/services/x"' in page
    response = client.post("/notifications/preferences/chat/", {"service": "slack", "url": "http://127.0.0.1:1/x"})
    assert response.status_code == 400 and "must start with https://" in response.content.decode()
    assert not ChatWebhook.objects.exists()


def test_the_chat_column_needs_a_webhook(alice, login):
    client = login(alice)
    response = client.post("/notifications/preferences/", {"chat_lead_assigned": "on"})
    assert "Add your chat webhook below" in response.content.decode()
    assert not NotificationPreference.objects.exists()
    services.chat_webhook_save(actor=alice, user=alice, service="slack", url=SLACK)
    assert client.post("/notifications/preferences/", {"chat_lead_assigned": "on"}).status_code == 302
    assert NotificationPreference.objects.get(user=alice, kind="lead_assigned").chat is True
    page = client.get("/notifications/preferences/").content.decode()
    assert 'id="id_chat_lead_assigned" aria-label="A lead was assigned to you: chat" checked' in page


def test_personal_webhook_endpoints_are_post_only_and_need_a_login(alice, client, login):
    for path in ("", "test/", "remove/"):
        response = client.get(f"/notifications/preferences/chat/{path}")
        assert response.status_code == 302 and "/accounts/login/" in response.url
    web = login(alice)
    for path in ("", "test/", "remove/"):
        assert web.get(f"/notifications/preferences/chat/{path}").status_code == 405


def test_removing_ones_webhook(alice, login):
    services.chat_webhook_save(actor=alice, user=alice, service="slack", url=SLACK)
    client = login(alice)
    assert client.get("/notifications/preferences/chat/remove/").status_code == 405
    client.post("/notifications/preferences/chat/remove/")
    assert not ChatWebhook.objects.exists()


def test_a_manager_sets_their_teams_channel_and_tests_it(maria, north, login, fake_webhook):
    client = login(maria)
    assert "North" in client.get("/notifications/chat/").content.decode()
    url = fake_webhook.url("/services/T9/B9/teamsecret1234")
    response = client.post(f"/notifications/chat/teams/{north.pk}/", {"service": "slack", "url": url})
    assert response.status_code == 302
    page = client.get(f"/notifications/chat/teams/{north.pk}/").content.decode()
    assert "teamsecret" not in page and "…1234" in page
    client.post(f"/notifications/chat/teams/{north.pk}/test/")
    assert "the North channel" in fake_webhook.posts[0][1]["text"]
    client.post(f"/notifications/chat/teams/{north.pk}/remove/")
    assert not ChatWebhook.objects.exists()


def test_team_channel_bad_input(maria, north, login):
    client = login(maria)
    response = client.post(f"/notifications/chat/teams/{north.pk}/", {"service": "teams", "url": SLACK})
    assert response.status_code == 400 and "webhook.office.com" in response.content.decode()
    assert f'value="{SLACK}"' in response.content.decode()
    response = client.post(f"/notifications/chat/teams/{north.pk}/", {"service": "teams"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not ChatWebhook.objects.exists()


def test_team_channel_scoping(maria, sam, alice, north, south, login):
    services.chat_webhook_save(actor=sam, team=south, service="slack", url=SLACK)
    client = login(maria)
    assert "South" not in client.get("/notifications/chat/").content.decode()
    for path in ("", "test/", "remove/"):
        url = f"/notifications/chat/teams/{south.pk}/{path}"
        assert client.post(url, {"service": "slack", "url": SLACK}).status_code == 404
    assert client.get(f"/notifications/chat/teams/{south.pk}/").status_code == 404
    assert client.get("/notifications/chat/teams/999999/").status_code == 404
    assert ChatWebhook.objects.get().team == south  # untouched
    assert client.get(f"/notifications/chat/teams/{north.pk}/test/").status_code == 405
    rep = login(alice)
    assert rep.get("/notifications/chat/").status_code == 403
    assert rep.post(f"/notifications/chat/teams/{north.pk}/", {"service": "slack", "url": SLACK}).status_code == 403


@pytest.mark.parametrize("teams", [2, 12])
def test_team_channel_list_query_count_is_constant(admin, login, django_assert_num_queries, teams):
    for i in range(teams):
        team = TeamFactory(name=f"Team {i}")
        if i % 2:
            services.chat_webhook_save(actor=admin, team=team, service="slack", url=SLACK)
    client = login(admin)
    # session, user, time zone (middleware), unread count (navbar), the teams with their webhooks
    # (one join): 5 (an admin gets no expectations banner).
    with django_assert_num_queries(5):
        response = client.get("/notifications/chat/")
    assert response.content.decode().count("<code>") == teams // 2


def test_the_sla_sweeps_escalation_and_only_it_reaches_the_teams_channel(maria, alice, north, fake_webhook):
    SlaPolicyFactory()
    t0 = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
    lead = LeadFactory(owner=alice, team=north, arrived_at=t0, name="Acme lead")
    services.chat_webhook_save(actor=maria, team=north, service="slack", url=fake_webhook.url("/north"))
    for minute in (10, 15, 75):  # reminder, overdue, escalation to maria
        at = t0 + dt.timedelta(minutes=minute)
        for notice in sla.sla_sweep(now=at).notices_created:
            sla.notice_deliver(notice_id=notice.pk, now=at)
    (team,) = Delivery.objects.filter(channel="team_chat")
    assert team.notification.recipient == maria and team.notification.kind == "sla_escalation"
    delivery_attempt(delivery_id=team.pk)
    ((path, body),) = fake_webhook.posts
    assert path == "/north" and "Acme lead" in body["text"] and f"/leads/{lead.pk}/" in body["text"]
