import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_logs_in_and_sees_their_day(page, browser_login, org):
    browser_login(org["alice"])
    expect(page.get_by_test_id("home-heading")).to_have_text("Good day, Alice")
    expect(page.get_by_text("North").first).to_be_visible()


def test_manager_logs_in_and_sees_their_team(page, browser_login, org):
    browser_login(org["maria"])
    expect(page.get_by_test_id("home-heading")).to_contain_text("Your team")
    expect(page.get_by_test_id("team-card")).to_contain_text("Alice")


def test_wrong_password_shows_an_error(page, browser_login, org):
    browser_login(org["alice"], password="not-her-password")
    expect(page.get_by_test_id("login-error")).to_contain_text("correct username and password")
    assert "/accounts/login/" in page.url
