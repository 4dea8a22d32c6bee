"""Weekly digests, sent as in-app notices (the notification channels build on those rows).

One notice per person per ISO week: the key carries the week, so a retried or repeated
run creates nothing new.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accountability.models import User
from accountability.notifications.models import Notification
from accountability.notifications.services import notification_create
from accountability.scoping import managed_team_ids, member_team_ids
from goals import notices
from goals.models import Commitment, Goal, Pacing
from goals.progress import goals_progress
from goals.selectors import current_goals, in_teams, week_start


def _week_key(today: dt.date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def _line(goal: Goal) -> str:
    p = goal.progress
    actual = "no data" if p.actual is None else f"{p.actual.normalize():f}"
    target = f"{goal.target.normalize():f}"
    return f"- {goal.title} ({goal.owner_label}): {p.state_label.lower()}, {actual} of {target} {goal.unit}"


def digest_rep_send(*, user: User, today: dt.date | None = None) -> Notification | None:
    """A rep's week: their goals with pacing, last week's commitments and this week's."""
    today = today or timezone.localdate()
    goals = list(
        current_goals(Goal.objects.select_related("owner", "team"), today=today)
        .filter(status=Goal.Status.APPROVED, end_date__gte=today)
        .filter(Q(owner=user) | Q(team_id__in=member_team_ids(user)))
        .order_by("end_date", "pk")
    )
    progress = goals_progress(goals)
    for goal in goals:
        goal.progress = progress[goal.pk]
    this_week = week_start(today)
    last_week = this_week - dt.timedelta(days=7)
    commitments = list(Commitment.objects.filter(owner=user, week_start__in=[last_week, this_week]))
    done_last = sum(1 for c in commitments if c.week_start == last_week and c.status == Commitment.Status.DONE)
    total_last = sum(1 for c in commitments if c.week_start == last_week)
    open_now = [c for c in commitments if c.week_start == this_week and c.status == Commitment.Status.OPEN]
    if not goals and not commitments:
        return None
    lines = ["Your goals:"] + ([_line(g) for g in goals] or ["- none running"])
    lines.append(f"Last week's commitments: {done_last} of {total_last} done.")
    if open_now:
        lines.append("This week you committed to:")
        lines += [f"- {c.text}" for c in open_now]
    behind = sum(1 for g in goals if g.progress.state in (Pacing.AT_RISK, Pacing.BEHIND))
    title = f"Your week: {len(goals)} goal{'s' if len(goals) != 1 else ''}" + (
        f", {behind} needing attention" if behind else ", all on pace"
    )
    return notification_create(
        recipient=user,
        kind=notices.GOALS_DIGEST,
        title=title,
        body="\n".join(lines),
        key=f"goals-digest:{_week_key(today)}",
        url=reverse("goals:goal-list"),
    )


def digest_manager_send(*, manager: User, today: dt.date | None = None) -> Notification | None:
    """A manager's week: every goal at risk or behind in the teams they manage."""
    today = today or timezone.localdate()
    managed = managed_team_ids(manager)
    if not managed:
        return None
    goals = list(
        Goal.objects.select_related("owner", "team")
        .filter(status=Goal.Status.APPROVED, outcome="", start_date__lte=today, end_date__gte=today)
        .filter(in_teams(managed))
        .exclude(owner=manager)
        .order_by("end_date", "pk")
    )
    progress = goals_progress(goals)
    flagged = []
    for goal in goals:
        goal.progress = progress[goal.pk]
        if goal.progress.state in (Pacing.AT_RISK, Pacing.BEHIND):
            flagged.append(goal)
    title = (
        f"Team goals this week: {len(flagged)} of {len(goals)} at risk or behind"
        if flagged
        else f"Team goals this week: all {len(goals)} on pace"
    )
    body = "\n".join(_line(g) for g in flagged) if flagged else "Nothing at risk or behind."
    return notification_create(
        recipient=manager,
        kind=notices.GOALS_DIGEST_MANAGER,
        title=title,
        body=body,
        key=f"goals-digest-manager:{_week_key(today)}",
        url=reverse("goals:board"),
    )
