import pytest

from accountability.demo import seed_org
from goals import demo
from goals.models import Commitment, Goal, Pacing
from goals.progress import goals_progress

pytestmark = pytest.mark.django_db


def test_demo_seeds_goals_in_every_state_and_is_safe_twice():
    ctx = seed_org()
    demo.seed(ctx)
    counts = (Goal.objects.count(), Commitment.objects.count())
    demo.seed(seed_org())
    assert (Goal.objects.count(), Commitment.objects.count()) == counts == (19, 11)
    manual = {g.owner.username: g for g in Goal.objects.filter(metric="manual").select_related("owner")}
    progress = goals_progress(manual.values())
    states = {name: progress[g.pk].state for name, g in manual.items()}
    assert states["alice"] == Pacing.ON_TRACK
    assert states["bob"] == Pacing.AT_RISK
    assert states["frank"] == Pacing.BEHIND
    assert manual["carlos"].outcome == Goal.Outcome.MET
    assert Goal.objects.filter(status=Goal.Status.PROPOSED).count() == 2
    assert Goal.objects.filter(team__isnull=False).count() == 3
    assert Commitment.objects.filter(status="done").count() == 5


def test_demo_links_a_team_goal_to_the_expectations_kpi():
    from accountability.expectations import demo as expectations_demo

    ctx = seed_org()
    expectations_demo.seed(ctx)
    demo.seed(ctx)
    goal = Goal.objects.get(title="Log 160 calls this month")
    assert goal.kpi is not None and goal.kpi.metric == "calls" and goal.reason == ""
