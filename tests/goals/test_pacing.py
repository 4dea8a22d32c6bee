"""Pacing, hand-computed. November 2026 has 30 days: at 16 Nov 00:00 half the period has elapsed."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import timezone

from goals.models import GoalSettings, Pacing
from goals.progress import Thresholds, elapsed_fraction, goals_progress, pace, thresholds_get
from tests.goals.factories import CheckInFactory, GoalFactory

T = Thresholds()  # at risk below 90 %, behind below 70 %
HALF = Decimal("0.5")
TWO_THIRDS = Fraction(2, 3)
FIVE_NINTHS = Fraction(5, 9)
ONE_DAY = Fraction(1, 30)


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
    assert (p.state, p.expected) == (Pacing.JUST_STARTED, Decimal("0.00"))


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


# --- Issue 9, item 7: judged on exact values, rounded only for display ------------------------


def test_seven_calls_against_two_thirds_of_ten_is_105_percent():
    # 20 of 30 days: 6.666... calls expected; 7 is 105.0 %, not 7 / 6.67 = 104.9 %
    p = pace(actual=Decimal(7), target=Decimal(10), direction="up", cumulative=True, fraction=TWO_THIRDS, thresholds=T)
    assert (p.expected, p.ratio, p.state) == (Decimal("6.67"), Decimal("105.0"), Pacing.ON_TRACK)


def test_exactly_90_percent_of_an_unrounded_expectation_is_on_track():
    # 5 of 5.555... expected is exactly 90 %: on track (judged on 5.56 it read 89.9 %, at risk)
    p = pace(actual=Decimal(5), target=Decimal(10), direction="up", cumulative=True, fraction=FIVE_NINTHS, thresholds=T)
    assert (p.ratio, p.state) == (Decimal("90.0"), Pacing.ON_TRACK)


def test_the_shown_percentage_never_crosses_the_threshold_of_the_verdict():
    # 44.98 of 50 is 89.96 %: at risk, so it shows 89.9 %, never "90.0 %" beside "at risk"
    p = pace(actual=Decimal("44.98"), target=Decimal(100), direction="up", cumulative=True, fraction=HALF, thresholds=T)
    assert (p.ratio, p.state) == (Decimal("89.9"), Pacing.AT_RISK)
    p = pace(actual=Decimal("34.98"), target=Decimal(100), direction="up", cumulative=True, fraction=HALF, thresholds=T)
    assert (p.ratio, p.state) == (Decimal("69.9"), Pacing.BEHIND)


# --- Issue 9, item 14: no verdict while it is too early to judge -------------------------------


def test_first_day_of_the_month_with_nothing_done_is_just_started():
    # 0 of 10 leads with 0.33 expected (day one of 30): no verdict, not "behind"
    p = pace(actual=Decimal(0), target=Decimal(10), direction="up", cumulative=True, fraction=ONE_DAY, thresholds=T)
    assert p.state == Pacing.JUST_STARTED
    assert p.state_label == "Just started"


@pytest.mark.parametrize(
    ("target", "days", "state"),
    [
        (Decimal(100), 2, Pacing.JUST_STARTED),  # 6.7 expected but only 2/30 of the period: too early
        (Decimal(100), 3, Pacing.BEHIND),  # a tenth of the period has passed and 10 are expected
        (Decimal(5), 3, Pacing.JUST_STARTED),  # a tenth has passed but 0.5 expected: not one unit yet
        (Decimal(5), 6, Pacing.BEHIND),  # 1 expected at a fifth of the period
    ],
)
def test_a_verdict_waits_for_a_tenth_of_the_period_and_one_expected_unit(target, days, state):
    fraction = Fraction(days, 30)
    p = pace(actual=Decimal(0), target=target, direction="up", cumulative=True, fraction=fraction, thresholds=T)
    assert p.state == state


def test_a_level_figure_only_waits_for_a_tenth_of_the_period():
    p = pace(actual=Decimal(10), target=Decimal(20), direction="up", cumulative=False, fraction=ONE_DAY, thresholds=T)
    assert p.state == Pacing.JUST_STARTED
    p = pace(
        actual=Decimal(10), target=Decimal(20), direction="up", cumulative=False, fraction=Fraction(3, 30), thresholds=T
    )
    assert p.state == Pacing.BEHIND


def test_reaching_the_target_on_day_one_is_met_at_once():
    p = pace(actual=Decimal(10), target=Decimal(10), direction="up", cumulative=True, fraction=ONE_DAY, thresholds=T)
    assert p.state == Pacing.MET


@pytest.mark.django_db
def test_a_goal_just_started_records_no_pacing_and_tells_nobody(alice, frozen_now):
    from accountability.notifications.models import Notification
    from goals.services import goal_evaluate

    goal = GoalFactory(owner=alice, metric="leads_contacted", unit="leads", target=Decimal(10))
    assert goal_evaluate(goal_id=goal.pk, now=frozen_now(at(2, 1))) == Pacing.JUST_STARTED
    goal.refresh_from_db()
    assert goal.pacing == ""
    assert not Notification.objects.filter(kind="goal_at_risk").exists()


@pytest.mark.django_db
def test_on_the_first_day_the_board_says_just_started_not_behind(login, alice, maria, frozen_now):
    from django.urls import reverse

    frozen_now(at(1, 9))
    GoalFactory(owner=alice, metric="leads_contacted", unit="leads", target=Decimal(10), title="Ten new leads")
    board = login(maria).get(reverse("goals:board")).text
    card = board.split("Ten new leads")[1].split("</div></div>")[0]
    assert 'data-testid="pacing">Just started</span>' in card  # 0 of 0.27 expected says nothing yet
    summary = board.split('data-testid="board-summary">')[1].split("</p>")[0]
    assert "1 just started" in summary and "behind" not in summary
