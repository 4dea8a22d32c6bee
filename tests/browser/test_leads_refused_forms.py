"""Issue 9, item 3, as a rep clicks it: editing a call offers call outcomes; a refused edit keeps the text."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Activity
from leads.services import activity_log
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_edits_a_call_with_call_outcomes_and_a_refused_edit_keeps_the_text(page, browser_login, org):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Edit Edna")
    call = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", body="Spoke")
    browser_login(org["alice"])
    page.goto(f"/leads/{lead.pk}/")
    entry = page.locator(f"#activity-{call.pk}")
    entry.get_by_text("Edit (within").click()
    outcome = entry.get_by_label("Outcome")
    expect(outcome.locator("option")).to_have_text(["Connected", "Left voicemail", "No answer", "Wrong number"])

    # A first edit goes through.
    outcome.select_option("voicemail")
    entry.get_by_label("Text").fill("Left a message about the demo")
    entry.get_by_role("button", name="Save").click()
    expect(page.locator(f"#activity-{call.pk}")).to_contain_text("Left a message about the demo")

    # The edit window closes while the rep types a second edit: refused, the text moves to the correction box.
    page.locator(f"#activity-{call.pk}").get_by_text("Edit (within").click()
    Activity.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    page.locator(f"#activity-{call.pk}").get_by_label("Text").fill("A long careful account I must not lose")
    page.locator(f"#activity-{call.pk}").get_by_role("button", name="Save").click()
    entry = page.locator(f"#activity-{call.pk}")
    expect(entry.get_by_test_id("correction-error")).to_contain_text("add a correction instead")
    expect(entry.get_by_label("Correction")).to_have_value("A long careful account I must not lose")
    entry.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("timeline-entry").first).to_contain_text("A long careful account I must not lose")
    assert Activity.objects.get(corrects=call).body == "A long careful account I must not lose"
