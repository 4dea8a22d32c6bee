"""People without the Django admin, as an admin and an invitee click it (issue 15)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager():
    """The invitation email is sent by a task on commit: run it in place (locmem outbox)."""
    from accountability.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_admin_invites_a_person_who_sets_a_password_and_logs_in(
    page, browser_login, org, eager, _chromium, live_server
):
    browser_login(org["admin"])
    page.get_by_role("button", name="Configure").click()  # the menu links to the people pages
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_test_id("invite").click()
    form = page.get_by_test_id("invite-form")
    form.get_by_label("First name").fill("Priya")
    form.get_by_label("Last name").fill("Raman")
    form.get_by_label("Email").fill("priya@example.com")
    form.get_by_label("Role").select_option("rep")
    form.get_by_label("North").first.check()  # Member of: North
    form.get_by_label("Mobile number").fill("+44 20 7946 0958")
    form.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Invitation sent to priya@example.com")
    expect(page.get_by_test_id("invitation-card")).to_contain_text("the link works until")

    assert len(mail.outbox) == 1
    path = "/" + re.search(r"https?://\S+?/(invitation/\S+/)", mail.outbox[0].body).group(1)

    invitee = _chromium.new_context(base_url=live_server.url)
    tab = invitee.new_page()
    tab.goto(path)
    expect(tab.get_by_test_id("username")).to_have_text("priya@example.com")
    tab.locator("#id_new_password1").fill("a-long-new-pass-42")
    tab.locator("#id_new_password2").fill("a-long-new-pass-42")
    tab.get_by_role("button", name="Set my password and log in").click()
    expect(tab.get_by_test_id("home-heading")).to_have_text("Good day, Priya")
    # The link is used up; logging in with the new password works.
    tab.goto(path)
    expect(tab.get_by_test_id("invitation-invalid")).to_contain_text("already used")
    tab.context.clear_cookies()
    tab.goto("/accounts/login/")
    tab.fill("input[name=username]", "priya@example.com")
    tab.fill("input[name=password]", "a-long-new-pass-42")
    tab.click("button[type=submit]")
    expect(tab.get_by_test_id("home-heading")).to_have_text("Good day, Priya")
    invitee.close()


def test_admin_deactivates_a_rep_and_sees_their_leads_moved(page, browser_login, org):
    leads = [LeadFactory(owner=org["alice"], team=org["north"], name=f"Lead {i}") for i in range(2)]
    browser_login(org["admin"])
    page.goto("/settings/people/")
    page.get_by_label("Role").select_option("rep")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=str(org["alice"])).click()
    page.get_by_test_id("deactivate").click()
    preview = page.get_by_test_id("deactivate-preview")
    expect(preview.get_by_test_id("lead-count")).to_contain_text("2 open leads will move")
    expect(preview.get_by_test_id("team-move")).to_contain_text(f"2 to {org['bob']}")
    page.get_by_test_id("confirm-deactivate").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "deactivated and can no longer log in. 2 open leads: 2 reassigned"
    )
    expect(page.get_by_test_id("reactivate")).to_be_visible()
    page.goto(f"/leads/{leads[0].pk}/")
    expect(page.get_by_test_id("timeline-entry").filter(has_text="Owner deactivated")).to_contain_text(
        f"Reassigned from {org['alice']} to {org['bob']}"
    )
    assert set(Lead.objects.values_list("owner", flat=True)) == {org["bob"].pk}
