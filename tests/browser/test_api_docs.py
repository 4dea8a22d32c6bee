"""An admin opens the intake API's documentation from an intake source, under the strict CSP."""

import re

import pytest
from playwright.sync_api import expect

from leads.services import intake_source_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_opens_the_api_docs_from_the_intake_source_page_without_csp_violations(page, browser_login, org):
    source, token = intake_source_create(actor=org["admin"], name="Website", slug="website", team=org["north"])
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    browser_login(org["admin"])
    page.goto("/leads/intake-sources/")
    page.get_by_test_id("source-row").filter(has_text="Website").get_by_test_id("source-api-link").click()
    expect(page.get_by_test_id("curl-single")).to_contain_text(f"Authorization: Bearer {source.token_prefix}…")
    expect(page.get_by_test_id("curl-batch")).to_contain_text("/api/v1/leads/batch/")
    assert token not in page.content()

    page.get_by_test_id("api-docs-link").click()
    expect(page).to_have_url(re.compile(r"/api/v1/docs/$"))
    expect(page.get_by_text("Accountability intake API").first).to_be_visible()
    expect(page.get_by_text("Send one lead")).to_be_visible()
    expect(page.get_by_text("Send up to 500 leads at once")).to_be_visible()
    # Open the batch operation: its example and error answers are there.
    page.get_by_text("Send up to 500 leads at once").click()
    expect(page.get_by_text("At most 500 leads a request", exact=False).first).to_be_attached()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not csp, csp
    assert not problems, problems
