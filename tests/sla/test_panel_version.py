"""The lead page's SLA box describes the policy version its due time was computed with, and says
when a newer one applies (issue 9, item 10).

It said "organisation default v1; team hours Mon-Fri 08:00-20:00" for a v1 that was open 24/7:
the version number came from the clock and the hours from today's policy.
"""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from leads.sla import services
from leads.sla.models import SlaClock
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

ALL_DAY = dict.fromkeys(range(7), ("00:00", "24:00"))
LONG_WEEKDAYS = dict.fromkeys(range(5), ("08:00", "20:00"))
DASH = "\u2013"


def panel(lead) -> str:
    return " ".join(render_to_string("sla/includes/lead_panel.html", {"lead": lead}).split())


def save(policy, actor, *, team=None, hours, **changes):
    values = {**policy.values(), **changes}
    return services.sla_policy_save(actor=actor, policy=policy, team=team, hours=hours, **values)


@pytest.fixture
def timed_lead(org):
    """Alice's lead, timed under the organisation default v1 (open all day, every day)."""
    policy = SlaPolicyFactory()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=timezone.now() - dt.timedelta(minutes=12))
    services.sla_sweep(now=timezone.now())
    clock = SlaClock.objects.get(lead=lead)
    assert clock.policy_version == 1
    return lead, policy


def test_panel_describes_the_version_the_due_time_was_computed_with(org, timed_lead):
    lead, policy = timed_lead
    save(policy, org["admin"], hours=LONG_WEEKDAYS)  # v2: Monday to Friday 08:00-20:00
    html = panel(lead)
    assert f"Policy: organisation default v1; team hours every day 00:00{DASH}24:00 (UTC)." in html
    assert f"Mon{DASH}Fri 08:00{DASH}20:00 (UTC)." not in html.split("A newer")[0]
    assert (
        f"A newer version applies to new due times: organisation default v2, team hours Mon{DASH}Fri "
        f"08:00{DASH}20:00; this due time keeps the version it was computed with."
    ) in html


def test_panel_names_the_policy_the_clock_used_when_the_team_got_its_own(org, timed_lead):
    lead, _ = timed_lead
    SlaPolicyFactory(team=org["north"], hours=[(d, 480, 1200) for d in range(5)])
    html = panel(lead)
    # Both are "v1": the old box printed the team's name with the clock's version number.
    assert f"Policy: organisation default v1; team hours every day 00:00{DASH}24:00 (UTC)." in html
    assert f"A newer version applies to new due times: North v1, team hours Mon{DASH}Fri 08:00{DASH}20:00" in html


def test_panel_of_a_current_version_says_nothing_about_newer_ones(org, timed_lead):
    lead, _ = timed_lead
    html = panel(lead)
    assert f"Policy: organisation default v1; team hours every day 00:00{DASH}24:00 (UTC)." in html
    assert "newer" not in html


def test_a_clock_from_before_hours_were_stored_says_so_for_an_old_version(org, timed_lead):
    lead, policy = timed_lead
    SlaClock.objects.filter(lead=lead).update(policy_values=policy.values())  # no "hours" key
    assert f"team hours every day 00:00{DASH}24:00" in panel(lead)  # still the live version: its hours
    save(policy, org["admin"], hours=LONG_WEEKDAYS)
    html = panel(lead)
    assert "Policy: organisation default v1; team hours not recorded for this version (UTC)." in html


def test_lead_page_shows_the_applied_version(org, login, timed_lead):
    lead, policy = timed_lead
    save(policy, org["admin"], hours=LONG_WEEKDAYS)
    body = " ".join(login(org["alice"]).get(reverse("leads:lead-detail", args=[lead.pk])).content.decode().split())
    assert f"Policy: organisation default v1; team hours every day 00:00{DASH}24:00 (UTC)." in body
    assert "A newer version applies to new due times: organisation default v2" in body
