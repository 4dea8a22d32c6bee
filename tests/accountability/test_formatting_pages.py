"""Pages of each app write numbers, money and dates the one way of the formatting filters (item 15)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.expectations.test_scorecard import publish_kpis
from tests.factories import LeadFactory
from tests.goals.factories import GoalFactory

pytestmark = pytest.mark.django_db


def test_goal_page_writes_figures_with_thousands_separators(login, alice, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 16, tzinfo=dt.UTC))
    goal = GoalFactory(owner=alice, metric="manual", unit="euros", target=Decimal(25000), title="Big")
    from tests.goals.factories import CheckInFactory

    CheckInFactory(goal=goal, value=Decimal(80500))
    text = login(alice).get(reverse("goals:goal-detail", args=[goal.pk])).text
    assert '<span data-testid="actual">80,500</span>' in text and "/ 25,000 euros" in text
    assert "1 Nov 2026" in text and "30 Nov 2026" in text  # the period, dates one way


def test_lead_page_and_list_write_money_in_the_organisations_currency(login, alice, settings):
    lead = LeadFactory(owner=alice, value=Decimal("64000.00"), arrived_at=dt.datetime(2026, 12, 1, 9, 5, tzinfo=dt.UTC))
    page = login(alice).get(reverse("leads:lead-detail", args=[lead.pk])).text
    assert "$64,000" in page and "1 Dec 2026 09:05" in page
    settings.CURRENCY = "EUR"
    assert "€64,000" in login(alice).get(reverse("leads:lead-list")).text


def test_dashboard_writes_value_won_as_money(login, alice, maria):
    LeadFactory(owner=alice, stage="won", closed_at=timezone.now(), value=Decimal(64000))
    text = login(maria).get(reverse("leads:dashboard")).text
    row = text.split('data-rep="alice"')[1].split("</tr>")[0]
    cell = row.split('data-figure="value_won">')[1].split("</td>")[0]
    assert ">$64,000</a>" in cell  # the figure, as money, opening the won leads behind it


def test_neglected_report_writes_dates_like_every_other_page(login, alice, maria):
    LeadFactory(owner=alice, arrived_at=dt.datetime(2026, 1, 15, 15, tzinfo=dt.UTC))
    text = login(maria).get(reverse("leads:neglected")).text
    assert "15 Jan 2026 15:00" in text and "2026-01-15 15:00" not in text


def test_expectations_pages_write_dates_and_targets_one_way(org, login):
    version = publish_kpis(org["admin"], [("value_won", "at_least", "25000", "month")])
    page = login(org["alice"]).get("/expectations/").text
    assert "25,000" in page
    assert f"{version.published_at.day} {version.published_at:%b %Y}" in page
