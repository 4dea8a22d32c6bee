"""Pacing, hand-computed. November 2026 has 30 days: at 16 Nov 00:00 half the period has elapsed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from goals.models import GoalSettings, Pacing
from goals.progress import Thresholds, elapsed_fraction, goals_progress, pace, thresholds_get
from tests.goals.factories import CheckInFactory, GoalFactory

T = Thresholds()  # at risk below 90 %, behind below 70 %
HALF = Decimal("0.5")


def at(day, hour=0):
    return dt.datetime(2026, 11, day, hour, tzinfo=timezone.get_default_timezone())


@pytest.mark.parametrize(
    ("actual", "state", "ratio"),
    [
        # target 100 calls, half the month gone: 50 expected by now
        (Decimal(46), Pacing.ON_TRACK, Decimal("92.0")),  # 46/50 = 92 % >= 90
        (Decimal(45), Pacing.ON_TRACK, Decimal("90.0")),  # exactly at the threshold is on track
        (Decimal(40), Pacing.AT_RISK, Decimal("80.0")),  # 80 %: below 90, not below 70
        (Decimal(35), Pacing.AT_RISK, Decimal("70.0")),
        (Decimal(30), Pacing.BEHIND, Decimal("60.0")),
        (Decimal(0), Pacing.BEHIND, Decimal("0.0")),
    ],
)
def test_cumulative_at_least_mid_period(actual, state, ratio):
    p = pace(actual=actual, target=Decimal(100), direction="up", cumulative=True, fraction=HALF, thresholds=T)
    assert p.expected == Decimal("50.00")
    assert (p.state, p.ratio) == (state, ratio)


def test_cumulative_at_least_reaching_the_target_early_is_met():
    p = pace(actual=Decimal(100), target=Decimal(100), direction="up", cumulative=True, fraction=HALF, thresholds=T)
    assert p.state == Pacing.MET


def test_level_metric_is_expected_at_target_all_along():
    # conversion rate at least 20 %: 19 % mid-period is 95 % of the expected 20 -> on track; 15 % is 75 % -> at risk
    p = pace(actual=Decimal(19), target=Decimal(20), direction="up", cumulative=False, fraction=HALF, thresholds=T)
    assert (p.expected, p.state) == (Decimal("20.00"), Pacing.ON_TRACK)
    p = pace(actual=Decimal(15), target=Decimal(20), direction="up", cumulative=False, fraction=HALF, thresholds=T)
    assert (p.ratio, p.state) == (Decimal("75.0"), Pacing.AT_RISK)


@pytest.mark.parametrize(
    ("actual", "state", "ratio"),
    [
        # speed to lead at most 30 minutes: the ratio is inverted (target / actual)
        (Decimal(25), Pacing.ON_TRACK, Decimal("120.0")),
        (Decimal(32), Pacing.ON_TRACK, Decimal("93.8")),  # 30/32 = 93.75 %
        (Decimal(40), Pacing.AT_RISK, Decimal("75.0")),  # 30/40
        (Decimal(60), Pacing.BEHIND, Decimal("50.0")),  # 30/60
        (Decimal(0), Pacing.ON_TRACK, None),  # nothing at all is perfect
    ],
)
def test_at_most_level_metric(actual, state, ratio):
    p = pace(actual=actual, target=Decimal(30), direction="down", cumulative=False, fraction=HALF, thresholds=T)
    assert (p.state, p.ratio) == (state, ratio)


def test_at_most_cumulative_metric_spends_its_budget_linearly():
    # at most 10 complaints in the month; half-way 5 are "allowed": 6 is 83 % -> at risk, 8 is 62.5 % -> behind
    p = pace(actual=Decimal(6), target=Decimal(10), direction="down", cumulative=True, fraction=HALF, thresholds=T)
    assert (p.expected, p.ratio, p.state) == (Decimal("5.00"), Decimal("83.3"), Pacing.AT_RISK)
    p = pace(actual=Decimal(8), target=Decimal(10), direction="down", cumulative=True, fraction=HALF, thresholds=T)
    assert p.state == Pacing.BEHIND


@pytest.mark.parametrize(
    ("direction", "actual", "state"),
    [
        ("up", Decimal(100), Pacing.MET),
        ("up", Decimal("99.99"), Pacing.MISSED),
        ("up", None, Pacing.MISSED),  # no data at the end is a miss
        ("down", Decimal(30), Pacing.MET),
        ("down", Decimal(31), Pacing.MISSED),
    ],
)
def test_period_ended_is_met_or_missed(direction, actual, state):
    target = Decimal(100) if direction == "up" else Decimal(30)
    p = pace(actual=actual, target=target, direction=direction, cumulative=False, fraction=Decimal(1), thresholds=T)
    assert p.state == state


def test_no_data_mid_period():
    p = pace(actual=None, target=Decimal(30), direction="down", cumulative=False, fraction=HALF, thresholds=T)
    assert p.state == Pacing.NO_DATA


def test_before_the_start_nothing_is_expected():
    p = pace(actual=None, target=Decimal(30), direction="up", cumulative=True, fraction=Decimal(0), thresholds=T)
    assert (p.state, p.expected) == (Pacing.ON_TRACK, Decimal("0.00"))


@pytest.mark.django_db
def test_thresholds_are_configurable():
    assert thresholds_get() == Thresholds(Decimal(90), Decimal(70))
    GoalSettings.objects.create(pk=1, at_risk_below=Decimal(80), behind_below=Decimal(50))
    t = thresholds_get()
    # 40/50 = 80 % is on track with "at risk below 80"
    p = pace(actual=Decimal(40), target=Decimal(100), direction="up", cumulative=True, fraction=HALF, thresholds=t)
    assert p.state == Pacing.ON_TRACK


@pytest.mark.django_db
def test_elapsed_fraction_over_a_30_day_month():
    goal = GoalFactory()
    assert elapsed_fraction(goal, at(16)) == HALF
    assert elapsed_fraction(goal, at(1)) == 0
    assert elapsed_fraction(goal, dt.datetime(2026, 12, 1, tzinfo=timezone.get_default_timezone())) == 1


@pytest.mark.django_db
def test_manual_goal_progress_uses_the_latest_check_in(alice):
    goal = GoalFactory(owner=alice, target=Decimal(10))  # 10 demos in November
    assert goals_progress([goal], now=at(16))[goal.pk].state == Pacing.NO_DATA
    CheckInFactory(goal=goal, value=Decimal(2))
    CheckInFactory(goal=goal, value=Decimal(4))  # 4 of 5 expected = 80 %
    p = goals_progress([goal], now=at(16))[goal.pk]
    assert (p.actual, p.expected, p.ratio, p.state) == (Decimal(4), Decimal("5.00"), Decimal("80.0"), Pacing.AT_RISK)
    p = goals_progress([goal], now=dt.datetime(2026, 12, 1, 9, tzinfo=timezone.get_default_timezone()))[goal.pk]
    assert p.state == Pacing.MISSED
