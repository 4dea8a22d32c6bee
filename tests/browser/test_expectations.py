import pytest
from playwright.sync_api import expect

from accountability.expectations import services
from tests.expectations.factories import draft_with_content, published

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_publishes_v2_rep_acknowledges_and_manager_sees_it(page, browser_login, org):
    v1 = published(org["admin"], title="How we sell")
    for persona in ("alice", "maria"):
        services.acknowledgement_create(actor=org[persona], version=v1)

    # The admin edits the published document: a draft version 2 starts from version 1.
    browser_login(org["admin"])
    page.goto("/expectations/manage/")
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_text("draft version 2")).to_be_visible()
    page.fill("textarea[name=values]", "We are **honest** with customers, and we reply fast.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft version 2 saved.")).to_be_visible()
    page.fill("textarea[name=change_summary]", "Replying fast is now one of our values.")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_test_id("current-badge")).to_be_visible()
    expect(page.get_by_text("we reply fast")).to_be_visible()

    # Alice logs in: she is sent to the new version, with the banner reminding her.
    page.context.clear_cookies()
    browser_login(org["alice"])
    expect(page.get_by_test_id("document-title")).to_have_text("How we sell")
    expect(page.get_by_test_id("expectations-banner")).to_contain_text("How we sell (version 2)")
    page.goto("/")
    expect(page.get_by_test_id("expectations-banner")).to_be_visible()
    page.get_by_test_id("expectations-banner").get_by_role("link").click()
    expect(page.get_by_text("Replying fast is now one of our values.").first).to_be_visible()
    page.get_by_role("button", name="Acknowledge version 2").click()
    expect(page.get_by_text("you acknowledged “How we sell”, version 2")).to_be_visible()
    expect(page.get_by_test_id("expectations-banner")).to_have_count(0)

    # Maria (who has not read version 2 yet herself) sees Alice's acknowledgement on her status page.
    page.context.clear_cookies()
    browser_login(org["maria"])
    page.goto("/expectations/status/")
    alice_row = page.locator('[data-testid="person-status-row"][data-user="alice"]')
    expect(alice_row.get_by_test_id("ack-yes")).to_contain_text("Acknowledged")
    bob_row = page.locator('[data-testid="person-status-row"][data-user="bob"]')
    expect(bob_row.get_by_test_id("ack-no")).to_be_visible()


def test_admin_sees_a_refused_kpi_in_page_and_then_adds_it(page, browser_login, org):
    draft = draft_with_content(org["admin"], kpis=0)
    browser_login(org["admin"])
    page.goto(f"/expectations/{draft.document_id}/draft/")
    editor = page.get_by_test_id("kpi-editor")
    editor.locator("select[name=metric]").select_option("calls")
    editor.locator("input[name=target]").fill("0")
    editor.locator("input[name=note]").fill("Kept while I fix the target")
    editor.get_by_role("button", name="Add KPI").click()
    # htmx swaps the editor with the error (a 4xx answer would not be swapped at all).
    expect(editor).to_contain_text("Ensure this value is greater than or equal to 0.01.")
    expect(editor.locator("input[name=note]")).to_have_value("Kept while I fix the target")
    expect(editor.locator("select[name=metric]")).to_have_value("calls")
    editor.locator("input[name=target]").fill("40")
    editor.get_by_role("button", name="Add KPI").click()
    expect(editor.get_by_test_id("kpi-row")).to_have_count(1)
    expect(editor.get_by_test_id("kpi-row")).to_contain_text("Calls at least 40")
    assert draft.kpis.get().target == 40


def test_publish_without_save_draft_publishes_what_the_editor_holds(page, browser_login, org):
    """Issue 9, item 1: edit a section, write a summary, press Publish (no Save draft)."""
    v1 = published(org["admin"], title="How we sell")
    browser_login(org["admin"])
    page.goto("/expectations/manage/")
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_text("draft version 2")).to_be_visible()

    # First press Publish on an unchanged draft: refused, the summary typed is still there.
    page.fill("textarea[name=change_summary]", "Log every call the same day.")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_text("identical to the current version 1")).to_be_visible()
    expect(page.locator("textarea[name=change_summary]")).to_have_value("Log every call the same day.")

    # Now add a line and publish straight away.
    responsibilities = page.locator("textarea[name=responsibilities]")
    responsibilities.fill(v1.responsibilities + "\nLog every call the same day.")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_test_id("current-badge")).to_be_visible()
    expect(page.get_by_text("Log every call the same day.").first).to_be_visible()

    page.goto(f"/expectations/{v1.document_id}/diff/?from=1&to=2")
    expect(page.locator(".added", has_text="Log every call the same day.")).to_be_visible()
