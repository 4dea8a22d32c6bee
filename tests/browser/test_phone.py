"""The main pages on a 390 x 844 phone: nothing wider than the screen, the lead list's filters
behind one button, the dashboards a card per rep, the bell and each row's action one tap away."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.notifications.kinds import Kind
from accountability.notifications.services import notification_create
from leads.models import FollowUp, Lead
from tests.factories import LeadFactory
from tests.leads.factories_metrics import received_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


@pytest.fixture
def data(org):
    now = timezone.now()
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], name="Priya Raman", stage="contacted", first_contacted_at=now
    )
    due = now - dt.timedelta(hours=2)
    FollowUp.objects.create(lead=lead, owner=org["alice"], due_at=due)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due)
    received_lead(org["alice"], arrived_at=now - dt.timedelta(hours=3), contacted_after=dt.timedelta(minutes=12))
    received_lead(org["bob"], arrived_at=now - dt.timedelta(hours=5), contacted_after=dt.timedelta(minutes=40))
    return {"lead": lead}


def fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("alice", "/"),
        ("alice", "/leads/my-day/"),
        ("alice", "/leads/"),
        ("alice", "/leads/{lead}/"),
        ("alice", "/leads/reports/dashboard/"),
        ("alice", "/recognition/"),
        ("maria", "/"),
        ("maria", "/leads/reports/dashboard/"),
        ("maria", "/reviews/dashboard/"),
    ],
)
def test_main_pages_fit_a_phone_with_the_bell_one_tap_away(phone, browser_login, org, data, who, path):
    browser_login(org[who])
    phone.goto(path.format(lead=data["lead"].pk))
    phone.wait_for_load_state("networkidle")
    fits_the_screen(phone)
    expect(phone.get_by_test_id("bell")).to_be_visible()  # not folded into the menu


def test_lead_list_filters_fold_behind_one_button(phone, browser_login, org, data):
    browser_login(org["alice"])
    phone.goto("/leads/")
    filters = phone.get_by_test_id("lead-filters")
    expect(filters).to_be_hidden()
    expect(phone.get_by_test_id("lead-row")).to_have_count(2)
    phone.get_by_test_id("filters-toggle").click()
    expect(filters).to_be_visible()
    # Bootstrap's collapse animates the form open: click inside it once it has settled ("show"),
    # not while it is still growing under the pointer (a loaded machine stretches the animation).
    expect(filters).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    filters.get_by_label("Search").fill("Priya")
    filters.get_by_role("button", name="Filter").click()
    phone.wait_for_url("**/leads/?q=Priya*")
    expect(phone.get_by_test_id("lead-row")).to_have_count(1)
    expect(phone.get_by_test_id("filters-toggle")).to_have_text("Filters (on)")
    phone.get_by_role("link", name="Priya Raman").click()  # the lead, one tap away
    expect(phone.get_by_role("heading", name="Priya Raman")).to_be_visible()


def test_filters_stay_open_on_a_desktop(page, browser_login, org, data):
    browser_login(org["alice"])
    page.goto("/leads/")
    expect(page.get_by_test_id("lead-filters")).to_be_visible()
    expect(page.get_by_test_id("filters-toggle")).to_be_hidden()


@pytest.mark.parametrize(
    ("path", "table", "row"),
    [
        ("/leads/reports/dashboard/", "scorecards", "tbody tr"),
        ("/reviews/dashboard/", "review-dashboard", "[data-testid=review-row]"),
    ],
)
def test_dashboards_are_a_card_per_rep_on_a_phone(phone, browser_login, org, data, path, table, row):
    browser_login(org["maria"])
    phone.goto(path)
    phone.wait_for_load_state("networkidle")
    fits_the_screen(phone)
    cards = phone.get_by_test_id(table).locator(row).filter(has_text="Alice")
    expect(cards.first).to_be_visible()
    card = cards.first
    assert card.evaluate("el => getComputedStyle(el).display") == "block"
    # each figure sits beside its column's name
    labels = card.locator("[data-label]").evaluate_all("cells => cells.map(c => c.dataset.label)")
    assert len(labels) >= 10 and all(labels)
    second = card.locator("[data-label]").nth(1)
    assert second.evaluate("el => getComputedStyle(el, '::before').content") == f'"{labels[1]}"'
    expect(phone.get_by_test_id(table).locator("thead")).not_to_be_in_viewport()


def test_my_day_log_is_one_tap_away_on_a_phone(phone, browser_login, org, data):
    notification_create(recipient=org["alice"], kind=Kind("test", "Test"), title="Hello", key="p1")
    browser_login(org["alice"])
    phone.goto("/leads/my-day/")
    fits_the_screen(phone)
    row = phone.get_by_test_id("day-row").filter(has_text="Priya Raman")
    row.get_by_test_id("quick-log-open").click()
    row.get_by_label("Outcome").select_option("connected")
    row.get_by_role("button", name="Log").click()
    expect(phone.get_by_test_id("logged-toast")).to_be_visible()
    fits_the_screen(phone)
    expect(phone.get_by_test_id("bell-count")).to_have_text("1")


@pytest.mark.parametrize("width", [1024, 1280])
def test_navigation_fits_a_laptop_with_the_bell_in_view(page, browser_login, org, data, width):
    # A rep's eleven menu entries fold behind the menu button below 1200 px instead of pushing
    # the bell and the user menu off the screen.
    page.set_viewport_size({"width": width, "height": 800})
    browser_login(org["alice"])
    page.goto("/leads/my-day/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    expect(page.get_by_test_id("bell")).to_be_in_viewport()
