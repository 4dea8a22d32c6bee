"""The neglected report's page cache (leads.reports.selectors.neglected_page): never a stale row.

A page is cached per scope, filters and page at the leads' data version and the minute; each
write a user makes through the services shows on the next request, and what time alone changes
(a lead becoming neglected, a follow-up falling overdue) at the next minute. Owners' and teams'
names are never cached."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.models import Team
from leads import services
from leads.models import Activity, Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NEGLECTED = reverse("leads:neglected")


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def listed(response):
    return [row["name"] for row in response.context["page"]]


def neglected(owner, hours_ago, name, **kwargs):
    return LeadFactory(owner=owner, arrived_at=ago(hours=hours_ago), name=name, **kwargs)


def test_a_new_neglected_lead_shows_on_the_next_request(org, login):
    neglected(org["alice"], 30, "First")
    client = login(org["maria"])
    assert listed(client.get(NEGLECTED)) == ["First"]
    assert listed(client.get(NEGLECTED)) == ["First"]  # from the cache
    neglected(org["bob"], 40, "Second")
    response = client.get(NEGLECTED)
    assert listed(response) == ["Second", "First"]
    assert "2 neglected leads" in response.content.decode()


def test_a_logged_call_a_stage_change_and_an_edit_show_on_the_next_request(org, login):
    called = neglected(org["alice"], 30, "Called")
    won = neglected(org["alice"], 40, "Won")
    renamed = neglected(org["bob"], 50, "Renamed")
    client = login(org["maria"])
    assert listed(client.get(NEGLECTED)) == ["Renamed", "Won", "Called"]
    services.activity_log(actor=org["alice"], lead=called, kind=Activity.Kind.CALL, outcome="connected")
    assert listed(client.get(NEGLECTED)) == ["Renamed", "Won"]
    services.lead_stage_change(actor=org["alice"], lead=Lead.objects.get(pk=won.pk), stage=Lead.Stage.WON)
    assert listed(client.get(NEGLECTED)) == ["Renamed"]
    services.lead_update(actor=org["bob"], lead=Lead.objects.get(pk=renamed.pk), name="New name", company="",
                         email=renamed.email, phone="", value=renamed.value, notes="")  # fmt: skip
    assert listed(client.get(NEGLECTED)) == ["New name"]


def test_a_reassigned_lead_and_renamed_people_and_teams_show_on_the_next_request(org, login):
    lead = neglected(org["alice"], 30, "Moving")
    client = login(org["maria"])
    body = client.get(NEGLECTED).content.decode()
    assert f"<td>{org['alice']}</td>" in body and "<td>North</td>" in body
    services.lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Cover")
    assert f"<td>{org['bob']}</td>" in client.get(NEGLECTED).content.decode()
    org["bob"].first_name, org["bob"].last_name = "Roberto", "Diaz"
    org["bob"].save(update_fields=["first_name", "last_name"])
    Team.objects.filter(pk=org["north"].pk).update(name="Northern")
    body = client.get(NEGLECTED).content.decode()
    assert "<td>Roberto Diaz</td>" in body and "<td>Northern</td>" in body


def test_an_owner_outside_the_managers_people_is_named(org, login):
    # A lead of North still owned by someone of another team (charlie): named all the same.
    neglected(org["charlie"], 30, "Left behind", team=org["north"])
    body = login(org["maria"]).get(NEGLECTED).content.decode()
    assert f"<td>{org['charlie']}</td>" in body


def test_time_alone_shows_at_the_next_minute(org, login):
    fresh = neglected(org["alice"], 23, "Almost untouched")  # neglected at 24 hours
    soon = neglected(org["alice"], 2, "Follow-up soon")
    services.activity_log(actor=org["alice"], lead=soon, kind=Activity.Kind.CALL, outcome="connected",
                          next_follow_up_at=timezone.now() + timedelta(seconds=20))  # fmt: skip
    client = login(org["maria"])
    assert listed(client.get(NEGLECTED)) == []
    # Nothing was written: only time passed the follow-up's due time, then the 24 hours.
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=2)):
        assert listed(client.get(NEGLECTED)) == ["Follow-up soon"]
    with mock.patch("django.utils.timezone.now", return_value=fresh.arrived_at + timedelta(hours=24, minutes=1)):
        assert listed(client.get(NEGLECTED)) == ["Almost untouched", "Follow-up soon"]


def test_each_scope_and_filter_has_its_own_page(org, login):
    neglected(org["alice"], 30, "North lead")
    neglected(org["charlie"], 40, "South lead")
    assert listed(login(org["helen"]).get(NEGLECTED)) == ["South lead", "North lead"]
    assert listed(login(org["maria"]).get(NEGLECTED)) == ["North lead"]  # not helen's page
    assert listed(login(org["alice"]).get(NEGLECTED)) == ["North lead"]
    assert listed(login(org["bob"]).get(NEGLECTED)) == []  # not alice's
    client = login(org["maria"])
    assert listed(client.get(NEGLECTED, {"owner": org["bob"].pk})) == []
    assert listed(client.get(NEGLECTED, {"hours": 35})) == []
    # Maria is given South: she sees its leads on the next request, no lead having changed.
    Team.objects.filter(pk=org["south"].pk).update(manager=org["maria"])
    assert listed(client.get(NEGLECTED)) == ["South lead", "North lead"]


@pytest.mark.parametrize("n", [3, 60])
def test_a_cached_page_runs_a_constant_number_of_queries(org, login, django_assert_num_queries, n):
    for i in range(n):
        neglected(org["alice"] if i % 2 else org["bob"], 30 + i, f"Lead {i}")
    client = login(org["maria"])
    # The shell's 5, the teams (1), the people (1), the data version (1), the page (1).
    with django_assert_num_queries(9):
        client.get(NEGLECTED)
    # Cached: the page's query is not asked.
    with django_assert_num_queries(8):
        response = client.get(NEGLECTED)
    assert len(listed(response)) == min(n, 50)
