"""Every page is in the signed-in person's time zone (UserTimeZoneMiddleware), one rule for all."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.models import User
from accountability.timezones import user_time_zone
from leads.models import Lead
from tests.accountability.people_forms import person_post_data
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

# 15:00 UTC on 15 January 2026 is 10:00 in New York (EST, UTC-5) and 00:00 next day in Tokyo.
ARRIVED = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)


def test_own_zone_then_first_team_then_managed_team_then_site(org, django_assert_num_queries):
    org["north"].time_zone = "America/New_York"
    org["north"].save()
    alice = User.objects.get(pk=org["alice"].pk)
    with django_assert_num_queries(1):  # one query, then cached on the user object
        assert user_time_zone(alice) == ZoneInfo("America/New_York")  # North, her team
        assert user_time_zone(alice) == ZoneInfo("America/New_York")
    alice.time_zone = "Asia/Tokyo"
    with django_assert_num_queries(0):
        assert user_time_zone(alice) == ZoneInfo("Asia/Tokyo")  # her own wins
    maria = User.objects.get(pk=org["maria"].pk)  # a manager on no team: the team she manages
    assert user_time_zone(maria) == ZoneInfo("America/New_York")
    loner = UserFactory(username="loner")
    assert user_time_zone(loner) == ZoneInfo("UTC")  # settings.TIME_ZONE


def test_a_new_york_manager_sees_new_york_times_on_another_apps_page(org, login):
    maria = org["maria"]
    maria.time_zone = "America/New_York"
    maria.save()
    LeadFactory(owner=org["alice"], name="Old lead", arrived_at=ARRIVED)  # never contacted: neglected
    c = login(maria)
    body = c.get(reverse("leads:neglected")).content.decode()
    assert "15 Jan 2026 10:00" in body and "15 Jan 2026 15:00" not in body
    assert "Times in America/New_York" in body
    assert timezone.get_current_timezone_name() == "UTC"  # not left on for the next request
    # the leads pages say the same moment
    assert "15 Jan 2026 10:00" in c.get("/leads/").content.decode()


def test_a_rep_without_a_zone_reads_in_their_teams_zone(org, login):
    org["north"].time_zone = "Asia/Tokyo"
    org["north"].save()
    lead = LeadFactory(owner=org["alice"], name="Night lead")
    Lead.objects.filter(pk=lead.pk).update(arrived_at=ARRIVED)
    body = login(org["alice"]).get(f"/leads/{lead.pk}/").content.decode()
    assert "16 Jan 2026 00:00" in body and "Times in Asia/Tokyo" in body


def test_anonymous_pages_stay_in_the_site_zone(client):
    assert "Times in" not in client.get("/accounts/login/").content.decode()
    assert timezone.get_current_timezone_name() == "UTC"


def test_admin_sets_a_persons_time_zone(org, login):
    client = login(org["admin"])
    url = f"/settings/people/{org['bob'].pk}/"
    assert 'value="America/New_York"' in client.get(url).content.decode()
    response = client.post(url, person_post_data(org["bob"], time_zone="America/New_York"))
    assert response.status_code == 302
    assert User.objects.get(pk=org["bob"].pk).time_zone == "America/New_York"
    client.post(url, person_post_data(org["bob"], time_zone=""))  # back to the team's zone
    assert User.objects.get(pk=org["bob"].pk).time_zone == ""


def test_a_bad_time_zone_is_refused_and_nothing_changes(org, login):
    client = login(org["admin"])
    response = client.post(
        f"/settings/people/{org['bob'].pk}/",
        person_post_data(org["bob"], role="manager", phone="+1 415 555 2671", time_zone="Mars/Olympus"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Select a valid choice" in body and 'value="+1 415 555 2671"' in body
    bob = User.objects.get(pk=org["bob"].pk)
    assert (bob.time_zone, bob.role, bob.phone) == ("", "rep", "")
