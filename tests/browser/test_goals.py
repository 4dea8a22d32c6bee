import pytest
from playwright.sync_api import expect

from goals.models import Commitment, Goal
from tests.goals.factories import CommitmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_proposes_a_goal_and_the_manager_approves_it(page, browser_login, org):
    browser_login(org["alice"])
    page.get_by_role("link", name="Goals", exact=True).click()
    page.get_by_test_id("new-goal").click()
    page.fill("input[name=title]", "Twenty calls a week")
    page.fill("textarea[name=description]", "Call every new inbound lead within the day.")
    page.select_option("select[name=metric]", "calls")
    # achievable: the recent figure appears beside the target when the metric is chosen
    expect(page.get_by_test_id("recent-figure")).to_contain_text("last 30 days")
    page.fill("input[name=target]", "80")
    page.get_by_role("button", name="Propose").click()
    # relevant is missing: the form says so and keeps what was typed
    expect(page.get_by_test_id("smart-errors")).to_contain_text("relevant (reason or KPI)")
    expect(page.locator("input[name=title]")).to_have_value("Twenty calls a week")
    page.fill("textarea[name=reason]", "Speed to lead drives conversion.")
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_test_id("goal-status")).to_contain_text("Proposed")

    page.context.clear_cookies()
    browser_login(org["maria"])
    page.get_by_role("link", name="Goals", exact=True).click()
    page.get_by_test_id("awaiting").get_by_role("link", name="Twenty calls a week").click()
    page.fill("#approve-comment", "Good one")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("goal-status")).to_contain_text("Approved")
    expect(page.get_by_test_id("goal-history")).to_contain_text("Good one")
    assert Goal.objects.get().status == Goal.Status.APPROVED


def test_rep_checks_off_a_commitment_in_place(page, browser_login, org):
    commitment = CommitmentFactory(owner=org["alice"], text="call 30 new leads")
    browser_login(org["alice"])
    page.goto("/goals/commitments/")
    row = page.locator(f"#commitment-{commitment.pk}")
    url_before = page.url
    row.get_by_test_id("commitment-check").click()
    expect(page.locator(f"#commitment-{commitment.pk}").get_by_test_id("commitment-check")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.url == url_before  # swapped in place, no navigation
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.DONE
