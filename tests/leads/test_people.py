"""Deactivating a person moves their open leads by their team's rule (issue 15): leads.people.

North: alice and bob (reps), maria (manager); South: charlie. Alice is deactivated in most tests.
"""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from accountability.models import User
from accountability.notifications.models import Notification
from leads import people
from leads.models import Activity, FollowUp, Lead, TeamIntakeSettings
from leads.sla import services as sla_services
from leads.sla.models import SlaClock
from tests.factories import FollowUpFactory, LeadFactory, MembershipFactory, UserFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _exact_sweep_times(settings):
    settings.SLA_SWEEP_LOOKAHEAD_SECONDS = 0


@pytest.fixture
def dee(org):
    user = UserFactory(username="dee", first_name="Dee", role="rep")
    MembershipFactory(user=user, team=org["north"])
    return user


def alices_leads(org, n=3, **kwargs):
    now = timezone.now()
    return [
        LeadFactory(owner=org["alice"], team=org["north"], arrived_at=now - dt.timedelta(hours=2), **kwargs)
        for _ in range(n)
    ]


def can_log_in(client, username) -> bool:
    client.logout()
    return client.post("/accounts/login/", {"username": username, "password": "test-pass-123"}).status_code == 302


def test_deactivating_moves_open_leads_round_robin_with_timeline_and_follow_ups(org, dee, client):
    leads = alices_leads(org, 4)
    won = LeadFactory(owner=org["alice"], team=org["north"], stage=Lead.Stage.WON, closed_at=timezone.now())
    follow_up = FollowUpFactory(lead=leads[0], due_at=timezone.now() + dt.timedelta(days=1))
    plan = people.person_deactivate(actor=org["admin"], person=org["alice"])
    assert plan.lead_count == 4 and plan.queued_count == 0
    owners = [Lead.objects.get(pk=lead.pk).owner for lead in leads]
    # Round-robin by id after the pointer: bob, dee, bob, dee (both available).
    assert owners == [org["bob"], dee, org["bob"], dee]
    assert Lead.objects.get(pk=won.pk).owner == org["alice"]  # closed leads stay as they were
    follow_up.refresh_from_db()
    assert follow_up.owner == org["bob"] and follow_up.state == FollowUp.State.OPEN
    entry = Activity.objects.filter(lead=leads[0], kind="assigned").latest("id")
    assert entry.actor == org["admin"]
    assert entry.data["from_owner"] == org["alice"].pk and entry.data["to_owner"] == org["bob"].pk
    assert entry.body.startswith("Owner deactivated")
    assert TeamIntakeSettings.objects.get(team=org["north"]).last_assigned == dee  # round-robin goes on
    # One notice per new owner, none to the deactivated person.
    assert Notification.objects.filter(recipient=org["bob"]).count() == 1
    assert "2 leads of Alice" in Notification.objects.get(recipient=org["bob"]).title
    assert not Notification.objects.filter(recipient=org["alice"]).exists()
    assert not User.objects.get(pk=org["alice"].pk).is_active
    assert not can_log_in(client, "alice")


def test_the_timeline_page_says_the_owner_was_deactivated(org, login):
    (lead,) = alices_leads(org, 1)
    people.person_deactivate(actor=org["admin"], person=org["alice"])
    body = login(org["maria"]).get(f"/leads/{lead.pk}/").content.decode()
    assert "Reassigned from Alice" in body and "Owner deactivated" in body


def test_away_reps_and_the_cap_are_respected(org, dee):
    User.objects.filter(pk=org["bob"].pk).update(away_until=timezone.localdate() + dt.timedelta(days=2))
    TeamIntakeSettings.objects.create(team=org["north"], max_open_untouched=2)
    leads = alices_leads(org, 3)  # never contacted: each adds to dee's load
    plan = people.person_deactivate(actor=org["admin"], person=org["alice"])
    assert [Lead.objects.get(pk=lead.pk).owner for lead in leads] == [dee, dee, None]
    assert plan.queued_count == 1
    queued = Activity.objects.filter(lead=leads[2], kind="assigned").latest("id")
    assert queued.data["how"] == "queue" and "no rep of the team can take it today" in queued.body


