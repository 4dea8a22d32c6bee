"""The pipeline board: the lead list's leads by stage, scoped and filtered like the list; a card
moves with the stage rules (Lost asks why; a refused move leaves it where it was)."""

import re

import pytest
from django.utils import timezone

from leads.models import Activity, Lead
from tests.factories import IntakeSourceFactory, LeadFactory

pytestmark = pytest.mark.django_db

BOARD = "/leads/board/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def column(body: str, stage: str) -> str:
    match = re.search(rf'data-testid="board-column-{stage}".*?</section>', body, re.S)
    assert match, stage
    return match.group(0)


def count_of(body: str, stage: str) -> int:
    return int(re.search(r'data-testid="column-count"[^>]*>(\d+)<', column(body, stage)).group(1))


def move(client, lead, query="", **data):
    return client.post(f"/leads/board/{lead.pk}/move/{query}", data, **HTMX)


def test_columns_count_and_sum_every_matching_lead_by_stage(org, login):
    LeadFactory(owner=org["alice"], team=org["north"], name="Nina New", value=100)
    LeadFactory(owner=org["bob"], team=org["north"], name="Ned New", value=250)
    LeadFactory(owner=org["alice"], team=org["north"], name="Quinn", stage="qualified", value=1000)
    LeadFactory(owner=org["alice"], team=org["north"], name="Wanda", stage="won", value=5, closed_at=timezone.now())
    LeadFactory(owner=org["charlie"], team=org["south"], name="Sid South", value=7)
    body = login(org["maria"]).get(BOARD).content.decode()
    assert count_of(body, "new") == 2 and "350" in column(body, "new")
    assert "Nina New" in column(body, "new") and "Quinn" in column(body, "qualified")
    assert count_of(body, "won") == 1 and count_of(body, "lost") == 0
    assert "Sid South" not in body  # sam's team


def test_rep_sees_only_their_own_cards_and_filters_work_like_the_list(org, login):
    LeadFactory(owner=org["alice"], team=org["north"], name="Alices")
    LeadFactory(owner=org["bob"], team=org["north"], name="Bobs")
    body = login(org["alice"]).get(BOARD).content.decode()
    assert "Alices" in body and "Bobs" not in body
    body = login(org["maria"]).get(BOARD + f"?owner={org['bob'].pk}").content.decode()
    assert "Bobs" in body and "Alices" not in body and count_of(body, "new") == 1
    body = login(org["maria"]).get(BOARD + "?q=alic").content.decode()
    assert "Alices" in body and "Bobs" not in body


def test_a_full_column_shows_its_first_cards_and_links_to_the_rest(org, login):
    for i in range(23):
        LeadFactory(owner=org["alice"], team=org["north"], name=f"Lead {i:02d}")
    body = login(org["maria"]).get(BOARD + f"?owner={org['alice'].pk}").content.decode()
    new = column(body, "new")
    assert new.count('data-testid="board-card"') == 20 and count_of(body, "new") == 23
    assert "Lead 22" in new and "Lead 02" not in new  # newest first, like the list
    more = re.search(r'href="([^"]+)" data-testid="column-more">3 more in the list', new).group(1)
    assert more == f"/leads/?owner={org['alice'].pk}&amp;stage=new"


@pytest.mark.parametrize("n", [5, 40])
def test_board_runs_a_constant_number_of_queries(org, login, django_assert_num_queries, n):
    stages = ["new", "contacted", "qualified", "proposal"]
    for i in range(n):
        LeadFactory(
            owner=org["alice"], team=org["north"], stage=stages[i % 4], source=IntakeSourceFactory(team=org["north"])
        )
    c = login(org["maria"])
    # session, user, unread count, user time zone, expectations banner (5); managed teams + team
    # tree (scoping, 2); the filter's owner / first-assigned / team / source choices and the team
    # tree again (5); the columns' counts and values (1); the first cards of every column, with
    # owner and team, in one windowed query (1).
    with django_assert_num_queries(14):
        response = c.get(BOARD)
    assert response.content.decode().count('data-testid="board-card"') == min(n, 80)


def test_moving_a_card_changes_the_stage_and_answers_with_the_board(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Mover")
    response = move(login(org["alice"]), lead, stage="qualified")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="board"' in body
    assert "Mover moved to Qualified." in body and "Mover" in column(body, "qualified")
    assert Lead.objects.get(pk=lead.pk).stage == "qualified"
    assert Activity.objects.get(lead=lead, kind="stage").data == {"from": "new", "to": "qualified", "lost_reason": ""}


def test_the_board_keeps_its_filters_after_a_move(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Kept")
    LeadFactory(owner=org["bob"], team=org["north"], name="Filtered out")
    body = move(login(org["maria"]), lead, query=f"?owner={org['alice'].pk}", stage="proposal").content.decode()
    assert "Kept" in column(body, "proposal") and "Filtered out" not in body
    assert f'hx-post="/leads/board/{lead.pk}/move/?owner={org["alice"].pk}"' in body


def test_moving_to_lost_needs_the_reason(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"], name="Lola")
    c = login(org["alice"])
    body = move(c, lead, stage="lost", lost_reason="").content.decode()
    assert "Say why the lead was lost." in body and "Lola" in column(body, "new")  # back in its column
    assert Lead.objects.get(pk=lead.pk).stage == "new"
    move(c, lead, stage="lost", lost_reason="No budget")
    assert Lead.objects.filter(pk=lead.pk, stage="lost", lost_reason="No budget").exists()


def test_a_refused_move_without_htmx_is_a_400_page_with_the_message(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    c = login(org["alice"])
    response = c.post(f"/leads/board/{lead.pk}/move/", {"stage": "new"})
    assert response.status_code == 400 and "The lead is already New." in response.content.decode()
    response = c.post(f"/leads/board/{lead.pk}/move/", {"stage": "sold"})
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
    response = c.post(f"/leads/board/{lead.pk}/move/?owner={org['alice'].pk}", {"stage": "won"})
    assert response.status_code == 302 and response["Location"] == f"/leads/board/?owner={org['alice'].pk}"


def test_moving_another_teams_or_reps_card_is_refused(org, login):
    south = LeadFactory(owner=org["charlie"], team=org["south"])
    bobs = LeadFactory(owner=org["bob"], team=org["north"])
    response = move(login(org["maria"]), south, stage="won")
    assert response.status_code == 404 and response.content.decode() == "That lead is not one you can see."
    assert move(login(org["alice"]), bobs, stage="won").status_code == 404
    assert login(org["alice"]).post(f"/leads/board/{bobs.pk}/move/", {"stage": "won"}).status_code == 404
    assert Lead.objects.filter(stage="won").count() == 0


def test_a_visible_lead_the_user_may_not_change_is_a_403(org, login, monkeypatch):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    monkeypatch.setattr("leads.selectors.lead_writable_by", lambda user, lead: False)
    response = move(login(org["maria"]), lead, stage="won")
    assert response.status_code == 403 and "Only the lead" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "new"


def test_board_pages_are_get_and_move_is_post_only(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    c = login(org["alice"])
    assert c.post(BOARD).status_code == 405
    assert c.get(f"/leads/board/{lead.pk}/move/").status_code == 405


def test_board_with_junk_filters_still_answers(org, login):
    LeadFactory(owner=org["alice"], team=org["north"], name="Still here")
    response = login(org["maria"]).get(BOARD + "?owner=abc&arrived_from=notadate&sort=zzz")
    assert response.status_code == 200 and "Still here" in response.content.decode()
