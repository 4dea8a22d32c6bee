"""The team dashboard's figures cache (leads.reports.pagecache): never a stale figure.

A view is cached per team set, period, data version and minute; each write a user makes through
the services, and time passing a follow-up's due time, shows on the next request."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import services
from leads.models import Activity, Lead
from tests.factories import FollowUpFactory
from tests.leads.factories_metrics import received_lead

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("leads:dashboard")


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def cards(response):
    return {rep.username: card for rep, card in response.context["rows"]}


def test_a_new_lead_shows_on_the_next_request(org, login):
    client = login(org["maria"])
    received_lead(org["alice"], arrived_at=ago(days=1))
    assert cards(client.get(DASHBOARD))["alice"].leads_received == 1
    assert cards(client.get(DASHBOARD))["alice"].leads_received == 1  # from the cache
    received_lead(org["alice"], arrived_at=ago(minutes=5))
    response = client.get(DASHBOARD)
    assert cards(response)["alice"].leads_received == 2
    assert response.context["total"].leads_received == 2


def test_a_logged_call_and_a_stage_change_show_on_the_next_request(org, login):
    lead = received_lead(org["alice"], arrived_at=ago(days=1), contacted_after=timedelta(minutes=3))
    client = login(org["maria"])
    before = cards(client.get(DASHBOARD))["alice"]
    assert before.deals_won == 0
    services.activity_log(actor=org["alice"], lead=lead, kind=Activity.Kind.CALL, outcome="connected")
    after_call = cards(client.get(DASHBOARD))["alice"]
    assert after_call.activities_by_kind["call"] == before.activities_by_kind["call"] + 1
    services.lead_stage_change(actor=org["alice"], lead=Lead.objects.get(pk=lead.pk), stage=Lead.Stage.WON)
    response = client.get(DASHBOARD)
    assert cards(response)["alice"].deals_won == 1
    assert response.context["total"].deals_won == 1


def test_a_follow_up_falling_overdue_shows_as_missed_at_the_next_minute(org, login):
    lead = received_lead(org["alice"], arrived_at=ago(days=1), contacted_after=timedelta(minutes=3))
    FollowUpFactory(lead=lead, owner=org["alice"], due_at=timezone.now() + timedelta(seconds=20))
    client = login(org["maria"])
    assert cards(client.get(DASHBOARD))["alice"].follow_ups_missed == 0
    later = timezone.now() + timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        # Nothing was written: only time passed its due time.
        assert cards(client.get(DASHBOARD))["alice"].follow_ups_missed == 1


def test_the_rep_sees_the_numbers_their_manager_sees_cached_or_not(org, login):
    received_lead(org["alice"], arrived_at=ago(days=2), contacted_after=timedelta(minutes=12))
    received_lead(org["alice"], arrived_at=ago(hours=3))
    manager = cards(login(org["maria"]).get(DASHBOARD))["alice"]  # fills the cache
    again = cards(login(org["maria"]).get(DASHBOARD))["alice"]  # read from it
    mine = cards(login(org["alice"]).get(DASHBOARD))["alice"]  # My numbers: computed for her
    assert manager == again == mine


def test_a_renamed_rep_and_a_new_member_show_on_the_next_request(org, login):
    from tests.factories import MembershipFactory, UserFactory

    client = login(org["maria"])
    client.get(DASHBOARD)
    org["bob"].first_name = "Roberto"
    org["bob"].save(update_fields=["first_name"])
    newcomer = UserFactory(username="newcomer", first_name="Nia")
    MembershipFactory(user=newcomer, team=org["north"])
    body = client.get(DASHBOARD).content.decode()
    assert "Roberto" in body and "Nia" in body


def test_the_review_dashboard_reads_the_same_cached_figures_and_sees_a_new_lead(org, login):
    received_lead(org["alice"], arrived_at=ago(days=1))
    client = login(org["maria"])
    leads_card = cards(client.get(DASHBOARD))["alice"]  # fills the team's figures
    review = client.get(reverse("reviews:dashboard"))
    review_card = {row.rep.username: row.card for row in review.context["rows"]}["alice"]
    assert review_card == leads_card
    received_lead(org["alice"], arrived_at=ago(minutes=2))
    review = client.get(reverse("reviews:dashboard"))
    assert {row.rep.username: row.card for row in review.context["rows"]}["alice"].leads_received == 2
