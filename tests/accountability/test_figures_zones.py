"""figures_time_zones: the rule of figures_time_zone for many people in one query."""

import pytest

from accountability.timezones import figures_time_zone, figures_time_zones
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_many_people_in_one_query_by_the_same_rule(org, django_assert_num_queries):
    org["north"].time_zone = "Asia/Tokyo"
    org["north"].save()
    org["south"].time_zone = "America/New_York"
    org["south"].save()
    bob = org["bob"]
    bob.time_zone = "Europe/Paris"  # reads the site in Paris; his figures stay in his team's zone
    bob.save()
    MembershipFactory(user=org["alice"], team=TeamFactory(name="Later", time_zone="Europe/London"))
    loner = UserFactory(username="loner", time_zone="Europe/Berlin")
    people = [org[n] for n in ("alice", "bob", "charlie", "maria", "helen", "admin")] + [loner]
    with django_assert_num_queries(1):
        zones = figures_time_zones(people)
    assert (
        {u.username: str(zones[u.pk]) for u in people}
        == {u.username: str(figures_time_zone(u)) for u in people}
        == {
            "alice": "Asia/Tokyo",  # her first team, not the one she joined later
            "bob": "Asia/Tokyo",
            "charlie": "America/New_York",
            "maria": "Asia/Tokyo",  # on no team: the team she manages
            "helen": "UTC",  # Sales keeps the default zone
            "admin": "UTC",
            "loner": "Europe/Berlin",
        }
    )
