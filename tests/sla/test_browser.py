"""The SLA capabilities as people click them (Playwright, headless Chromium)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Lead
from leads.sla import services
from leads.sla.models import SlaPolicy
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sweep_and_deliver():
    result = services.sla_sweep(ahead=dt.timedelta(0))
    for notice in result.notices_created:
        if notice.state == "pending":
            services.notice_deliver(notice_id=notice.pk)


def test_manager_sees_an_escalated_lead_on_their_home_and_reassigns_it(page, browser_login, org):
    SlaPolicyFactory()
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Dana Escalated", arrived_at=timezone.now() - dt.timedelta(hours=2)
    )
    sweep_and_deliver()
    browser_login(org["maria"])
    panel = page.get_by_test_id("manager-escalations")
    row = panel.get_by_test_id("escalation-row").filter(has_text="Dana Escalated")
    expect(row).to_be_visible()
    row.get_by_role("combobox").select_option(label=str(org["bob"]))
    row.get_by_role("button", name="Reassign").click()
    expect(panel.get_by_test_id("reassigned")).to_have_text(f"Reassigned to {org['bob']}")
    assert Lead.objects.get(pk=lead.pk).owner == org["bob"]
    page.reload()
    expect(page.get_by_test_id("manager-escalations")).to_contain_text("Nothing escalated")


def test_rep_sees_the_reminder_in_the_bell(page, browser_login, org):
    SlaPolicyFactory()
    LeadFactory(
        owner=org["alice"],
        team=org["north"],
        name="Erin Callback",
        arrived_at=timezone.now() - dt.timedelta(minutes=11),
    )
    sweep_and_deliver()  # first contact due at 15 minutes: the reminder (5 minutes before) is out
    browser_login(org["alice"])
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    page.get_by_test_id("bell").click()
    expect(page.get_by_test_id("notification-list")).to_contain_text("Follow up soon: Erin Callback")


def test_admin_changes_the_default_policy(page, browser_login, org):
    SlaPolicyFactory()
    browser_login(org["admin"])
    page.goto("/sla/policies/")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("First contact within (business minutes)").fill("30")
    page.get_by_label("Sat opens").fill("10:00")
    page.get_by_label("Sat closes").fill("09:00")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Closing time must be after opening time.")).to_be_visible()
    page.get_by_label("Sat closes").fill("14:00")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_test_id("policy-list")).to_contain_text("First contact within 30 minutes")
    assert SlaPolicy.objects.get(team=None).version == 2


def test_rep_chooses_sms_for_overdue_leads_with_a_valid_phone(page, browser_login, org):
    from accountability.notifications.models import NotificationPreference

    browser_login(org["alice"])
    page.goto("/notifications/preferences/")
    page.get_by_label("A lead of yours is overdue: SMS").check()
    page.get_by_label("Mobile number for SMS").fill("12")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("This is not a valid phone number.")).to_be_visible()
    page.get_by_label("Mobile number for SMS").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Notification preferences saved.")).to_be_visible()
    expect(page.get_by_label("Mobile number for SMS")).to_have_value("+442079460958")
    assert NotificationPreference.objects.get(user=org["alice"], kind="sla_overdue").sms
