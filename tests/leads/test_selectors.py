import pytest
from django.http import Http404

from leads.selectors import lead_get_for_user, leads_visible_to
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_lead_visibility_by_role(org):
    a = LeadFactory(owner=org["alice"])
    b = LeadFactory(owner=org["bob"])
    c = LeadFactory(owner=org["charlie"])
    assert set(leads_visible_to(org["alice"])) == {a}
    assert set(leads_visible_to(org["maria"])) == {a, b}
    assert set(leads_visible_to(org["sam"])) == {c}
    assert set(leads_visible_to(org["helen"])) == {a, b, c}
    assert set(leads_visible_to(org["admin"])) == {a, b, c}


def test_unassigned_lead_in_queue_is_visible_to_the_team_manager(org):
    queued = LeadFactory(owner=None, team=org["north"])
    assert queued in leads_visible_to(org["maria"])
    assert queued not in leads_visible_to(org["sam"])


def test_rep_gets_404_for_another_reps_lead(org):
    c = LeadFactory(owner=org["charlie"])
    with pytest.raises(Http404):
        lead_get_for_user(org["alice"], c.pk)
    assert lead_get_for_user(org["charlie"], c.pk) == c
