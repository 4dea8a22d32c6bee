"""Live progress of built-in metrics, hand-computed from leads and activities.

All goals run over November 2026 (30 days); "now" is frozen at 16 Nov 00:00, half-way:
a cumulative goal is expected at half its target.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.models import Pacing
from goals.progress import goals_progress, team_contributions
from tests.factories import ActivityFactory, LeadFactory
from tests.goals.factories import GoalFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()
NOW = dt.datetime(2026, 11, 16, tzinfo=TZ)


def at(month, day, hour=10, minute=0):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def calls(user, n, *, month=11, first_day=2, lead=None):
    lead = lead or LeadFactory(owner=user)
    for i in range(n):
        ActivityFactory(lead=lead, actor=user, kind="call", occurred_at=at(month, first_day + i))


@pytest.fixture
def november(frozen_now):
    return frozen_now(NOW)


def test_calls_goal_mid_period(november, alice, bob):
    goal = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(20))
    calls(alice, 8)  # 2..9 Nov
    calls(alice, 1, month=10, first_day=31)  # before the period: not counted
    ActivityFactory(lead=LeadFactory(owner=alice), actor=alice, kind="note", occurred_at=at(11, 5))  # not a call
    calls(bob, 3)  # someone else's
    p = goals_progress([goal], now=NOW)[goal.pk]
    # 8 calls against 10 expected by now: 80 % of pace -> at risk (below 90, not below 70)
    assert (p.actual, p.expected, p.ratio, p.state) == (Decimal(8), Decimal("10.00"), Decimal("80.0"), Pacing.AT_RISK)


def test_no_activity_yet_is_zero_and_behind(november, alice):
    goal = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(20))
    p = goals_progress([goal], now=NOW)[goal.pk]
    assert (p.actual, p.state) == (Decimal(0), Pacing.BEHIND)


def _received(user, arrived, minutes_to_contact):
    lead = LeadFactory(owner=user, received_by=user, arrived_at=arrived)
    ActivityFactory(lead=lead, actor=None, kind="assigned", data={"from_owner": None, "to_owner": user.pk})
    if minutes_to_contact is not None:
        contacted = arrived + dt.timedelta(minutes=minutes_to_contact)
        # Speed to lead is read in business time (stored at the first contact): open all day here.
        type(lead).objects.filter(pk=lead.pk).update(
            first_contacted_at=contacted, first_contacted_by=user, first_contact_business_minutes=minutes_to_contact
        )
    return lead


def test_speed_to_lead_at_most_goal(november, alice):
    goal = GoalFactory(owner=alice, metric="speed_to_lead_median", unit="minutes", direction="down", target=Decimal(30))
    for day, minutes in ((2, 20), (3, 40), (4, 60)):
        _received(alice, at(11, day), minutes)
    p = goals_progress([goal], now=NOW)[goal.pk]
    # median 40 minutes against at most 30: 30/40 = 75 % -> at risk; a level, so expected is the target
    assert (p.actual, p.expected, p.ratio, p.state) == (Decimal(40), Decimal("30.00"), Decimal("75.0"), Pacing.AT_RISK)


def test_speed_to_lead_without_any_lead_is_no_data(november, alice):
    goal = GoalFactory(owner=alice, metric="speed_to_lead_median", unit="minutes", direction="down", target=30)
    assert goals_progress([goal], now=NOW)[goal.pk].state == Pacing.NO_DATA


def test_ended_period_met_and_missed(november, alice, bob):
    october = {"start_date": dt.date(2026, 10, 1), "end_date": dt.date(2026, 10, 31)}
    met = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(5), **october)
    missed = GoalFactory(owner=bob, metric="calls", unit="activities", target=Decimal(5), **october)
    calls(alice, 5, month=10, first_day=20)
    calls(bob, 4, month=10, first_day=20)
    calls(bob, 3, month=11, first_day=2)  # too late for October
    progress = goals_progress([met, missed], now=NOW)
    assert (progress[met.pk].actual, progress[met.pk].state) == (Decimal(5), Pacing.MET)
    assert (progress[missed.pk].actual, progress[missed.pk].state) == (Decimal(4), Pacing.MISSED)


def test_team_goal_rolls_up_members_with_their_shares(november, login, alice, bob, maria, north):
    goal = GoalFactory(owner=None, team=north, created_by=maria, metric="calls", unit="activities", target=40)
    calls(alice, 8)
    calls(bob, 4)
    p = goals_progress([goal], now=NOW)[goal.pk]
    # 12 calls on the team's leads against 20 expected: 60 % -> behind
    assert (p.actual, p.ratio, p.state) == (Decimal(12), Decimal("60.0"), Pacing.BEHIND)
    shares = [(c.user.username, c.value, c.share) for c in team_contributions(goal, actual=p.actual, now=NOW)]
    assert shares == [("alice", Decimal(8), Decimal("66.7")), ("bob", Decimal(4), Decimal("33.3"))]
    text = login(alice).get(reverse("goals:goal-detail", args=[goal.pk])).text
    assert "66.7%" in text and "33.3%" in text


def test_recent_figure_beside_the_target(november, login, alice, maria):
    calls(alice, 8)  # 2..9 Nov, all within the last 30 days of 16 Nov
    text = login(alice).get(reverse("goals:goal-recent-figure"), {"metric": "calls"}).text
    assert "last 30 days" in text and "8 activities" in text
    text = login(maria).get(reverse("goals:goal-recent-figure"), {"metric": "calls", "owner": f"user:{alice.pk}"}).text
    assert "8 activities" in text


def test_board_and_rep_page_show_the_same_live_figure(november, login, alice, maria):
    GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(20), title="Twenty calls")
    calls(alice, 8)
    for user, url in ((alice, reverse("goals:goal-list")), (maria, reverse("goals:board"))):
        text = login(user).get(url).text
        assert "Twenty calls" in text and '<span data-testid="actual">8</span>' in text and "80.0% of pace" in text


def test_manual_goals_read_their_latest_check_in_in_one_portable_query(november, alice, bob):
    """The latest check-in per goal (latest time, then latest id on a tie) in one query, without
    PostgreSQL's DISTINCT ON: `make run` defaults to SQLite, where DISTINCT ON crashed every page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from goals.models import CheckIn
    from goals.progress import actual_values
    from tests.goals.factories import CheckInFactory

    tie = GoalFactory(owner=alice)  # two check-ins at the same moment: the later row wins
    CheckInFactory(goal=tie, value=Decimal(3))
    CheckInFactory(goal=tie, value=Decimal(4))
    older_row_later = GoalFactory(owner=bob)  # a back-dated row does not win over a later one
    first = CheckInFactory(goal=older_row_later, value=Decimal(7))
    CheckInFactory(goal=older_row_later, value=Decimal(2))
    CheckIn.objects.filter(pk=first.pk).update(created_at=NOW + dt.timedelta(minutes=1))
    silent = GoalFactory(owner=alice)
    with CaptureQueriesContext(connection) as ctx:
        values = actual_values([tie, older_row_later, silent], now=NOW)
    assert values == {tie.pk: Decimal(4), older_row_later.pk: Decimal(7), silent.pk: None}
    assert len(ctx.captured_queries) == 1
    assert "DISTINCT ON" not in ctx.captured_queries[0]["sql"].upper()
