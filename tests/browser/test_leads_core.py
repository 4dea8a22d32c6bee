import json
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import FollowUp, Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_logs_a_call_from_my_day_and_the_lead_leaves_overdue(page, browser_login, org):
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Overdue Olga", stage="contacted", first_contacted_at=timezone.now()
    )
    due = timezone.now() - timedelta(hours=2)
    FollowUp.objects.create(lead=lead, owner=org["alice"], due_at=due)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due)

    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    overdue = page.get_by_test_id("section-overdue")
    row = overdue.get_by_test_id("day-row").filter(has_text="Overdue Olga")
    expect(row).to_have_count(1)
    page.evaluate("window.__noReload = true")  # survives only if the page is not reloaded

    row.get_by_test_id("quick-log-open").click()  # the row's form is fetched on demand (htmx)
    row.get_by_label("Kind").select_option("call")
    row.get_by_label("Outcome").select_option("connected")
    row.get_by_label("Note").fill("Agreed to a demo")
    row.get_by_role("button", name="Log").click()

    expect(page.get_by_test_id("section-overdue")).not_to_contain_text("Overdue Olga")
    expect(page.get_by_test_id("section-overdue")).to_contain_text("Nothing overdue.")
    assert page.evaluate("window.__noReload") is True
    assert lead.activities.get(kind="call").body == "Agreed to a demo"


def test_rep_logs_on_lead_page_and_entry_tops_the_timeline(page, browser_login, org):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Page Paula")
    browser_login(org["alice"])
    page.goto(f"/leads/{lead.pk}/")
    form = page.get_by_test_id("activity-form")
    form.get_by_label("Kind").select_option("note")
    expect(form.get_by_label("Outcome")).to_be_disabled()  # a note has no outcome
    form.get_by_label("Kind").select_option("email")
    expect(form.get_by_label("Outcome")).to_be_enabled()
    form.get_by_label("Outcome").select_option("sent")
    form.get_by_label("Note").fill("Sent the brochure")
    form.get_by_role("button", name="Log").click()
    expect(page.get_by_test_id("timeline-entry").first).to_contain_text("Sent the brochure")
    expect(page.get_by_test_id("first-contact")).not_to_contain_text("not yet")


def test_admin_creates_intake_source_and_api_lead_reaches_the_rep(page, browser_login, org, live_server):
    browser_login(org["admin"])
    page.goto("/")
    page.get_by_role("button", name="Configure").click()
    page.get_by_role("link", name="Intake sources").click()
    page.get_by_role("link", name="New intake source").click()
    page.get_by_label("Name").fill("Website")
    page.get_by_label("Team").select_option(label="North")
    page.get_by_role("button", name="Create source").click()
    token = page.get_by_test_id("token").input_value()
    assert token.startswith("acc_")

    request = urllib.request.Request(
        f"{live_server.url}/api/v1/leads/",
        data=json.dumps({"name": "Api Annie", "email": "annie@example.com", "company": "Acme"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": "k-1"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
        body = json.loads(response.read())
    assert body["owner"]["id"] == org["alice"].pk and body["duplicate"] is False

    page.context.clear_cookies()
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    expect(page.get_by_test_id("section-untouched")).to_contain_text("Api Annie")


def test_visitor_fills_the_public_web_form_and_sees_thanks(page, org):
    from tests.factories import IntakeSourceFactory

    IntakeSourceFactory(name="Website", slug="website", team=org["north"])
    page.goto("/leads/intake/website/")
    page.get_by_label("Name").fill("Web Wendy")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Enter a valid email address")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Web Wendy")  # input kept
    page.get_by_label("Email").fill("wendy@example.com")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("intake-thanks")).to_be_visible()
    assert Lead.objects.get(name="Web Wendy").owner == org["alice"]


@pytest.fixture
def eager_tasks():
    """Tasks run in place when enqueued (after the request's commit), as CELERY_TASK_ALWAYS_EAGER=1 does."""
    from accountability.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_manager_imports_a_csv_with_a_bad_row_and_keeps_the_good_ones(page, browser_login, org, tmp_path, eager_tasks):
    path = tmp_path / "leads.csv"
    path.write_text("name,email,phone\nGood Gina,gina@example.com,\nBad Bert,not-an-email,\n", encoding="utf-8")
    browser_login(org["maria"])
    page.goto("/leads/import/")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_label("Team").select_option(label="North")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 ready")
    expect(page.get_by_test_id("preview-table")).to_contain_text("Enter a valid email address")
    page.get_by_role("button", name="Import the 1 good row").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("1 lead created in North")
    expect(page.get_by_test_id("rejected-report")).to_be_visible()
    assert list(Lead.objects.values_list("name", flat=True)) == ["Good Gina"]


def test_quick_log_without_outcome_keeps_the_note_in_the_row(page, browser_login, org):
    LeadFactory(owner=org["alice"], team=org["north"], name="Fresh Fred")
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    row = page.get_by_test_id("day-row").filter(has_text="Fresh Fred")
    row.get_by_test_id("quick-log-open").click()
    row.get_by_label("Kind").select_option("email")
    row.get_by_label("Note").fill("Wants the price list")
    row.get_by_role("button", name="Log").click()
    row = page.get_by_test_id("day-row").filter(has_text="Fresh Fred")
    expect(row.get_by_test_id("quick-log-errors")).to_contain_text("choose an outcome")
    expect(row.get_by_label("Note")).to_have_value("Wants the price list")
    expect(row.get_by_label("Kind")).to_have_value("email")
    row.get_by_label("Outcome").select_option("sent")
    row.get_by_role("button", name="Log").click()
    expect(page.get_by_test_id("section-untouched")).to_contain_text("Every new lead has been contacted.")
