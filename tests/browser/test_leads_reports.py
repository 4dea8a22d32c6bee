from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import LeadFactory
from tests.leads.factories_metrics import received_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_filters_the_neglected_report_by_owner_and_reason(page, browser_login, org):
    now = timezone.now()
    LeadFactory(owner=org["alice"], name="Alice Untouched", arrived_at=now - timedelta(hours=30))
    LeadFactory(owner=org["bob"], name="Bob Untouched", arrived_at=now - timedelta(hours=50))
    LeadFactory(
        owner=org["bob"],
        name="Bob Overdue",
        stage="contacted",
        arrived_at=now - timedelta(days=4),
        first_contacted_at=now - timedelta(days=4),
        last_activity_at=now - timedelta(days=2),
        next_follow_up_at=now - timedelta(hours=5),
    )
    LeadFactory(owner=org["charlie"], name="Charlie Untouched", arrived_at=now - timedelta(hours=80))

    browser_login(org["maria"])
    page.get_by_role("link", name="Neglected").click()
    rows = page.get_by_test_id("neglected-row")
    expect(rows).to_have_count(3)  # North's leads only: never Charlie's
    expect(rows.first).to_contain_text("Bob Untouched")  # neglected longest

    page.get_by_label("Owner").select_option(label=str(org["bob"]))
    page.get_by_label("Reason").select_option(label="Follow-up overdue")
    page.get_by_role("button", name="Filter").click()

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bob Overdue")
    expect(rows.first).to_contain_text("Follow-up overdue")
    expect(page.get_by_test_id("neglected-count")).to_have_text("1 neglected lead")
    expect(page.get_by_label("Owner")).to_have_value(str(org["bob"].pk))  # the filters stay picked


def test_manager_changes_the_dashboard_period(page, browser_login, org):
    now = timezone.now()
    received_lead(org["alice"], arrived_at=now - timedelta(days=2), contacted_after=timedelta(minutes=4))
    received_lead(org["alice"], arrived_at=now - timedelta(days=45), contacted_after=timedelta(minutes=20))

    browser_login(org["maria"])
    page.get_by_role("link", name="Dashboard").click()
    alice = page.locator("[data-rep=alice]")
    expect(alice.locator("[data-figure=leads_received]")).to_have_text("1")  # last 30 days by default
    expect(alice.locator("[data-figure=speed_to_lead_median]")).to_have_text("4 min")

    page.get_by_test_id("period-preset").select_option(label="Last 90 days")
    page.get_by_role("button", name="Show").click()

    expect(alice.locator("[data-figure=leads_received]")).to_have_text("2")
    expect(alice.locator("[data-figure=speed_to_lead_median]")).to_have_text("12 min")  # (4 + 20) / 2
    expect(page.get_by_test_id("period-preset")).to_have_value("90")

    # The slower figure opens the contacted leads behind it, slowest first, for the same 90 days.
    alice.locator("[data-figure=speed_to_lead_p90] a").click()
    expect(page.get_by_test_id("figure-rows-heading")).to_contain_text("Speed to lead")
    expect(page.get_by_test_id("figure-rows-summary")).to_contain_text("2 rows")
    # Business minutes, then wall clock (the same here: the factory's lead has no business hours).
    expect(page.get_by_test_id("time-to-first-contact")).to_have_text(["20 min / 20 min", "4 min / 4 min"])


def test_head_of_sales_sees_each_team_with_its_subtotal_and_opens_its_rows(page, browser_login, org):
    now = timezone.now()
    received_lead(org["alice"], arrived_at=now - timedelta(days=2), contacted_after=timedelta(minutes=4))
    received_lead(org["bob"], arrived_at=now - timedelta(days=3), contacted_after=timedelta(minutes=8))
    received_lead(org["charlie"], arrived_at=now - timedelta(days=4), contacted_after=timedelta(minutes=6))

    browser_login(org["helen"])
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-rep=alice] td").first).to_have_text("North")
    subtotals = page.get_by_test_id("team-subtotal")
    expect(subtotals).to_have_count(2)
    north = subtotals.filter(has_text="North subtotal")
    expect(north.locator("[data-figure=leads_received]")).to_have_text("2")
    # A subtotal's figure opens that team's rows.
    north.locator("[data-figure=leads_received] a").click()
    expect(page.get_by_test_id("figure-rows-heading")).to_contain_text("Received")
    expect(page.get_by_test_id("figure-rows-summary")).to_contain_text("2 rows")
