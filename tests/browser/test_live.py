"""Live parts as a rep sees them: the bell, the tab title and toasts update without a reload,
My day rows move by themselves, and a quick log answers with a toast (keyboard only)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.notifications.kinds import Kind
from accountability.notifications.services import notification_create
from leads.models import FollowUp, Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEST = Kind("test", "A test notice")


def test_a_reminder_reaches_the_bell_title_and_a_toast_without_reload(page, browser_login, org):
    page.clock.install()  # the 30-second poll runs on a clock the test moves
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    page.evaluate("window.__noReload = true")

    notification_create(
        recipient=org["alice"], kind=TEST, title="Follow-up due: Priya Raman", key="r1", url="/leads/my-day/"
    )
    page.clock.run_for(31_000)

    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    toast = page.get_by_test_id("notice-toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Follow-up due: Priya Raman")
    expect(page).to_have_title("(1) My day · Accountability")
    assert page.evaluate("window.__noReload") is True

    # Unchanged since: the next round is a 304 and shows no second toast.
    with page.expect_response(lambda r: "/notifications/live/" in r.url) as answer:
        page.clock.run_for(31_000)
    assert answer.value.status == 304
    expect(page.get_by_test_id("notice-toast")).to_have_count(1)

    toast.get_by_role("button", name="Open").click()  # marks it read and opens its page
    expect(page).to_have_title("My day · Accountability")


def test_my_day_row_moves_to_overdue_when_its_follow_up_falls_due(page, browser_login, org):
    now = timezone.now()
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Soon Sam", stage="contacted", first_contacted_at=now
    )
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=now + timedelta(hours=1))
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    expect(page.get_by_test_id("section-today")).to_contain_text("Soon Sam")
    page.evaluate("window.__noReload = true")

    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=timezone.now() - timedelta(minutes=1))
    page.evaluate("window.accountabilityLive.pollNow()")

    expect(page.get_by_test_id("section-overdue")).to_contain_text("Soon Sam")
    expect(page.get_by_test_id("section-today")).not_to_contain_text("Soon Sam")
    assert page.evaluate("window.__noReload") is True


def test_quick_log_by_keyboard_answers_with_a_toast(page, browser_login, org):
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Priya Raman", stage="contacted", first_contacted_at=timezone.now()
    )
    due = timezone.now() - timedelta(hours=2)
    FollowUp.objects.create(lead=lead, owner=org["alice"], due_at=due)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due)
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    row = page.get_by_test_id("day-row").filter(has_text="Priya Raman")

    row.get_by_test_id("quick-log-open").click()
    expect(row.get_by_label("Kind")).to_be_focused()  # opening focuses the first field
    page.keyboard.press("Escape")  # Esc closes: the Log button is back, focused
    expect(row.get_by_test_id("quick-log")).to_have_count(0)
    expect(row.get_by_test_id("quick-log-open")).to_be_focused()

    page.keyboard.press("Enter")  # open it again from the keyboard
    expect(row.get_by_label("Kind")).to_be_focused()
    row.get_by_label("Outcome").select_option("connected")
    row.get_by_label("Note").fill("Agreed to a demo")
    page.keyboard.press("Enter")

    toast = page.get_by_test_id("logged-toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Call logged for Priya Raman, no follow-up planned")
    expect(page.get_by_test_id("logged-row")).to_contain_text("Priya Raman")
    expect(page.get_by_test_id("section-overdue")).to_contain_text("Nothing overdue.")
    toast.get_by_role("link", name="Edit").click()
    expect(page.get_by_test_id("timeline-entry").first).to_contain_text("Agreed to a demo")
    expect(page.get_by_text("Edit (within")).to_be_visible()


def test_a_poll_never_replaces_an_open_quick_log_form(page, browser_login, org):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Typing Tara")
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    row = page.get_by_test_id("day-row").filter(has_text="Typing Tara")
    row.get_by_test_id("quick-log-open").click()
    row.get_by_label("Note").fill("Half-typed")
    LeadFactory(owner=org["alice"], team=org["north"], name="New Nina")  # My day changed meanwhile

    page.evaluate("window.accountabilityLive.pollNow()")
    page.wait_for_timeout(500)
    expect(row.get_by_label("Note")).to_have_value("Half-typed")  # still there, untouched
    expect(page.get_by_test_id("section-untouched")).not_to_contain_text("New Nina")

    page.keyboard.press("Escape")
    page.evaluate("window.accountabilityLive.pollNow()")
    expect(page.get_by_test_id("section-untouched")).to_contain_text("New Nina")
    assert not lead.activities.exists()
