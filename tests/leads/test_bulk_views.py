"""The bulk action endpoint behind the lead list's and the neglected report's action bar.

Scoped like one lead: an id the user may not see is a 404 for the whole action, one they may
not change a 403, and nothing changes; bad input comes back with the selection still ticked.
"""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from leads.importing import EXPORT_COLUMNS
from leads.models import Activity, Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

BULK = "/leads/bulk/"


def leads_of(owner, team, n, **kwargs):
    return [LeadFactory(owner=owner, team=team, name=f"{owner.first_name} {i}", **kwargs) for i in range(n)]


def post(client, ids, **data):
    return client.post(BULK, {"ids": [str(i) for i in ids], **data})


def owners(leads) -> list[str]:
    return [Lead.objects.get(pk=x.pk).owner.username for x in leads]


def test_manager_reassigns_the_selection_and_goes_back_to_the_list(org, login):
    leads = leads_of(org["alice"], org["north"], 3)
    c = login(org["maria"])
    response = post(c, [x.pk for x in leads], action="reassign", to_owner=org["bob"].pk, reason="Cover",
                    next="/leads/?stage=new")  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/leads/?stage=new"
    assert owners(leads) == ["bob"] * 3
    page = c.get("/leads/").content.decode()
    assert f"3 leads reassigned to {org['bob']}." in page


