"""Pages render the same figures for rep and manager, with a constant number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.models import Goal
from tests.factories import ActivityFactory, LeadFactory, MembershipFactory, TeamFactory, UserFactory
from tests.goals.factories import CheckInFactory, CommitmentFactory, GoalFactory

pytestmark = pytest.mark.django_db


def running(**kwargs):
    today = timezone.localdate()
    return GoalFactory(start_date=today - dt.timedelta(days=10), end_date=today + dt.timedelta(days=19), **kwargs)


def test_rep_and_manager_see_the_same_figures(login, alice, maria, frozen_now):
    frozen_now(dt.datetime(2026, 11, 11, tzinfo=timezone.get_default_timezone()))
    goal = GoalFactory(owner=alice, target=Decimal(30), title="Thirty demos")  # November: 30 days
    CheckInFactory(goal=goal, value=Decimal(7))
    for user in (alice, maria):
        text = login(user).get(reverse("goals:goal-detail", args=[goal.pk])).text
        # 10 of 30 days elapsed: 10 expected; 7 is 70 % of pace -> at risk
        assert '<span data-testid="actual">7</span>' in text
        assert "expected by now 10" in text and "70.0% of pace" in text and "At risk" in text
    board = login(maria).get(reverse("goals:board")).text
    assert "Thirty demos" in board and "70.0% of pace" in board
    mine = login(alice).get(reverse("goals:goal-list")).text
    assert "Thirty demos" in mine and "70.0% of pace" in mine


def test_goal_chart_data_is_passed_as_json_not_string_built(login, alice):
    goal = running(owner=alice, title="</script><script>alert(1)</script>")
    CheckInFactory(goal=goal, value=Decimal(3))
    text = login(alice).get(reverse("goals:goal-detail", args=[goal.pk])).text
    assert 'id="goal-chart-data" type="application/json"' in text
    assert "<script>alert(1)</script>" not in text


def test_rep_page_lists_own_and_team_goals_and_commitments(login, alice, bob, north):
    running(owner=alice, title="Alice demos")
    running(owner=bob, title="Bob demos")
    running(owner=None, team=north, created_by=alice, title="North demos")
    CommitmentFactory(owner=alice, text="ring the Acme buyer")
    text = login(alice).get(reverse("goals:goal-list")).text
    assert "Alice demos" in text and "North demos" in text and "ring the Acme buyer" in text
    assert "Bob demos" not in text


def test_manager_sees_proposals_waiting(login, alice, maria):
    GoalFactory(owner=alice, status=Goal.Status.PROPOSED, title="Please approve me")
    assert "Please approve me" in login(maria).get(reverse("goals:goal-list")).text


def _big_team(manager, n):
    team = TeamFactory(name=f"Bench {n}", manager=manager)
    for i in range(n):
        rep = UserFactory(username=f"rep{n}_{i}")
        MembershipFactory(user=rep, team=team)
        running(owner=rep, title=f"Calls {i}", metric="calls", unit="activities", target=Decimal(100))
        g = running(owner=rep, title=f"Referrals {i}", unit="referrals")
        CheckInFactory(goal=g, value=Decimal(i % 7))
        ActivityFactory(lead=LeadFactory(owner=rep, team=team), actor=rep, kind="call")
    running(owner=None, team=team, created_by=manager, title="Team calls", metric="calls", unit="activities")
    return team


@pytest.mark.parametrize("reps", [5, 50])
def test_board_query_count_is_constant(login, django_assert_num_queries, reps):
    manager = UserFactory(username="boss", role="manager")
    team = _big_team(manager, reps)
    client = login(manager)
    # 2 session + user, 1 unread notices (navbar), 2 managed teams (roots + tree),
    # 1 teams on the board, 1 team tree for sub-teams, 1 members, 1 goals,
    # 1 pacing thresholds, 1 latest check-ins of manual goals,
    # 1 calls of every rep at once (the reps share the goal's period: one batch),
    # 3 the team goal's figure (team tree, its members, calls of the team),
    # 1 the expectations banner (on every page)
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    # +1: the reps' figure zones, where each goal's period is cut (one query for all reps' goals).
    # +2: the daily rollup's coverage query (leads.metrics.rollup), once per metrics call: the
    # reps' calls (RepDay) and the team's (TeamDay); with nothing rolled up the rest is raw.
    # +1: the rollup's version, read once while the cache is cold (leads.metrics.closedcache).
    with django_assert_num_queries(22):
        response = client.get(reverse("goals:board"), {"team": team.pk})
    assert response.text.count('data-testid="board-row"') == reps


def _render_panel(tag, user):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load goals_tags %}{% " + tag + " %}").render(Context({"request": request}))


@pytest.mark.parametrize("goals", [5, 50])
def test_rep_panel_query_count_is_constant(django_assert_num_queries, alice, goals):
    for i in range(goals):
        CheckInFactory(goal=running(owner=alice, title=f"Goal {i}"), value=Decimal(i))
        running(owner=alice, title=f"Calls {i}", metric="calls", unit="activities")
    CommitmentFactory(owner=alice)
    # 1 member teams, 1 goals (six soonest), 1 thresholds, 1 latest check-ins,
    # 1 calls (the goals share a period: one batch), 1 commitments counts
    # +1: the reps' figure zones, where each goal's period is cut (one query for all reps' goals).
    # +1: the daily rollup's coverage query (leads.metrics.rollup) for the metrics call.
    # +1: the rollup's version, read once while the cache is cold (leads.metrics.closedcache).
    with django_assert_num_queries(9):
        html = _render_panel("rep_goals_panel", alice)
    assert html.count("goals/") >= 6 and "0 of 1" in html


@pytest.mark.parametrize("reps", [5, 50])
def test_manager_panel_query_count_is_constant(django_assert_num_queries, reps):
    manager = UserFactory(username="boss", role="manager")
    _big_team(manager, reps)
    # 2 managed teams (roots + tree), 1 goals and proposals, 1 thresholds, 1 latest check-ins,
    # 1 calls of every rep (one batch), 3 the team goal's figure (team tree, members, calls)
    # +1: the reps' figure zones, where each goal's period is cut (one query for all reps' goals).
    # +2: the daily rollup's coverage query (leads.metrics.rollup), once per metrics call.
    # +1: the rollup's version, read once while the cache is cold (leads.metrics.closedcache).
    with django_assert_num_queries(13):
        html = _render_panel("manager_goals_panel", manager)
    assert f"{2 * reps + 1} goals running" in html


def test_manager_panel_costs_one_query_without_goals(django_assert_num_queries, maria, north):
    from accountability.scoping import managed_team_ids

    managed_team_ids(maria)  # the home page has already looked these up for the request's user
    with django_assert_num_queries(1):
        html = _render_panel("manager_goals_panel", maria)
    assert "0 goals running" in html


def test_home_pages_show_the_goal_panels(login, alice, maria):
    CheckInFactory(goal=running(owner=alice, title="Alice demos"), value=Decimal(0))
    assert "Alice demos" in login(alice).get("/").text
    text = login(maria).get("/").text
    assert 'data-testid="manager-goals-panel"' in text and "Alice demos" in text  # 0 so far: behind


def test_chart_has_a_point_per_day_with_snapshots_and_todays_live_figure(login, alice, frozen_now):
    import json

    from goals.models import GoalSnapshot

    frozen_now(dt.datetime(2026, 11, 3, 12, tzinfo=timezone.get_default_timezone()))
    goal = GoalFactory(owner=alice, metric="calls", unit="activities", target=Decimal(30))
    GoalSnapshot.objects.create(goal=goal, date=dt.date(2026, 11, 1), value=Decimal(1))
    GoalSnapshot.objects.create(goal=goal, date=dt.date(2026, 11, 2), value=Decimal(2))
    text = login(alice).get(reverse("goals:goal-detail", args=[goal.pk])).text
    start = text.index('<script id="goal-chart-data" type="application/json">') + len(
        '<script id="goal-chart-data" type="application/json">'
    )
    data = json.loads(text[start : text.index("</script>", start)])
    assert len(data["labels"]) == 30 and data["labels"][0] == "2026-11-01"
    assert data["actual"][:4] == [1.0, 2.0, 0.0, None]  # today live: no calls yet; the future is empty
    assert data["expected"][:3] == [1.0, 2.0, 3.0]  # 30 over 30 days, by the end of each day


@pytest.mark.parametrize("goals", [5, 50])
def test_goal_list_query_count_is_constant(login, django_assert_num_queries, alice, goals):
    for i in range(goals):
        CheckInFactory(goal=running(owner=alice, title=f"Goal {i}"), value=Decimal(i))
        running(owner=alice, title=f"Calls {i}", metric="calls", unit="activities")
        CommitmentFactory(owner=alice)
    client = login(alice)
    # 2 session + user, 1 unread notices, 1 member teams, 1 goals, 1 thresholds, 1 latest check-ins,
    # 1 calls (one batch: the goals share a period), 1 this week's commitments, 1 expectations banner
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    # +1: the reps' figure zones, where each goal's period is cut (one query for all reps' goals).
    # +1: the daily rollup's coverage query (leads.metrics.rollup) for the calls batch.
    # +1: the rollup's version, read once while the cache is cold (leads.metrics.closedcache).
    with django_assert_num_queries(14):
        response = client.get(reverse("goals:goal-list"))
    assert response.text.count('data-testid="goal-row"') == 2 * goals


@pytest.mark.parametrize("people", [5, 50])
def test_commitments_page_query_count_is_constant(login, django_assert_num_queries, alice, north, people):
    for i in range(people):
        mate = UserFactory(username=f"mate{people}_{i}")
        MembershipFactory(user=mate, team=north)
        CommitmentFactory(owner=mate, text=f"promise {i}")
    CommitmentFactory(owner=alice, text="ring the Acme buyer")
    client = login(alice)
    # 2 session + user, 1 unread notices, 1 member teams, 1 people (self and teammates), 1 commitments,
    # 1 expectations banner
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(8):
        response = client.get(reverse("goals:commitment-list"))
    assert response.text.count('data-testid="commitment"') == people + 1


def test_times_render_in_the_viewers_time_zone(login, alice, maria):
    """03:30 UTC on 16 Nov is 19:30 on 15 Nov in Los Angeles (UTC-8): the check-in, the history and
    the proposal date read in the viewer's zone. The site-wide middleware activates the user's zone;
    `override` stands in for it here, and the user's own zone is set so both agree."""
    from goals.models import CheckIn, GoalEvent

    moment = dt.datetime(2026, 11, 16, 3, 30, tzinfo=dt.UTC)
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    CheckIn.objects.filter(pk=CheckInFactory(goal=goal, value=Decimal(2)).pk).update(created_at=moment)
    GoalEvent.objects.create(goal=goal, actor=alice, kind=GoalEvent.Kind.PROPOSED)
    GoalEvent.objects.filter(goal=goal).update(created_at=moment)
    Goal.objects.filter(pk=goal.pk).update(created_at=moment)
    for user in (alice, maria):
        user.time_zone = "America/Los_Angeles"
        user.save(update_fields=["time_zone"])
    with timezone.override("America/Los_Angeles"):
        detail = login(maria).get(reverse("goals:goal-detail", args=[goal.pk])).text
        listing = login(maria).get(reverse("goals:goal-list")).text
    assert "by Alice" in detail and "on 15 Nov 19:30" in detail  # the check-in
    assert "· 15 Nov 2026 19:30" in detail  # the history entry
    assert "16 Nov" not in detail.split("History", 1)[1]
    assert "proposed 15 Nov" in listing
