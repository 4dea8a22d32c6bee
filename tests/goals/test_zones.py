"""A goal's period is cut in its people's zone (issue 9, item 8): the same month as their dashboard,
whoever reads it. North works from Tokyo (UTC+9); the site runs on UTC."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accountability.timezones import figures_time_zone
from goals.progress import goal_bounds, goals_progress
from goals.services import goal_evaluate
from leads.metrics import Period, metric_value
from tests.factories import ActivityFactory, LeadFactory
from tests.goals.factories import GoalFactory

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
UTC = dt.UTC


@pytest.fixture
def tokyo(north):
    north.time_zone = "Asia/Tokyo"
    north.save()
    return north


def call(user, when):
    ActivityFactory(lead=LeadFactory(owner=user), actor=user, kind="call", occurred_at=when)


def test_a_tokyo_reps_goal_month_is_the_tokyo_month_of_her_dashboard(tokyo, alice, maria):
    goal = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(20))
    assert goal_bounds(goal) == (dt.datetime(2026, 11, 1, tzinfo=TOKYO), dt.datetime(2026, 12, 1, tzinfo=TOKYO))
    call(alice, dt.datetime(2026, 10, 31, 16, tzinfo=UTC))  # 1 Nov 01:00 in Tokyo: November
    call(alice, dt.datetime(2026, 11, 30, 16, tzinfo=UTC))  # 1 Dec 01:00 in Tokyo: December
    call(alice, dt.datetime(2026, 11, 10, 3, tzinfo=UTC))
    now = dt.datetime(2026, 12, 5, tzinfo=UTC)
    progress = goals_progress([goal], now=now)[goal.pk]
    dashboard_month = Period.month_of(dt.date(2026, 11, 1), tz=figures_time_zone(alice))
    assert progress.actual == metric_value("calls", period=dashboard_month, user=alice) == 2


def test_the_goal_figure_is_the_same_whoever_reads_it_from_wherever(login, tokyo, alice, maria, frozen_now):
    maria.time_zone = "America/New_York"
    maria.save()
    frozen_now(dt.datetime(2026, 11, 16, 3, tzinfo=UTC))
    goal = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(20), title="Twenty calls")
    call(alice, dt.datetime(2026, 10, 31, 16, tzinfo=UTC))  # November in Tokyo, October in New York and UTC
    for user in (alice, maria):
        text = login(user).get(reverse("goals:goal-detail", args=[goal.pk])).text
        assert '<span data-testid="actual">1</span>' in text


def test_a_team_goal_is_cut_in_the_teams_zone(tokyo, alice):
    goal = GoalFactory(owner=None, team=tokyo, created_by=alice, metric="calls", unit="activities")
    assert goal_bounds(goal)[0] == dt.datetime(2026, 11, 1, tzinfo=TOKYO)


def test_the_daily_evaluation_closes_the_goals_own_day(tokyo, alice):
    goal = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(20))
    call(alice, dt.datetime(2026, 11, 10, 20, tzinfo=UTC))  # 11 Nov 05:00 in Tokyo: not the 10th
    goal_evaluate(goal_id=goal.pk, now=dt.datetime(2026, 11, 11, 0, 5, tzinfo=UTC))  # 09:05 on the 11th in Tokyo
    snapshot = goal.snapshots.get()
    assert (snapshot.date, snapshot.value) == (dt.date(2026, 11, 10), Decimal(0))


def test_the_recent_figure_beside_a_target_is_the_dashboards_last_30_days(login, tokyo, alice, maria, frozen_now):
    now = frozen_now(dt.datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 1 Dec 01:30 in Tokyo
    call(alice, dt.datetime(2026, 11, 1, 16, tzinfo=UTC))  # 2 Nov 01:00 in Tokyo: within her last 30 days
    call(alice, dt.datetime(2026, 11, 1, 14, tzinfo=UTC))  # 1 Nov 23:00 in Tokyo: before them
    dashboard = metric_value("calls", period=Period.last_days(30, tz=TOKYO, now=now), user=alice)
    assert dashboard == 1
    for user in (alice, maria):
        text = login(user).get(reverse("goals:goal-recent-figure"), {"metric": "calls", "owner": f"user:{alice.pk}"})
        assert "<strong>1 activities</strong>" in text.text  # a rolling 30 x 24 h would also count the 1 Nov call
