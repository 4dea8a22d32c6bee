"""The scorecard paces weekly, monthly and quarterly KPIs like goals (issue 9, item 12), cuts each
rep's "this week" in their team's zone whoever reads (item 8), and waits before judging (item 14)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accountability.expectations import kpis as kpi_module
from accountability.expectations.models import Kpi
from accountability.pacing import Pacing
from tests.expectations.test_scorecard import cell_texts, publish_kpis
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def frozen(monkeypatch):
    from django.utils import timezone

    def freeze(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return freeze


def verdict(metric, direction, target, value, period, now):
    kpi = Kpi(metric=metric, direction=direction, target=Decimal(target), period=period)
    start, end = kpi_module.period_bounds(period, now, UTC)
    return kpi_module.kpi_verdict(kpi, None if value is None else Decimal(value), kpi.target, start, end, now).state


TUESDAY = dt.datetime(2026, 11, 17, 12, tzinfo=UTC)  # 1.5 of 7 days


@pytest.mark.parametrize(
    ("metric", "direction", "target", "value", "period", "state"),
    [
        ("calls", "at_least", "40", "9", "week", Pacing.ON_TRACK),  # 8.6 expected by Tuesday noon
        ("calls", "at_least", "40", "7", "week", Pacing.AT_RISK),  # 81 %
        ("calls", "at_least", "40", "3", "week", Pacing.BEHIND),
        ("calls", "at_least", "40", "40", "week", Pacing.MET),  # reached: met at once
        ("conversion_rate", "at_least", "20", "19", "month", Pacing.ON_TRACK),  # a level: 95 % of 20
        ("speed_to_lead_median", "at_most", "15", "20", "week", Pacing.AT_RISK),  # 75 %
    ],
)
def test_a_kpi_on_a_tuesday_is_paced_not_failed(metric, direction, target, value, period, state):
    assert verdict(metric, direction, target, value, period, TUESDAY) == state


def test_no_verdict_before_a_tenth_of_the_period_and_one_expected_unit():
    # 5 deals in November: on 4 Nov a tenth has passed but only 0.5 deals are expected
    assert verdict("deals_won", "at_least", "5", "0", "month", dt.datetime(2026, 11, 4, tzinfo=UTC)) == "early"
    # 40 calls a week: on Monday at 12:00 5 calls are expected but not a tenth of the week has passed
    assert verdict("calls", "at_least", "40", "0", "week", dt.datetime(2026, 11, 16, 12, tzinfo=UTC)) == "early"
    assert verdict("calls", "at_least", "40", "0", "week", dt.datetime(2026, 11, 17, 0, tzinfo=UTC)) == "behind"


def test_the_final_verdict_comes_when_the_period_is_over():
    kpi = Kpi(metric="calls", direction="at_least", target=Decimal(40), period="week")
    start, end = kpi_module.period_bounds("week", TUESDAY, UTC)
    assert kpi_module.kpi_verdict(kpi, Decimal(39), kpi.target, start, end, end).state == Pacing.MISSED
    assert kpi_module.kpi_verdict(kpi, Decimal(40), kpi.target, start, end, end).state == Pacing.MET


def test_the_scorecard_page_says_at_risk_on_a_tuesday_not_not_met(org, login, frozen):
    frozen(TUESDAY)
    publish_kpis(org["admin"], [("calls", "at_least", "40", "week")])
    lead = LeadFactory(owner=org["alice"])
    for _ in range(7):
        ActivityFactory(lead=lead, kind="call", actor=org["alice"], occurred_at=TUESDAY - dt.timedelta(hours=1))
    body = login(org["alice"]).get("/expectations/scorecard/").content.decode()
    (cell,) = cell_texts(body, "alice")
    assert "at risk" in cell and "8.6 expected by now" in cell and "met" not in cell


def test_a_tokyo_reps_week_is_her_week_for_a_manager_in_new_york(org, login, frozen):
    north = org["north"]
    north.time_zone = "Asia/Tokyo"
    north.save()
    maria = org["maria"]
    maria.time_zone = "America/New_York"
    maria.save()
    # Monday 16 Nov 01:00 in Tokyo is Sunday 15 Nov 11:00 in New York: a new week in Tokyo only.
    now = frozen(dt.datetime(2026, 11, 15, 16, tzinfo=UTC))
    publish_kpis(org["admin"], [("calls", "at_least", "40", "week")])
    lead = LeadFactory(owner=org["alice"])
    ActivityFactory(lead=lead, kind="call", actor=org["alice"], occurred_at=now - dt.timedelta(minutes=30))  # Monday
    ActivityFactory(lead=lead, kind="call", actor=org["alice"], occurred_at=now - dt.timedelta(hours=2))  # Sunday
    seen = {}
    for user in (org["alice"], maria):
        body = login(user).get("/expectations/scorecard/").content.decode()
        seen[user.username] = body.split('data-user="alice"')[1].split('data-testid="score-value">')[1].split("<")[0]
        assert "16 Nov\u201322 Nov" in body  # her week's dates, not the reader's
    assert seen == {"alice": "1", "maria": "1"}  # her Monday's call only, for both
    start, _ = kpi_module.period_bounds("week", now, ZoneInfo("Asia/Tokyo"))
    assert start == dt.datetime(2026, 11, 16, tzinfo=ZoneInfo("Asia/Tokyo"))
