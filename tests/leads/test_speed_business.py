"""Speed to lead is counted in the team's business time (issue 9, item 13).

A lead that arrives on Friday evening and is called at Monday's opening was contacted within
minutes of business time: that is the figure judged against the SLA, stored on the lead when the
first contact is logged, with the hours of the policy version the lead's clock used. The
wall-clock time stays visible beside it.
"""

import datetime as dt
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from leads import metrics
from leads.management.commands.bench_leads import Command as BenchCommand
from leads.models import Lead
from leads.services import activity_log
from leads.sla import services as sla_services
from leads.sla.models import SlaClock
from tests.factories import LeadFactory, TeamFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

OFFICE_HOURS = [(day, 9 * 60, 17 * 60) for day in range(5)]  # Monday to Friday 09:00-17:00
FRIDAY_EVENING = dt.datetime(2025, 11, 21, 18, 0, tzinfo=dt.UTC)  # a Friday
MONDAY_0907 = dt.datetime(2025, 11, 24, 9, 7, tzinfo=dt.UTC)
WALL_MINUTES = (MONDAY_0907 - FRIDAY_EVENING).total_seconds() / 60  # 3787: 63 h 07


def office_policy(**kwargs):
    return SlaPolicyFactory(hours=OFFICE_HOURS, **kwargs)


def new_lead(owner, arrived_at):
    return LeadFactory(owner=owner, team=owner.teams.first(), received_by=owner, arrived_at=arrived_at)


def call(lead, at):
    return activity_log(actor=lead.owner, lead=lead, kind="call", outcome="connected", occurred_at=at)


def test_first_contact_stores_business_minutes_in_the_teams_hours(org):
    office_policy()
    lead = new_lead(org["alice"], FRIDAY_EVENING)
    call(lead, MONDAY_0907)
    lead.refresh_from_db()
    assert lead.first_contact_business_minutes == pytest.approx(7.0)
    assert (lead.speed_to_lead_business, lead.speed_to_lead_wall) == (Decimal("7.0"), Decimal("3787.0"))
    # Computed once: a later contact does not move it.
    call(lead, MONDAY_0907 + dt.timedelta(hours=2))
    lead.refresh_from_db()
    assert lead.first_contact_business_minutes == pytest.approx(7.0)


def test_business_minutes_use_the_policy_version_the_clock_used(org):
    policy = office_policy()
    # Version 1 is open all day, every day; the lead's first-contact clock is computed with it.
    sla_services.sla_policy_save(
        actor=org["admin"], policy=policy, team=None, hours=dict.fromkeys(range(7), ("00:00", "24:00")),
        **{**policy.values(), "first_contact_minutes": 15},
    )  # fmt: skip
    lead = new_lead(org["alice"], FRIDAY_EVENING)
    sla_services.sla_sweep(now=FRIDAY_EVENING + dt.timedelta(minutes=20))
    clock = SlaClock.objects.get(lead=lead)
    assert clock.policy_values["hours"] == [[day, 0, 1440] for day in range(7)]
    # The policy changes to office hours afterwards: the lead is still counted in its version's hours.
    policy.refresh_from_db()
    sla_services.sla_policy_save(
        actor=org["admin"], policy=policy, team=None,
        hours=dict.fromkeys(range(5), ("09:00", "17:00")), **policy.values(),
    )  # fmt: skip
    call(lead, MONDAY_0907)
    lead.refresh_from_db()
    assert lead.first_contact_business_minutes == pytest.approx(WALL_MINUTES)


def test_speed_to_lead_figures_are_business_time_with_wall_clock_beside(org):
    office_policy()
    alice = org["alice"]
    weekend = new_lead(alice, FRIDAY_EVENING)
    call(weekend, MONDAY_0907)  # 7 business minutes, 3787 wall-clock minutes
    quick = new_lead(alice, MONDAY_0907 + dt.timedelta(hours=1))
    call(quick, MONDAY_0907 + dt.timedelta(hours=1, minutes=3))  # 3 and 3
    period = metrics.Period(FRIDAY_EVENING - dt.timedelta(days=1), MONDAY_0907 + dt.timedelta(days=1))
    card = metrics.rep_scorecards(period=period, users=[alice])[alice.pk]
    assert card.speed_to_lead_median == Decimal("5.0")
    assert card.speed_to_lead_p90 == Decimal("6.6")
    assert card.speed_to_lead_wall_median == Decimal("1895.0")
    assert card.speed_to_lead_wall_p90 == Decimal(str(round(3 + 0.9 * (WALL_MINUTES - 3), 1)))
    total = metrics.total_scorecard(period=period, team=org["north"])
    assert (total.speed_to_lead_median, total.speed_to_lead_wall_median) == (Decimal("5.0"), Decimal("1895.0"))
    # The KPIs and goals read the Metric: the business figure, like the SLA they are judged against.
    assert metrics.metric_value("speed_to_lead_median", period=period, user=alice) == Decimal("5.0")
    assert metrics.metric_values_by_user("speed_to_lead_p90", period=period, users=[alice]) == {
        alice.pk: Decimal("6.6")
    }


