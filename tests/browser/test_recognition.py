import pytest
from playwright.sync_api import expect

from recognition.models import Kudos
from tests.factories import LeadFactory
from tests.recognition.factories import CompanyValueFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_gives_kudos_from_a_lead_page_and_the_recipient_sees_it_and_is_notified(page, browser_login, org):
    CompanyValueFactory(name="Own it")
    CompanyValueFactory(name="Honesty first")
    lead = LeadFactory(owner=org["alice"], name="Acme Buyer")
    browser_login(org["alice"])
    page.goto(f"/leads/{lead.pk}/")
    page.get_by_test_id("lead-give-kudos").click()
    expect(page.get_by_test_id("give-evidence")).to_have_value(f"lead:{lead.pk}")
    page.get_by_test_id("give-recipients").select_option(label=str(org["bob"]))
    page.get_by_test_id("give-message").fill("Great")
    url_before = page.url
    page.get_by_test_id("give-submit").click()
    # no value and too short: both said, the recipient and evidence kept
    expect(page.get_by_test_id("error-values")).to_contain_text("at least one company value")
    expect(page.get_by_test_id("error-message")).to_contain_text("at least 20 characters")
    expect(page.get_by_test_id("give-evidence")).to_have_value(f"lead:{lead.pk}")
    page.get_by_test_id("give-message").fill("Called my Acme lead back while I was at the dentist.")
    page.get_by_label("Own it").check()
    page.get_by_test_id("give-submit").click()
    expect(page.get_by_test_id("give-done")).to_contain_text(str(org["bob"]))
    assert page.url == url_before  # one form, no page reload
    kudos = Kudos.objects.get()
    assert kudos.lead == lead

    page.context.clear_cookies()
    browser_login(org["bob"])
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    page.get_by_role("link", name="Recognition", exact=True).click()
    card = page.get_by_test_id("kudos").first
    expect(card.get_by_test_id("kudos-message")).to_contain_text("dentist")
    expect(card.get_by_test_id("kudos-value")).to_have_text("Own it")
    expect(card.get_by_test_id("kudos-evidence")).to_contain_text("not yours to open")  # alice's lead
    card.get_by_test_id("kudos-react").click()
    expect(card.get_by_test_id("kudos-reaction-count")).to_have_text("1")
    page.goto("/notifications/")
    expect(page.locator("body")).to_contain_text("Alice")
    expect(page.locator("body")).to_contain_text("dentist")