def test_next_outside_the_site_is_ignored(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    response = post(login(org["maria"]), [lead.pk], action="stage", stage="won", next="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/leads/"


@pytest.mark.parametrize("action", ["reassign", "stage", "export"])
def test_a_forged_id_of_another_teams_lead_refuses_everything(org, login, action):
    mine = leads_of(org["alice"], org["north"], 2)
    theirs = LeadFactory(owner=org["charlie"], team=org["south"])
    response = post(login(org["maria"]), [mine[0].pk, theirs.pk, mine[1].pk], action=action,
                    to_owner=org["bob"].pk, reason="Cover", stage="won")  # fmt: skip
    assert response.status_code == 404
    assert "Nothing was changed: the selection holds a lead you cannot see" in response.content.decode()
    assert owners([*mine, theirs]) == ["alice", "alice", "charlie"]
    assert not Lead.objects.filter(stage="won").exists()
    assert not Activity.objects.filter(kind__in=["assigned", "stage"], actor=org["maria"]).exists()


def test_an_id_that_does_not_exist_is_refused_the_same_way(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    response = post(login(org["maria"]), [lead.pk, 999999], action="stage", stage="won")
    assert response.status_code == 404 and Lead.objects.get(pk=lead.pk).stage == "new"


def test_rep_cannot_bulk_reassign_like_they_cannot_reassign_one(org, login):
    leads = leads_of(org["alice"], org["north"], 2)
    c = login(org["alice"])
    response = post(c, [x.pk for x in leads], action="reassign", to_owner=org["bob"].pk, reason="Swap")
    assert response.status_code == 403
    assert "only the team&#x27;s manager or an admin can reassign" in response.content.decode()
    assert owners(leads) == ["alice", "alice"]
    assert c.post(f"/leads/{leads[0].pk}/reassign/", {"to_owner": org["bob"].pk, "reason": "x"}).status_code == 403
    # The rep's action bar offers no reassignment.
    assert 'value="reassign"' not in c.get("/leads/").content.decode()


def test_rep_moves_their_own_leads_but_not_a_teammates(org, login):
    mine = leads_of(org["alice"], org["north"], 2)
    bobs = LeadFactory(owner=org["bob"], team=org["north"])
    c = login(org["alice"])
    assert post(c, [mine[0].pk, bobs.pk], action="stage", stage="qualified").status_code == 404
    assert not Lead.objects.filter(stage="qualified").exists()
    assert post(c, [x.pk for x in mine], action="stage", stage="qualified").status_code == 302
    assert list(Lead.objects.filter(stage="qualified").order_by("pk")) == mine


def test_a_lead_the_manager_sees_but_does_not_manage_cannot_be_reassigned(org, login):
    # maria owns a lead of South (she entered it for sam): hers to work, not hers to give away.
    own_elsewhere = LeadFactory(owner=org["maria"], team=org["south"])
    north = LeadFactory(owner=org["alice"], team=org["north"])
    c = login(org["maria"])
    response = post(c, [north.pk, own_elsewhere.pk], action="reassign", to_owner=org["bob"].pk, reason="x")
    assert response.status_code == 403 and owners([north, own_elsewhere]) == ["alice", "maria"]
    assert post(c, [north.pk, own_elsewhere.pk], action="stage", stage="won").status_code == 302


def test_head_of_sales_reassigns_across_teams_only_to_someone_in_each(org, login):
    north = LeadFactory(owner=org["alice"], team=org["north"])
    south = LeadFactory(owner=org["charlie"], team=org["south"])
    c = login(org["helen"])
    response = post(c, [north.pk, south.pk], action="reassign", to_owner=org["bob"].pk, reason="Cover")
    assert response.status_code == 400
    assert f"{org['bob']} is not an active member of South (1 of the selected leads)." in response.content.decode()
    assert owners([north, south]) == ["alice", "charlie"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "stage", "stage": "won"}, "Select at least one lead."),
        ({"action": "explode", "ids": "1"}, "Select a valid choice. explode is not one of the available choices."),
        ({"action": "reassign", "reason": "Cover"}, "Choose the new owner."),
        ({"action": "stage"}, "Choose the new stage."),
        ({"action": "stage", "stage": "sold"}, "Select a valid choice. sold is not one of the available choices."),
        ({"action": "stage", "ids": ["1", "abc"]}, "That selection is not valid: reload the page and select again."),
        ({"action": "stage", "stage": "won", "ids": [str(i) for i in range(1, 102)]},
         "Select at most 100 leads at once (you selected 101)."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message(org, login, data, message):
    LeadFactory(owner=org["alice"], team=org["north"])
    response = login(org["maria"]).post(BULK, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Activity.objects.filter(actor=org["maria"]).exists()


def test_a_missing_reason_comes_back_with_the_selection_and_the_choices_kept(org, login):
    leads = leads_of(org["alice"], org["north"], 2)
    c = login(org["maria"])
    response = post(c, [x.pk for x in leads], action="reassign", to_owner=org["bob"].pk, reason=" ",
                    next="/leads/reports/neglected/")  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 400 and "Say why the leads are being reassigned." in body
    for lead in leads:  # still ticked, so fixing the reason and applying again is enough
        assert f'name="ids" value="{lead.pk}" form="bulk-form" id="bulk-id-{lead.pk}" checked' in body
    assert f'<option value="{org["bob"].pk}" selected>' in body
    assert 'name="next" value="/leads/reports/neglected/"' in body
    assert owners(leads) == ["alice", "alice"]


def test_lost_without_a_reason_asks_for_it(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    response = post(login(org["alice"]), [lead.pk], action="stage", stage="lost", lost_reason="")
    assert response.status_code == 400 and "Say why the leads were lost." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "new"


def test_leads_already_in_the_stage_are_named_and_left_alone(org, login):
    won = LeadFactory(owner=org["alice"], team=org["north"], stage="won", closed_at=timezone.now())
    new = LeadFactory(owner=org["alice"], team=org["north"])
    c = login(org["alice"])
    post(c, [won.pk, new.pk], action="stage", stage="won")
    assert "1 lead moved to Won. 1 lead already Won, left as they were." in c.get("/leads/").content.decode()


def test_export_of_the_selection_has_the_lead_exports_columns_and_only_those_leads(org, login):
    leads = leads_of(org["alice"], org["north"], 3)
    response = post(login(org["maria"]), [leads[0].pk, leads[2].pk], action="export")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [name for name, _ in EXPORT_COLUMNS]
    assert sorted(int(r[0]) for r in rows[1:]) == [leads[0].pk, leads[2].pk]


def test_rep_exports_their_own_selection_only(org, login):
    mine = LeadFactory(owner=org["alice"], team=org["north"])
    bobs = LeadFactory(owner=org["bob"], team=org["north"])
    c = login(org["alice"])
    assert post(c, [mine.pk, bobs.pk], action="export").status_code == 404
    assert post(c, [mine.pk], action="export").status_code == 200


def test_bulk_is_post_only_and_needs_a_login(org, client, login):
    assert client.post(BULK, {"ids": ["1"], "action": "export"}).status_code == 302
    assert login(org["maria"]).get(BULK).status_code == 405


def test_the_list_and_the_neglected_report_offer_the_action_bar(org, login):
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=timezone.now() - dt.timedelta(days=3))
    c = login(org["maria"])
    for url in ("/leads/", "/leads/reports/neglected/"):
        body = c.get(url).content.decode()
        assert 'data-testid="bulk-bar"' in body and 'data-bulk-all aria-label="Select all on this page"' in body
        assert f'name="ids" value="{lead.pk}" form="bulk-form"' in body
        assert f'<option value="{org["bob"].pk}">' in body  # maria may give leads to bob
        assert f'<option value="{org["charlie"].pk}">' not in body  # not to sam's rep