def last_friday_evening() -> dt.datetime:
    """A Friday 18:00 UTC at least a week ago (its Monday is in the past, both within 30 days)."""
    today = timezone.now().date()
    friday = today - dt.timedelta(days=(today.weekday() - 4) % 7 + 7)
    return dt.datetime.combine(friday, dt.time(18), tzinfo=dt.UTC)


def test_dashboard_and_lead_page_show_business_and_wall_clock(org, login):
    office_policy()
    arrived = last_friday_evening()
    lead = new_lead(org["alice"], arrived)
    call(lead, arrived + dt.timedelta(days=2, hours=15, minutes=7))  # Monday 09:07
    client = login(org["alice"])
    body = client.get(reverse("leads:dashboard")).content.decode()
    assert "Speed to lead, median (business / wall clock)" in body
    # Each figure is its own link to the rows behind it (business, then wall clock).
    assert re.search(r'data-figure="speed_to_lead_median" title="Business time"><a [^>]*>7 min</a></span>', body)
    wall = r'data-figure="speed_to_lead_wall_median" title="Wall-clock time">/ <a [^>]*>2.6 d</a></span>'
    assert re.search(wall, body)
    page = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Speed to lead (business / wall clock)" in page
    assert "7 min / 2.6 d" in page


def test_backfill_fills_contacted_leads_in_batches_with_the_live_policy(org, monkeypatch):
    office_policy()
    migration = importlib.import_module("leads.sla.migrations.0004_backfill_first_contact_business_minutes")
    monkeypatch.setattr(migration, "BATCH", 1)
    alice = org["alice"]
    weekend = LeadFactory(
        owner=alice, arrived_at=FRIDAY_EVENING, first_contacted_at=MONDAY_0907, first_contact_business_minutes=None
    )
    quick = LeadFactory(
        owner=alice,
        arrived_at=MONDAY_0907,
        first_contacted_at=MONDAY_0907 + dt.timedelta(minutes=4),
        first_contact_business_minutes=None,
    )
    untouched = LeadFactory(owner=alice, arrived_at=FRIDAY_EVENING)
    already = LeadFactory(
        owner=alice, arrived_at=FRIDAY_EVENING, first_contacted_at=MONDAY_0907, first_contact_business_minutes=1.5
    )
    migration.backfill(apps, None)
    values = dict(Lead.objects.values_list("pk", "first_contact_business_minutes"))
    assert values[weekend.pk] == pytest.approx(7.0)
    assert values[quick.pk] == pytest.approx(4.0)
    assert values[untouched.pk] is None
    assert values[already.pk] == 1.5  # only nulls are filled: safe to run again


@pytest.mark.skipif(connection.vendor != "postgresql", reason="bench_leads is PostgreSQL only")
def test_bench_sets_business_minutes_as_the_service_would(org):
    """The bench has no SLA policy: the built-in Monday-Friday 09:00-17:00 in each team's zone."""
    from leads.sla.selectors import first_contact_business_minutes

    east = TeamFactory(name="East coast", time_zone="America/New_York")
    alice = org["alice"]
    cases = [
        (FRIDAY_EVENING, MONDAY_0907 + dt.timedelta(hours=6)),  # over a weekend, New York hours
        (MONDAY_0907 + dt.timedelta(hours=5), MONDAY_0907 + dt.timedelta(hours=5, minutes=42)),
        (MONDAY_0907, MONDAY_0907 + dt.timedelta(days=9)),  # two weekends
    ]
    leads = [
        LeadFactory(owner=alice, team=east, arrived_at=a, first_contacted_at=c, first_contact_business_minutes=None)
        for a, c in cases
    ]
    with connection.cursor() as cursor:
        BenchCommand.set_business_speed(cursor)
    for lead in leads:
        expected = first_contact_business_minutes(lead, lead.first_contacted_at)
        lead.refresh_from_db()
        assert lead.first_contact_business_minutes == pytest.approx(expected, abs=0.01)
    assert leads[1].first_contact_business_minutes == pytest.approx(42.0)


def test_lead_page_rounds_speed_to_lead_like_the_dashboard(org, login):
    office_policy()
    monday_10 = last_friday_evening() + dt.timedelta(days=2, hours=16)
    lead = new_lead(org["alice"], monday_10)
    call(lead, monday_10 + dt.timedelta(minutes=2, seconds=20))
    page = login(org["alice"]).get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "2.3 min / 2.3 min" in page
