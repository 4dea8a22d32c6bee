"""axe-core (vendored: static/vendor/axe/axe.min.js) on the main pages, per role: no serious
or critical violation. Pages get some data so tables, forms and badges are really there."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accountability.notifications.kinds import Kind
from accountability.notifications.services import notification_create
from leads.models import FollowUp, Lead
from tests.factories import LeadFactory
from tests.leads.factories_metrics import received_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(settings.BASE_DIR) / "static" / "vendor" / "axe" / "axe.min.js").read_text()
# Faults a screen reader or keyboard user runs into; "moderate"/"minor" best practices are reported
# in the failure message but do not fail the test.
BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    # Evaluated through the DevTools protocol, so the page's CSP (scripts from our files only)
    # does not stop it; nothing of axe is served to users.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(
        """async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'];
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + (n.any[0] ? n.any[0].message : ''))}));
        }"""
    )


def assert_accessible(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    # landmarks a screen reader jumps between
    assert page.locator("header nav[aria-label=Main]").count() == 1 and page.locator("main").count() == 1
    found = axe_violations(page)
    if os.environ.get("AXE_REPORT"):
        with open(os.environ["AXE_REPORT"], "a") as report:
            report.writelines(f"{url} {v['id']} ({v['impact']}) {v['nodes']}\n" for v in found)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, f"{url}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in found)


@pytest.fixture
def data(org):
    now = timezone.now()
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Priya Raman", stage="contacted", first_contacted_at=now
    )
    due = now - dt.timedelta(hours=2)
    FollowUp.objects.create(lead=lead, owner=org["alice"], due_at=due)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due)
    LeadFactory(owner=org["alice"], team=org["north"], name="Never Called")
    received_lead(org["alice"], arrived_at=now - dt.timedelta(hours=3), contacted_after=dt.timedelta(minutes=12))
    received_lead(org["bob"], arrived_at=now - dt.timedelta(hours=5), contacted_after=dt.timedelta(minutes=40))
    notification_create(recipient=org["alice"], kind=Kind("test", "Test"), title="Follow-up due", key="a11y")
    return {"lead": lead}


REP_PAGES = [
    "/",
    "/leads/my-day/",
    "/leads/",
    "/leads/{lead}/",
    "/leads/reports/dashboard/",
    "/recognition/",
    "/notifications/",
]
MANAGER_PAGES = [
    "/",
    "/leads/",
    "/leads/reports/dashboard/",
    "/reviews/dashboard/",
    "/recognition/",
    "/leads/reports/neglected/",
]


@pytest.mark.parametrize("path", REP_PAGES)
def test_rep_pages_pass_axe(page, browser_login, org, data, path):
    browser_login(org["alice"])
    assert_accessible(page, path.format(lead=data["lead"].pk))


@pytest.mark.parametrize("path", MANAGER_PAGES)
def test_manager_pages_pass_axe(page, browser_login, org, data, path):
    browser_login(org["maria"])
    assert_accessible(page, path)


def test_quick_log_form_passes_axe(page, browser_login, org, data):
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    page.get_by_test_id("quick-log-open").first.click()
    page.get_by_test_id("quick-log").wait_for()
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, blocking
