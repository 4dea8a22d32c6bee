"""Reviews and 1:1s as people click them (Playwright, headless Chromium)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reviews import services
from reviews.models import ActionItem, Meeting, Review
from reviews.services import CriterionInput
from tests.reviews.factories import make_cycle, make_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rate_all(page, value: str):
    for select in page.get_by_test_id("assessment-form").locator("select[name^=rating_]").all():
        select.select_option(value)


def test_a_review_from_self_assessment_to_acknowledgement(page, browser_login, org):
    template = make_template(
        org["admin"],
        criteria=[
            CriterionInput("value", "Integrity", Decimal(2)),
            CriterionInput("value", "Teamwork", Decimal(1)),
            CriterionInput("question", "What next?", Decimal(1), "text"),
        ],
    )
    cycle = make_cycle(org["admin"], [org["north"]], template, name="Q3 review")
    services.cycle_open(actor=org["admin"], cycle=cycle)
    review = cycle.reviews.get(rep=org["alice"])

    browser_login(org["alice"])
    page.get_by_role("link", name="Reviews", exact=True).click()
    page.get_by_test_id("current-review").get_by_role("link", name="Q3 review").click()
    _rate_all(page, "4")
    page.fill("#highlights", "Saved three leads for Bob.")
    page.get_by_test_id("submit-assessment").click()
    expect(page.get_by_test_id("review-state")).to_have_text("Self-assessment submitted")

    page.context.clear_cookies()
    browser_login(org["maria"])
    page.get_by_role("link", name="Reviews", exact=True).click()
    page.get_by_test_id("reviews-to-write").get_by_role("link", name=str(org["alice"])).click()
    expect(page.get_by_test_id("packet")).to_contain_text("Leads received")
    expect(page.get_by_test_id("self-hidden")).to_be_visible()
    _rate_all(page, "3")
    page.fill("#highlights", "Reliable on follow-ups.")
    page.get_by_test_id("submit-assessment").click()
    expect(page.get_by_test_id("review-state")).to_have_text("Manager assessment submitted")
    expect(page.get_by_test_id("assessment-self")).to_contain_text("Saved three leads for Bob.")
    page.get_by_test_id("share").click()
    expect(page.get_by_test_id("review-state")).to_have_text("Shared with the rep")

    page.context.clear_cookies()
    browser_login(org["alice"])
    page.goto(f"/reviews/{review.pk}/")
    expect(page.get_by_test_id("assessment-manager")).to_contain_text("Reliable on follow-ups.")
    expect(page.get_by_test_id("acknowledge-form")).to_contain_text("does not say you agree")
    page.fill("#ack-comment", "Thanks")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("review-state")).to_have_text("Acknowledged")
    review.refresh_from_db()
    assert review.state == Review.State.ACKNOWLEDGED and review.manager_score == Decimal("3.00")


def test_a_one_on_one_with_a_suggested_item_is_held_and_an_action_item_closed(page, browser_login, org):
    alice, maria = org["alice"], org["maria"]
    ActionItem.objects.create(
        text="Finish the pricing course", rep=alice, team=org["north"], owner=alice,
        due_date=timezone.localdate(), created_by=maria,
    )  # fmt: skip
    soon = timezone.now() + dt.timedelta(hours=1)
    services.series_create(
        actor=maria, rep=alice, cadence="weekly", weekday=soon.weekday(), time=soon.time().replace(microsecond=0)
    )
    meeting = Meeting.objects.get()

    browser_login(maria)
    page.get_by_role("link", name="1:1s", exact=True).click()
    page.get_by_test_id("next-meeting").click()
    suggestion = page.get_by_test_id("agenda-item").filter(has_text="open action item")
    expect(suggestion).to_contain_text("suggested")
    suggestion.get_by_test_id("agenda-keep").click()
    expect(page.get_by_test_id("agenda-item").filter(has_text="open action item")).to_contain_text("kept")
    page.fill("#ai-text", "Call the five neglected leads")
    page.fill("#ai-due", (timezone.localdate() + dt.timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Add", exact=True).last.click()
    expect(page.get_by_test_id("action-item").filter(has_text="Call the five neglected leads")).to_be_visible()
    page.get_by_test_id("meeting-held").click()
    expect(page.get_by_test_id("meeting-state")).to_have_text("Held")

    page.context.clear_cookies()
    browser_login(alice)
    expect(page.get_by_test_id("home-action-items")).to_contain_text("Call the five neglected leads")
    page.goto(f"/reviews/one-on-ones/meetings/{meeting.pk}/")
    item = page.get_by_test_id("action-item").filter(has_text="Call the five neglected leads").first
    item.get_by_test_id("action-done").click()
    expect(
        page.get_by_test_id("action-item")
        .filter(has_text="Call the five neglected leads")
        .first.get_by_test_id("action-status")
    ).to_have_text("Done")
    assert ActionItem.objects.get(text="Call the five neglected leads").status == ActionItem.Status.DONE
