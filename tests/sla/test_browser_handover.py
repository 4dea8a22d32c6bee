"""Issue 9 items 5 and 10 as a manager clicks them: reassigning an escalated lead from the home
page stops its ladder; the lead page says so and shows the new owner's due time."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.sla import services
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_reassigns_an_escalated_lead_and_its_page_shows_the_new_clock(page, browser_login, org):
    SlaPolicyFactory()
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Dana Escalated", arrived_at=timezone.now() - dt.timedelta(hours=2)
    )
    result = services.sla_sweep(ahead=dt.timedelta(0))
    for notice in result.notices_created:
        if notice.state == "pending":
            services.notice_deliver(notice_id=notice.pk)
    browser_login(org["maria"])
    row = page.get_by_test_id("manager-escalations").get_by_test_id("escalation-row").filter(has_text="Dana Escalated")
    row.get_by_role("combobox").select_option(label=str(org["bob"]))
    row.get_by_role("button", name="Reassign").click()
    expect(page.get_by_test_id("reassigned")).to_have_text(f"Reassigned to {org['bob']}")

    page.goto(f"/leads/{lead.pk}/")
    handover = page.locator("[data-testid=timeline-entry][data-kind=sla_handover]")
    expect(handover).to_contain_text("SLA handed over")
    expect(handover).to_contain_text(f"Stopped {org['alice']}'s SLA clock: first contact due")
    expect(handover).to_contain_text("(escalated)")
    expect(page.get_by_test_id("sla-due")).to_contain_text("First contact due")
    expect(page.get_by_test_id("sla-due")).to_contain_text(f"handed over to {org['bob']}")
    expect(page.get_by_test_id("sla-policy")).to_contain_text("Policy: organisation default v1")
