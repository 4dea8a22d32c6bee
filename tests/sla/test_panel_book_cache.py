"""The lead page's SLA panel reads its policies, business hours, holidays and teams from a book kept
per process (PolicyBook.for_page), keyed by those tables' write counters and the minute: each kind
of write shows on the next view, and the sweeps keep reading the database."""

import datetime as dt

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.models import Team
from leads.sla import selectors, services
from leads.sla.models import BusinessHours, Holiday, SlaPolicy
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

DASH = "\u2013"
LONG_WEEKDAYS = dict.fromkeys(range(5), ("08:00", "20:00"))


def panel(lead) -> str:
    return " ".join(render_to_string("sla/includes/lead_panel.html", {"lead": lead}).split())


def fresh_panel(lead) -> str:
    """What the panel shows from a book read from the database now."""
    selectors._page_books.clear()
    return panel(lead)


@pytest.fixture
def lead(org):
    """A lead not contacted yet, under the organisation default (open all day): its due time is
    computed live from the book on every view."""
    SlaPolicyFactory()
    return LeadFactory(owner=org["alice"], team=org["north"], arrived_at=timezone.now() - dt.timedelta(minutes=5))


def test_a_repeated_view_reads_no_policy_team_or_holiday(org, lead):
    panel(lead)
    with CaptureQueriesContext(connection) as captured:
        html = panel(lead)
    # The lead's open clock and its notices only.
    assert [q["sql"].split(" FROM ")[1].split()[0] for q in captured.captured_queries] == [
        '"sla_slaclock"',
        '"sla_slanotice"',
    ]
    assert html == fresh_panel(lead)


def test_a_policy_change_shows_on_the_next_view(org, lead):
    assert f"every day 00:00{DASH}24:00" in panel(lead)
    policy = SlaPolicy.objects.get(team=None)
    services.sla_policy_save(actor=org["admin"], policy=policy, team=None, hours=LONG_WEEKDAYS, **policy.values())
    html = panel(lead)
    assert f"organisation default v2; team hours Mon{DASH}Fri 08:00{DASH}20:00" in html
    assert html == fresh_panel(lead)


def test_a_team_policy_created_then_deleted_shows_on_the_next_view(org, lead):
    assert "Policy: organisation default v1" in panel(lead)
    team_policy = SlaPolicyFactory(team=org["north"], hours=[(d, 480, 1200) for d in range(5)])
    assert f"Policy: North v1; team hours Mon{DASH}Fri 08:00{DASH}20:00" in panel(lead)
    services.sla_policy_delete(actor=org["admin"], policy=team_policy)
    assert "Policy: organisation default v1" in panel(lead)


def test_business_hours_changed_by_a_queryset_update_show_on_the_next_view(org, lead):
    assert f"every day 00:00{DASH}24:00" in panel(lead)
    BusinessHours.objects.filter(policy__team=None).update(opens=60)
    html = panel(lead)
    assert f"every day 01:00{DASH}24:00" in html and html == fresh_panel(lead)


def test_a_holiday_added_then_removed_moves_the_due_time_on_the_next_view(org, lead):
    before = panel(lead)
    holiday = services.holiday_create(actor=org["admin"], team=None, date=timezone.localdate(), name="Closed")
    closed = panel(lead)
    assert closed != before and closed == fresh_panel(lead)
    services.holiday_delete(actor=org["admin"], holiday=holiday)
    assert panel(lead) == before
    Holiday.objects.create(team=org["north"], date=timezone.localdate(), name="Team day")
    assert panel(lead) == closed


def test_a_team_time_zone_change_shows_on_the_next_view(org, lead):
    assert "(UTC)" in panel(lead)
    team = Team.objects.get(pk=org["north"].pk)
    team.time_zone = "Europe/Paris"
    team.save()
    lead.refresh_from_db()
    html = panel(lead)
    assert "(Europe/Paris)" in html and html == fresh_panel(lead)


def test_a_write_the_counters_cannot_see_shows_at_the_next_minute(org, lead, monkeypatch):
    assert f"every day 00:00{DASH}24:00" in panel(lead)
    with connection.cursor() as cursor:  # raw SQL: no counter moves
        cursor.execute("UPDATE sla_businesshours SET opens = 120")
    assert f"every day 00:00{DASH}24:00" in panel(lead)  # the same minute: the kept book
    later = selectors.time.time() + 60
    monkeypatch.setattr(selectors.time, "time", lambda: later)
    assert f"every day 02:00{DASH}24:00" in panel(lead)


def test_the_panel_shows_when_the_cache_is_unreachable(org, lead, monkeypatch):
    expected = fresh_panel(lead)

    def unreachable(labels):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(selectors.dataversion, "versions", unreachable)
    assert panel(lead) == expected


def test_the_sweep_reads_the_policies_from_the_database(org, lead):
    panel(lead)
    with CaptureQueriesContext(connection) as captured:
        services.sla_sweep(now=timezone.now())
    assert any("sla_slapolicy" in q["sql"] for q in captured.captured_queries)
