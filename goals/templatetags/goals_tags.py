"""Home-page panels. Each adds a constant number of queries (see tests/goals/test_panels.py)."""

from django import template
from django.db.models import Count, Q

from accountability.scoping import managed_team_ids
from goals.models import Commitment, Goal, Pacing
from goals.progress import goals_progress
from goals.selectors import (
    current_goals,
    goals_for_rep_page,
    in_teams,
    week_start,
)

register = template.Library()


@register.inclusion_tag("goals/includes/panel_rep.html", takes_context=True)
def rep_goals_panel(context):
    user = context["request"].user
    goals = list(goals_for_rep_page(user).filter(status=Goal.Status.APPROVED).order_by("end_date", "pk")[:6])
    progress = goals_progress(goals)
    for goal in goals:
        goal.progress = progress[goal.pk]
    # One's own commitments are always visible to oneself: no visibility subquery needed.
    counts = Commitment.objects.filter(owner=user, week_start=week_start()).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(status=Commitment.Status.DONE))
    )
    return {"goals": goals, "commitments": counts}


@register.inclusion_tag("goals/includes/panel_manager.html", takes_context=True)
def manager_goals_panel(context):
    user = context["request"].user
    managed = managed_team_ids(user)
    # One query for running goals and open proposals; progress only when there are goals.
    rows = list(
        current_goals(Goal.objects.select_related("owner", "team"))
        .filter(status__in=[Goal.Status.APPROVED, Goal.Status.PROPOSED])
        .filter(in_teams(managed))
    )
    goals = [g for g in rows if g.status == Goal.Status.APPROVED]
    awaiting = sum(1 for g in rows if g.status == Goal.Status.PROPOSED and g.owner_id != user.pk)
    progress = goals_progress(goals)
    flagged = []
    for goal in goals:
        goal.progress = progress[goal.pk]
        if goal.progress.state in (Pacing.AT_RISK, Pacing.BEHIND):
            flagged.append(goal)
    flagged.sort(key=lambda g: (g.progress.state != Pacing.BEHIND, g.end_date))
    return {"total": len(goals), "flagged": flagged[:8], "flagged_count": len(flagged), "awaiting": awaiting}
