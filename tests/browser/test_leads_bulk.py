"""Managers act on many leads at once (issue 15): the action bar and the pipeline board, clicked."""

import pytest
from playwright.sync_api import expect

from accountability.notifications.models import Notification
from leads.models import Activity, Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_selects_three_leads_in_the_list_and_reassigns_them(page, browser_login, org):
    picked = [LeadFactory(owner=org["alice"], team=org["north"], name=f"Pick {i}") for i in range(3)]
    LeadFactory(owner=org["alice"], team=org["north"], name="Left alone")
    browser_login(org["maria"])
    page.get_by_role("link", name="Leads", exact=True).click()
    bar = page.get_by_test_id("bulk-bar")
    expect(bar.get_by_test_id("bulk-count")).to_have_text("0")
    expect(bar.get_by_role("button", name="Apply to selected")).to_be_disabled()
    for lead in picked:
        page.get_by_label(f"Select {lead.name}").check()
    expect(bar.get_by_test_id("bulk-count")).to_have_text("3")
    expect(page.get_by_test_id("select-all")).to_have_js_property("indeterminate", True)

    bar.get_by_label("Action").select_option("reassign")
    expect(bar.get_by_label("Move them to")).to_be_hidden()  # only the chosen action's fields
    bar.get_by_label("Give them to").select_option(label=str(org["bob"]))
    bar.get_by_label("Why reassign them?").fill("Alice is on leave this week")
    bar.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_text(f"3 leads reassigned to {org['bob']}.")).to_be_visible()
    assert set(Lead.objects.filter(pk__in=[x.pk for x in picked]).values_list("owner", flat=True)) == {org["bob"].pk}
    assert Lead.objects.get(name="Left alone").owner == org["alice"]
    assert Activity.objects.filter(kind="assigned", body="Alice is on leave this week").count() == 3
    assert Notification.objects.filter(recipient=org["bob"]).count() == 1


def test_select_all_on_the_page_and_close_them_as_lost_from_the_neglected_report(page, browser_login, org):
    import datetime as dt

    from django.utils import timezone

    old = timezone.now() - dt.timedelta(days=3)
    for i in range(2):
        LeadFactory(owner=org["bob"], team=org["north"], name=f"Stale {i}", arrived_at=old)
    browser_login(org["maria"])
    page.get_by_role("link", name="Neglected").click()
    page.get_by_test_id("select-all").check()
    bar = page.get_by_test_id("bulk-bar")
    expect(bar.get_by_test_id("bulk-count")).to_have_text("2")
    bar.get_by_label("Action").select_option("stage")
    expect(bar.get_by_label("Why were they lost?")).to_be_hidden()
    bar.get_by_label("Move them to").select_option("lost")
    bar.get_by_label("Why were they lost?").fill("Never answered")
    bar.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("2 leads moved to Lost.")).to_be_visible()
    expect(page.get_by_test_id("neglected-empty")).to_be_visible()
    assert Lead.objects.filter(stage="lost", lost_reason="Never answered").count() == 2


def test_manager_drags_a_card_to_another_stage_on_the_board(page, browser_login, org):
    LeadFactory(owner=org["alice"], team=org["north"], name="Drag Me", value=1200)
    LeadFactory(owner=org["bob"], team=org["north"], name="Stay Put", value=300)
    browser_login(org["maria"])
    page.get_by_role("link", name="Leads", exact=True).click()
    page.get_by_test_id("board-link").click()
    new, qualified = page.get_by_test_id("board-column-new"), page.get_by_test_id("board-column-qualified")
    expect(new.get_by_test_id("column-count")).to_have_text("2")
    page.evaluate("window.__noReload = true")

    card = new.get_by_test_id("board-card").filter(has_text="Drag Me")
    card.drag_to(qualified)

    expect(qualified.get_by_test_id("board-card")).to_have_count(1)
    expect(qualified.get_by_test_id("column-count")).to_have_text("1")
    expect(qualified.get_by_test_id("column-value")).to_contain_text("1,200")
    expect(new.get_by_test_id("column-count")).to_have_text("1")
    expect(page.get_by_test_id("board-message")).to_have_text("Drag Me moved to Qualified.")
    assert page.evaluate("window.__noReload") is True
    assert Lead.objects.get(name="Drag Me").stage == "qualified"


def test_moving_a_card_to_lost_asks_why_first(page, browser_login, org):
    LeadFactory(owner=org["alice"], team=org["north"], name="Lose Me")
    browser_login(org["alice"])
    page.goto("/leads/board/")
    lost = page.get_by_test_id("board-column-lost")
    card = page.get_by_test_id("board-card").filter(has_text="Lose Me")
    card.drag_to(lost)

    reason = card.get_by_label("Why was it lost?")
    expect(reason).to_be_visible()
    expect(reason).to_be_focused()
    assert Lead.objects.get(name="Lose Me").stage == "new"  # nothing sent yet

    card.get_by_role("button", name="Cancel").click()  # changed their mind: back it goes
    expect(page.get_by_test_id("board-column-new").get_by_test_id("board-card")).to_have_count(1)
    expect(reason).to_be_hidden()

    card.get_by_label("Stage of Lose Me").select_option("lost")  # the keyboard way
    expect(reason).to_be_focused()
    reason.fill("Chose a cheaper vendor")
    card.get_by_role("button", name="Move to Lost").click()
    expect(lost.get_by_test_id("board-card")).to_have_count(1)
    expect(lost.get_by_test_id("column-count")).to_have_text("1")
    lead = Lead.objects.get(name="Lose Me")
    assert (lead.stage, lead.lost_reason) == ("lost", "Chose a cheaper vendor")


def test_a_refused_move_puts_the_card_back_with_the_message(page, browser_login, org):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Taken Away")
    browser_login(org["alice"])
    page.goto("/leads/board/")
    card = page.get_by_test_id("board-card").filter(has_text="Taken Away")
    expect(card).to_be_visible()
    Lead.objects.filter(pk=lead.pk).update(owner=org["bob"])  # reassigned meanwhile, in another tab
    card.drag_to(page.get_by_test_id("board-column-proposal"))
    expect(page.get_by_test_id("board-message")).to_have_text("That lead is not one you can see.")
    expect(page.get_by_test_id("board-column-new").get_by_test_id("board-card")).to_have_count(1)
    assert Lead.objects.get(pk=lead.pk).stage == "new"


def test_board_at_phone_size_moves_a_card_with_its_stage_menu(page, browser_login, org):
    page.set_viewport_size({"width": 390, "height": 844})
    LeadFactory(owner=org["alice"], team=org["north"], name="Phone Card")
    browser_login(org["alice"])
    page.goto("/leads/board/")
    card = page.get_by_test_id("board-card").filter(has_text="Phone Card")
    card.get_by_label("Stage of Phone Card").select_option("contacted")  # one tap, no drag
    expect(page.get_by_test_id("board-column-contacted").get_by_test_id("board-card")).to_have_count(1)
    assert Lead.objects.get(name="Phone Card").stage == "contacted"
