"""Nobody decides on their own goal (issue 9, item 20): not a rep, not a manager who is also a
member of a team they manage, not an admin; refused in the service, whoever calls it, and on the page."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from goals import services
from goals.models import Goal, GoalEvent
from tests.factories import MembershipFactory
from tests.goals.factories import GoalFactory

pytestmark = pytest.mark.django_db


def proposed(owner):
    return GoalFactory(owner=owner, created_by=owner, status=Goal.Status.PROPOSED)


def assert_undecided(goal):
    goal.refresh_from_db()
    assert (goal.status, goal.decided_by) == (Goal.Status.PROPOSED, None)
    assert not goal.events.filter(kind__in=[GoalEvent.Kind.APPROVED, GoalEvent.Kind.REJECTED]).exists()


@pytest.mark.parametrize("who", ["alice", "maria", "admin"])
@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_the_owner_cannot_decide_on_their_own_goal_through_the_service(org, who, decide):
    owner = org[who]
    if who == "maria":
        MembershipFactory(user=owner, team=org["north"])  # a manager who is also on the team she manages
    goal = proposed(owner)
    with pytest.raises(PermissionDenied):
        if decide == "approve":
            services.goal_approve(actor=owner, goal=goal, comment="Fine by me")
        else:
            services.goal_reject(actor=owner, goal=goal, reason="Too hard")
    assert_undecided(goal)


@pytest.mark.parametrize("name", ["goals:goal-approve", "goals:goal-reject"])
def test_a_manager_on_her_own_team_cannot_decide_on_her_goal_on_the_page(login, org, name):
    maria = org["maria"]
    MembershipFactory(user=maria, team=org["north"])
    goal = proposed(maria)
    response = login(maria).post(reverse(name, args=[goal.pk]), {"comment": "", "reason": "Too hard"})
    assert response.status_code == 403
    assert_undecided(goal)
    # Her own manager (the head of sales) decides on it.
    response = login(org["helen"]).post(reverse(name, args=[goal.pk]), {"comment": "", "reason": "Too hard"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.decided_by == org["helen"]


def test_an_admin_decides_on_someone_elses_goal(org):
    goal = proposed(org["alice"])
    services.goal_approve(actor=org["admin"], goal=goal)
    goal.refresh_from_db()
    assert (goal.status, goal.decided_by) == (Goal.Status.APPROVED, org["admin"])