def test_a_queue_team_gets_the_leads_in_its_queue(org):
    TeamIntakeSettings.objects.create(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    leads = alices_leads(org, 2)
    people.person_deactivate(actor=org["admin"], person=org["alice"])
    assert [Lead.objects.get(pk=lead.pk).owner for lead in leads] == [None, None]
    entry = Activity.objects.filter(lead=leads[0], kind="assigned").latest("id")
    assert "the team uses the unassigned queue" in entry.body


def test_sla_clocks_are_handed_over_as_a_single_reassignment(org):
    """An uncontacted lead whose first-contact clock ran for alice: her clock stops, bob gets a new
    one from the hand-over, and the timeline says so."""
    SlaPolicyFactory()
    (lead,) = alices_leads(org, 1)
    sla_services.sla_sweep(now=timezone.now())
    old = SlaClock.objects.get(lead=lead, kind="first_contact")
    people.person_deactivate(actor=org["admin"], person=org["alice"])
    old.refresh_from_db()
    lead.refresh_from_db()
    assert old.state == "reassigned"
    new = SlaClock.objects.get(lead=lead, state="active")
    assert new.anchor_at == lead.assigned_at and new.due_at == lead.assigned_at + dt.timedelta(minutes=15)
    assert "handed over to Bob" in new.explanation
    handover = Activity.objects.get(lead=lead, kind="sla_handover")
    assert "Stopped Alice" in handover.body and handover.data["to_owner"] == org["bob"].pk


def test_sla_clocks_of_a_lead_put_in_the_queue_start_for_the_queue(org):
    SlaPolicyFactory()
    TeamIntakeSettings.objects.create(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    (lead,) = alices_leads(org, 1)
    sla_services.sla_sweep(now=timezone.now())
    people.person_deactivate(actor=org["admin"], person=org["alice"])
    new = SlaClock.objects.get(lead=lead, state="active")
    assert "handed over to the team's unassigned queue" in new.explanation
    assert Activity.objects.get(lead=lead, kind="sla_handover").data["to_owner"] is None


def test_deactivation_is_all_or_nothing(org, dee):
    leads = alices_leads(org, 3)
    real = people._to_rep
    calls = []

    def fail_on_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(**kwargs)

    with mock.patch.object(people, "_to_rep", side_effect=fail_on_third), pytest.raises(RuntimeError):
        people.person_deactivate(actor=org["admin"], person=org["alice"])
    assert User.objects.get(pk=org["alice"].pk).is_active
    assert all(Lead.objects.get(pk=lead.pk).owner == org["alice"] for lead in leads)
    assert not Activity.objects.filter(kind="assigned", body__startswith="Owner deactivated").exists()


def test_the_preview_says_how_many_leads_move_and_to_whom(org, dee, login):
    alices_leads(org, 3)
    client = login(org["admin"])
    url = f"/settings/people/{org['alice'].pk}/deactivate/"
    body = client.get(url).content.decode()
    assert "3 open leads will move" in body
    assert "2 to Bob" in body and "1 to Dee" in body
    assert User.objects.get(pk=org["alice"].pk).is_active  # a preview changes nothing
    assert client.post(url, {}).status_code == 200  # without confirm=yes: the preview again
    assert User.objects.get(pk=org["alice"].pk).is_active
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert Lead.objects.filter(owner=org["bob"]).count() == 2 and Lead.objects.filter(owner=dee).count() == 1


def test_the_preview_warns_about_teams_they_manage(org, login):
    body = login(org["admin"]).get(f"/settings/people/{org['maria'].pk}/deactivate/").content.decode()
    assert "They manage North" in body and "They own no open lead" in body


def test_a_deactivated_persons_session_ends(org, client, login):
    alice_client = login(org["alice"])
    assert alice_client.get("/").status_code == 200
    people.person_deactivate(actor=org["admin"], person=org["alice"])
    assert alice_client.get("/").status_code == 302  # back to the log-in page


def test_reactivating_keeps_the_leads_with_their_new_owners(org, login):
    (lead,) = alices_leads(org, 1)
    client = login(org["admin"])
    client.post(f"/settings/people/{org['alice'].pk}/deactivate/", {"confirm": "yes"})
    client.post(f"/settings/people/{org['alice'].pk}/reactivate/")
    assert User.objects.get(pk=org["alice"].pk).is_active
    assert Lead.objects.get(pk=lead.pk).owner == org["bob"]


def test_admins_cannot_deactivate_themselves_or_twice(org, login):
    client = login(org["admin"])
    response = client.post(f"/settings/people/{org['admin'].pk}/deactivate/", {"confirm": "yes"})
    assert response.status_code == 200 and "cannot deactivate yourself" in response.content.decode()
    assert User.objects.get(pk=org["admin"].pk).is_active
    client.post(f"/settings/people/{org['bob'].pk}/deactivate/", {"confirm": "yes"})
    again = client.post(f"/settings/people/{org['bob'].pk}/deactivate/", {"confirm": "yes"})
    assert again.status_code == 200 and "already deactivated" in again.content.decode()


@pytest.mark.parametrize("persona", ["alice", "maria", "helen"])
def test_only_admins_deactivate(org, login, persona):
    alices_leads(org, 1)
    client = login(org[persona])
    url = f"/settings/people/{org['bob'].pk}/deactivate/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    assert User.objects.get(pk=org["bob"].pk).is_active


def test_deactivating_an_unknown_person_is_404(org, login):
    assert login(org["admin"]).get("/settings/people/999999/deactivate/").status_code == 404


@pytest.mark.parametrize("leads_count", [3, 30])
def test_the_preview_runs_a_constant_number_of_queries(org, dee, login, django_assert_num_queries, leads_count):
    alices_leads(org, leads_count)
    client = login(org["admin"])
    url = f"/settings/people/{org['alice'].pk}/deactivate/"
    client.get(url)
    # session, user, zone, unread count; the person, their open leads (with team and owner),
    # the team's intake row, its available reps, the teams they manage: 9.
    with django_assert_num_queries(9):
        assert client.get(url).status_code == 200
