import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reviews.models import DriftFlag
from tests.leads.factories_metrics import received_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sees_a_flag_opens_the_rep_page_and_marks_it_discussed(page, browser_login, org):
    now = timezone.now()
    received_lead(org["alice"], arrived_at=now - dt.timedelta(hours=3), contacted_after=dt.timedelta(minutes=12))
    DriftFlag.objects.create(
        rep=org["alice"],
        rule=DriftFlag.Rule.ESCALATIONS,
        week=now.date() - dt.timedelta(days=now.weekday()),
        reason="3 of their leads were escalated to a manager in the last 7 days.",
        raised_at=now,
    )
    browser_login(org["maria"])
    page.goto("/reviews/dashboard/")
    row = page.get_by_test_id("review-row").filter(has_text="Alice")
    expect(row.get_by_test_id("flag-badge")).to_have_text("Several escalations")
    expect(page.get_by_test_id("review-row")).to_have_count(2)  # alice and bob, not charlie
    # The trend charts are drawn (Chart.js from static/vendor, static/js/review_dashboard.js).
    expect(row.locator("canvas.sparkline").first).to_have_attribute("data-drawn", "1")

    row.get_by_test_id("rep-link").click()
    expect(page.get_by_test_id("rep-page-heading")).to_have_text("Alice " + org["alice"].last_name)
    flag = page.get_by_test_id("flag").filter(has_text="Several escalations")
    expect(flag.get_by_test_id("flag-state")).to_have_text("Open")
    flag.get_by_test_id("flag-discuss").click()
    expect(
        page.get_by_test_id("flag").filter(has_text="Several escalations").get_by_test_id("flag-state")
    ).to_have_text("Discussed")
    assert DriftFlag.objects.get().discussed_by == org["maria"]


def test_rep_sees_their_own_page_and_not_a_teammates(page, browser_login, org):
    browser_login(org["alice"])
    page.goto("/reviews/dashboard/")  # a rep lands on their own page
    expect(page.get_by_test_id("rep-page-heading")).to_contain_text("Alice")
    response = page.goto(f"/reviews/people/{org['bob'].pk}/")
    assert response.status == 404
