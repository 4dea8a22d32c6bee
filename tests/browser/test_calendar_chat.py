"""The calendar feed and the team chat channel, as people click them (Playwright, headless Chromium)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.notifications.models import ChatWebhook, NotificationPreference
from tests.factories import FollowUpFactory, LeadFactory
from tests.fake_webhook import fake_webhook_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

fake_webhook = pytest.fixture(fake_webhook_server)


def test_a_rep_copies_their_calendar_url_and_the_feed_downloads(page, browser_login, org):
    FollowUpFactory(
        lead=LeadFactory(owner=org["alice"], name="Priya Raman"), due_at=timezone.now() + dt.timedelta(days=1)
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    browser_login(org["alice"])
    page.get_by_role("button", name="alice").click()
    page.get_by_role("link", name="Calendar feed").click()
    url = page.get_by_test_id("feed-url").input_value()
    assert "/calendar/feed/" in url and url.endswith(".ics")
    page.get_by_test_id("feed-copy").click()
    expect(page.get_by_test_id("feed-copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url
    # What a calendar app does with the copied address: fetch it without any cookie.
    response = page.context.request.get(url, headers={"Cookie": ""})
    assert response.status == 200 and response.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Follow up: Priya Raman" in response.text()
    with page.expect_download() as download:
        page.get_by_test_id("feed-download").click()
    assert download.value.suggested_filename == "accountability.ics"


def test_an_admin_sets_a_teams_chat_channel_and_the_test_message_arrives(page, browser_login, org, fake_webhook):
    browser_login(org["admin"])
    page.get_by_role("button", name="admin").click()
    page.get_by_role("link", name="Team chat channels").click()
    page.get_by_test_id("chat-teams").get_by_role("row", name="North").get_by_role("link", name="Set up").click()
    page.get_by_label("Service").select_option("teams")
    page.get_by_label("Incoming webhook URL").fill("https://hooks.slack.com/services/T/B/x")
    page.get_by_role("button", name="Save webhook").click()
    expect(page.locator(".invalid-feedback, .text-danger").first).to_contain_text("webhook.office.com")
    page.get_by_label("Incoming webhook URL").fill(fake_webhook.url("/webhookb2/north-secret-9876"))
    page.get_by_role("button", name="Save webhook").click()
    expect(page.get_by_test_id("chat-hook")).to_contain_text("Microsoft Teams webhook")
    expect(page.get_by_test_id("chat-hook")).not_to_contain_text("north-secret")
    page.get_by_role("button", name="Send test message").click()
    expect(page.locator(".alert-success")).to_contain_text("Test message posted to Microsoft Teams")
    ((path, body),) = fake_webhook.posts
    assert path == "/webhookb2/north-secret-9876" and body["@type"] == "MessageCard"
    assert ChatWebhook.objects.get().team == org["north"]


def test_on_a_phone_the_calendar_url_and_its_buttons_fit_the_screen(page, browser_login, org):
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(org["bob"])
    page.goto("/calendar/")
    url = page.get_by_test_id("feed-url")
    old = url.input_value()
    assert url.bounding_box()["width"] > 300  # the whole width, not squeezed beside the buttons
    for testid in ("feed-copy", "feed-download", "feed-reset"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.once("dialog", lambda dialog: dialog.accept())  # "Reset the address?"
    page.get_by_test_id("feed-reset").click()
    expect(page.locator(".alert-success")).to_contain_text("has a new address")
    assert page.get_by_test_id("feed-url").input_value() != old
    assert page.context.request.get(old).status == 404


def test_a_rep_adds_their_own_slack_webhook_and_chooses_chat_for_a_notice(page, browser_login, org, fake_webhook):
    browser_login(org["alice"])
    page.goto("/notifications/preferences/")
    expect(page.get_by_label("A lead was assigned to you: chat")).to_be_disabled()  # no webhook yet
    section = page.get_by_test_id("chat-mine")
    section.get_by_label("Incoming webhook URL").fill(fake_webhook.url("/services/T1/B1/alice-own-5555"))
    section.get_by_role("button", name="Save webhook").click()
    expect(page.get_by_test_id("chat-hook")).to_contain_text("…5555")
    page.get_by_label("A lead was assigned to you: chat").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Notification preferences saved.")).to_be_visible()
    assert NotificationPreference.objects.get(user=org["alice"], kind="lead_assigned").chat
    page.get_by_role("button", name="Send test message").click()
    expect(page.locator(".alert-success")).to_contain_text("Test message posted to Slack")
    assert fake_webhook.posts[0][0] == "/services/T1/B1/alice-own-5555"
