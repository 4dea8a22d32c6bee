"""Every write to goals and commitments, each with its history entry in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.models import Kpi
from accountability.expectations.selectors import documents_visible_to
from accountability.models import Membership, Team, User
from accountability.notifications.services import notification_create
from accountability.pacing import higher_is_better
from accountability.scoping import descendant_team_ids, managed_team_ids
from goals import metric_source, notices
from goals.models import MANUAL, METRIC_CHOICES, CheckIn, Commitment, Direction, Goal, GoalEvent, GoalSnapshot, Pacing
from goals.progress import Thresholds, goal_zone, goals_progress, thresholds_get
from goals.selectors import can_check_in, can_edit_goal, can_manage_goal, week_start

EDITABLE_FIELDS = (
    "title",
    "description",
    "metric",
    "unit",
    "target",
    "direction",
    "reason",
    "kpi",
    "preset",
    "start_date",
    "end_date",
)
VALID_METRICS = {value for value, _ in METRIC_CHOICES}


# --- Validation --------------------------------------------------------------------


def goal_fields_clean(
    *,
    title: str,
    description: str,
    metric: str,
    unit: str,
    target,
    direction: str,
    reason: str,
    preset: str,
    start_date: dt.date | None,
    end_date: dt.date | None,
    kpi=None,
) -> dict:
    """Check that a goal is SMART; return the cleaned fields or raise naming every missing part."""
    errors: dict[str, str] = {}
    title, description, reason, unit = (
        (title or "").strip(),
        (description or "").strip(),
        (reason or "").strip(),
        (unit or "").strip(),
    )
    if not title:
        errors["title"] = "Specific: give the goal a title."
    if not description:
        errors["description"] = "Specific: describe what exactly will be achieved."
    if metric not in VALID_METRICS:
        errors["metric"] = "Measurable: choose a metric from the list (or Manual with a unit)."
    elif metric == MANUAL:
        if not unit:
            errors["unit"] = "Measurable: a manual metric needs a unit (for example “demos booked”)."
    else:
        unit = metric_source.metric_unit(metric)
    try:
        target = Decimal(str(target)) if target not in (None, "") else None
    except (InvalidOperation, ValueError):
        target = None
    if target is None:
        errors["target"] = "Measurable: set a target."
    elif not target.is_finite() or target <= 0:
        errors["target"] = "The target must be a positive number in the metric's unit."
    elif target >= Decimal("1e12"):
        errors["target"] = "The target is too large."
    if direction not in Direction.values:
        errors["direction"] = "Choose whether the figure must be at least or at most the target."
    if not reason and kpi is None:
        errors["reason"] = "Relevant: say why this goal matters, or link it to a KPI of the expectations."
    if preset not in Goal.Preset.values:
        errors["preset"] = "Choose a period."
    if start_date is None:
        errors["start_date"] = "Time-bound: give a start date."
    if end_date is None:
        errors["end_date"] = "Time-bound: give an end date."
    elif start_date is not None and end_date <= start_date:
        errors["end_date"] = "The end date must be after the start date."
    if errors:
        raise ValidationError(errors)
    return {
        "title": title[:200],
        "description": description,
        "metric": metric,
        "unit": unit[:30],
        "target": target,
        "direction": direction,
        "reason": reason,
        "kpi": kpi,
        "preset": preset,
        "start_date": start_date,
        "end_date": end_date,
    }


def _check_kpi_visible(actor: User, kpi) -> None:
    """A newly linked KPI must be of a current version the actor can read (a goal keeps its KPI
    when a later version replaces it)."""
    if kpi is None:
        return
    kpi = Kpi.objects.select_related("version").get(pk=kpi.pk)  # re-read: a version may just have been replaced
    if not kpi.version.is_current:
        raise ValidationError(
            {"kpi": "Relevant: link a KPI of the current expectations, not of an old or draft version."}
        )
    if not documents_visible_to(actor).filter(pk=kpi.version.document_id).exists():
        raise ValidationError({"kpi": "Relevant: choose a KPI of the expectations that apply to you."})


def _url(goal: Goal) -> str:
    return reverse("goals:goal-detail", args=[goal.pk])


def _people_of_goal(goal: Goal) -> list[User]:
    """Who a goal's good or bad news goes to: its rep, or every member of its team."""
    if goal.owner_id:
        return [goal.owner]
    team_ids = descendant_team_ids([goal.team_id])
    return list(User.objects.filter(memberships__team_id__in=team_ids, is_active=True).distinct())


def _managers_of_goal(goal: Goal) -> list[User]:
    if goal.team_id:
        team_ids = [goal.team_id]
    else:
        team_ids = list(Membership.objects.filter(user_id=goal.owner_id).values_list("team_id", flat=True))
    return list(
        User.objects.filter(managed_teams__id__in=team_ids, is_active=True).exclude(pk=goal.owner_id).distinct()
    )


def _check_can_assign(actor: User, *, owner: User | None, team: Team | None) -> None:
    if (owner is None) == (team is None):
        raise ValidationError({"owner": "Assign the goal to one rep or one team."})
    if actor.is_admin:
        return
    managed = managed_team_ids(actor)
    if team is not None and team.pk in managed:
        return
    rep_on_managed_team = Membership.objects.filter(user=owner, team_id__in=managed)
    if owner is not None and owner.pk != actor.pk and rep_on_managed_team.exists():
        return
    raise PermissionDenied


# --- Planning ----------------------------------------------------------------------


@transaction.atomic
def goal_propose(*, actor: User, **fields) -> Goal:
    """A rep proposes a goal for themselves; it waits for their manager's decision."""
    cleaned = goal_fields_clean(**fields)
    _check_kpi_visible(actor, cleaned["kpi"])
    goal = Goal.objects.create(owner=actor, created_by=actor, status=Goal.Status.PROPOSED, **cleaned)
    GoalEvent.objects.create(goal=goal, actor=actor, kind=GoalEvent.Kind.PROPOSED)
    for manager in _managers_of_goal(goal):
        notification_create(
            recipient=manager,
            kind=notices.GOAL_PROPOSED,
            title=f"{actor} proposed a goal: {goal.title}",
            key=f"goal-proposed:{goal.pk}",
            url=_url(goal),
        )
    return goal


@transaction.atomic
def goal_assign(
    *, actor: User, owner: User | None = None, team: Team | None = None, comment: str = "", **fields
) -> Goal:
    """A manager sets a goal for a rep or a team they manage; approved at once."""
    _check_can_assign(actor, owner=owner, team=team)
    cleaned = goal_fields_clean(**fields)
    _check_kpi_visible(actor, cleaned["kpi"])
    now = timezone.now()
    goal = Goal.objects.create(
        owner=owner,
        team=team,
        created_by=actor,
        status=Goal.Status.APPROVED,
        decided_by=actor,
        decided_at=now,
        **cleaned,
    )
    GoalEvent.objects.create(goal=goal, actor=actor, kind=GoalEvent.Kind.ASSIGNED, comment=comment.strip())
    for person in _people_of_goal(goal):
        notification_create(
            recipient=person,
            kind=notices.GOAL_ASSIGNED,
            title=f"New goal from {actor}: {goal.title}",
            key=f"goal-assigned:{goal.pk}",
            url=_url(goal),
        )
    return goal


def _diff(goal: Goal, cleaned: dict) -> dict:
    changes = {}
    for name in EDITABLE_FIELDS:
        old, new = getattr(goal, name), cleaned[name]
        if old != new:
            changes[name] = ["—" if old is None else str(old), "—" if new is None else str(new)]
    return changes


@transaction.atomic
def goal_update(*, actor: User, goal: Goal, comment: str = "", **fields) -> Goal:
    """Edit a goal. Its manager may edit it at any time (with a comment saying why); its rep only
    while it is a proposal or was rejected (the edit proposes it again)."""
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if goal.outcome:
        raise ValidationError("This goal is closed; it can no longer be edited.")
    if not can_edit_goal(actor, goal):
        if goal.owner_id == actor.pk:
            raise PermissionDenied("An approved goal can only be changed by your manager.")
        raise PermissionDenied
    manager = can_manage_goal(actor, goal)
    comment = (comment or "").strip()
    if manager and not comment:
        raise ValidationError({"comment": "Say why you changed the goal (the rep sees this comment)."})
    cleaned = goal_fields_clean(**fields)
    if cleaned["kpi"] is not None and cleaned["kpi"].pk != goal.kpi_id:
        _check_kpi_visible(actor, cleaned["kpi"])
    changes = _diff(goal, cleaned)
    if not changes and not comment:
        return goal
    for name, value in cleaned.items():
        setattr(goal, name, value)
    if not manager and goal.status == Goal.Status.REJECTED:
        goal.status = Goal.Status.PROPOSED
        changes["status"] = [Goal.Status.REJECTED, Goal.Status.PROPOSED]
    goal.save()
    GoalEvent.objects.create(goal=goal, actor=actor, kind=GoalEvent.Kind.EDITED, changes=changes, comment=comment)
    if manager and goal.owner_id and goal.owner_id != actor.pk:
        event_count = goal.events.count()
        notification_create(
            recipient=goal.owner,
            kind=notices.GOAL_EDITED,
            title=f"{actor} changed your goal: {goal.title}",
            body=comment,
            key=f"goal-edited:{goal.pk}:{event_count}",
            url=_url(goal),
        )
    return goal


def _decide(*, actor: User, goal: Goal, status: str, kind: str, comment: str) -> Goal:
    # Nobody decides on their own goal, whatever their role (an admin or a manager on a team
    # they manage included): checked here, not only in can_manage_goal, because this is the rule.
    if goal.owner_id == actor.pk or not can_manage_goal(actor, goal):
        raise PermissionDenied("Nobody approves or rejects their own goal.")
    now = timezone.now()
    # Claim the proposal: of two managers deciding at once, exactly one wins.
    updated = Goal.objects.filter(pk=goal.pk, status=Goal.Status.PROPOSED).update(
        status=status, decided_by=actor, decided_at=now, updated_at=now
    )
    if updated != 1:
        raise ValidationError("This goal is no longer waiting for a decision.")
    goal.refresh_from_db()
    GoalEvent.objects.create(goal=goal, actor=actor, kind=kind, comment=comment)
    verb = "approved" if status == Goal.Status.APPROVED else "rejected"
    if goal.owner_id is None:  # only reps propose, so a decided goal has one; kept for safety
        return goal
    notification_create(
        recipient=goal.owner,
        kind=notices.GOAL_APPROVED if status == Goal.Status.APPROVED else notices.GOAL_REJECTED,
        title=f"{actor} {verb} your goal: {goal.title}",
        body=comment,
        key=f"goal-{verb}:{goal.pk}:{now.isoformat()}",
        url=_url(goal),
    )
    return goal


@transaction.atomic
def goal_approve(*, actor: User, goal: Goal, comment: str = "") -> Goal:
    return _decide(
        actor=actor, goal=goal, status=Goal.Status.APPROVED, kind=GoalEvent.Kind.APPROVED, comment=comment.strip()
    )


@transaction.atomic
def goal_reject(*, actor: User, goal: Goal, reason: str) -> Goal:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the goal is rejected, so the rep can propose a better one."})
    return _decide(actor=actor, goal=goal, status=Goal.Status.REJECTED, kind=GoalEvent.Kind.REJECTED, comment=reason)


# --- Progress ----------------------------------------------------------------------


@transaction.atomic
def goal_check_in(*, actor: User, goal: Goal, value, comment: str = "", now: dt.datetime | None = None) -> CheckIn:
    """Record a manual goal's figure to date (the owner, a member for a team goal, or a manager)."""
    if not can_check_in(actor, goal):
        raise PermissionDenied
    if not goal.is_manual:
        raise ValidationError("This goal's progress is computed from activity; it takes no check-ins.")
    if not goal.is_open:
        raise ValidationError("Only an approved, running goal takes check-ins.")
    try:
        value = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"value": "Enter a number."}) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValidationError({"value": "Enter a number, zero or more."})
    check_in = CheckIn.objects.create(goal=goal, author=actor, value=value, comment=(comment or "").strip())
    GoalEvent.objects.create(
        goal=goal, actor=actor, kind=GoalEvent.Kind.CHECK_IN, changes={"value": str(value)}, comment=check_in.comment
    )
    now = now or timezone.now()
    started = goal.start_date <= timezone.localdate(now, goal_zone(goal))
    if higher_is_better(goal.direction) and value >= goal.target and started:
        goal_mark_met(goal=goal, actor=actor, value=value)
    return check_in


# Apps above goals (recognition) add a function here; it gets the goal's id once the goal is met
# and the transaction committed. goals never imports them.
GOAL_MET_HOOKS: list = []


@transaction.atomic
def goal_mark_met(*, goal: Goal, value: Decimal | None, actor: User | None = None) -> bool:
    """The one place a goal becomes met: records the event and tells the people concerned.
    Recognition builds on this. Returns False when the goal already had an outcome."""
    now = timezone.now()
    updated = Goal.objects.filter(pk=goal.pk, status=Goal.Status.APPROVED, outcome="").update(
        outcome=Goal.Outcome.MET, outcome_at=now, pacing=Pacing.MET, updated_at=now
    )
    if updated != 1:
        return False
    goal.refresh_from_db()
    GoalEvent.objects.create(
        goal=goal, actor=actor, kind=GoalEvent.Kind.MET, changes={"value": None if value is None else str(value)}
    )
    recipients = _people_of_goal(goal) + _managers_of_goal(goal)
    for person in recipients:
        notification_create(
            recipient=person,
            kind=notices.GOAL_MET,
            title=f"Goal met: {goal.title} ({goal.owner_label})",
            key=f"goal-met:{goal.pk}",
            url=_url(goal),
        )
    for hook in GOAL_MET_HOOKS:
        transaction.on_commit(partial(hook, goal.pk))
    return True


@transaction.atomic
def goal_mark_missed(*, goal: Goal, value: Decimal | None) -> bool:
    now = timezone.now()
    updated = Goal.objects.filter(pk=goal.pk, status=Goal.Status.APPROVED, outcome="").update(
        outcome=Goal.Outcome.MISSED, outcome_at=now, pacing=Pacing.MISSED, updated_at=now
    )
    if updated != 1:
        return False
    GoalEvent.objects.create(
        goal=goal, kind=GoalEvent.Kind.MISSED, changes={"value": None if value is None else str(value)}
    )
    return True


@transaction.atomic
def goal_pacing_record(*, goal: Goal, state: str) -> bool:
    """Remember a change of pacing; when a goal turns at risk or behind from on track, tell its
    people (once per transition: the key carries the transition number)."""
    old = goal.pacing
    if old == state or state in (Pacing.MET, Pacing.MISSED, Pacing.NO_DATA, Pacing.JUST_STARTED):
        return False
    updated = Goal.objects.filter(pk=goal.pk, pacing=old, outcome="").update(
        pacing=state, pacing_changes=F("pacing_changes") + 1
    )
    if updated != 1:
        return False
    goal.refresh_from_db(fields=["pacing", "pacing_changes"])
    GoalEvent.objects.create(goal=goal, kind=GoalEvent.Kind.PACING, changes={"from": old, "to": state})
    if state in (Pacing.AT_RISK, Pacing.BEHIND) and old in ("", Pacing.ON_TRACK):
        label = Pacing(state).label.lower()
        for person in _people_of_goal(goal) + _managers_of_goal(goal):
            notification_create(
                recipient=person,
                kind=notices.GOAL_AT_RISK,
                title=f"Goal {label}: {goal.title} ({goal.owner_label})",
                key=f"goal-at-risk:{goal.pk}:{goal.pacing_changes}",
                url=_url(goal),
            )
    return True


def goal_evaluate(*, goal_id: int, now: dt.datetime | None = None, thresholds: Thresholds | None = None) -> str | None:
    """Snapshot a goal's figure for the day that just ended and act on its pacing: record a
    change, mark it met or missed. Safe to repeat: the snapshot is unique per (goal, date) and
    every state change is a conditional update."""
    now = now or timezone.now()
    goal = Goal.objects.select_related("owner", "team").filter(pk=goal_id).first()
    if goal is None or not goal.is_open:
        return None
    zone = goal_zone(goal)  # the goal's days are its people's days, wherever the site's midnight falls
    today = timezone.localdate(now, zone)
    if goal.start_date > today:
        return None
    # The figure at the goal's last midnight closes yesterday (its own day, not the site's).
    midnight = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    progress = goals_progress([goal], now=midnight, thresholds=thresholds or thresholds_get())[goal.pk]
    day = today - dt.timedelta(days=1)
    if day >= goal.start_date:
        GoalSnapshot.objects.get_or_create(
            goal=goal, date=day, defaults={"value": progress.actual, "pacing": progress.state}
        )
    if progress.state == Pacing.MET:
        goal_mark_met(goal=goal, value=progress.actual)
    elif progress.state == Pacing.MISSED:
        goal_mark_missed(goal=goal, value=progress.actual)
    else:
        goal_pacing_record(goal=goal, state=progress.state)
    return progress.state


def goal_snapshots_backfill(*, goal: Goal, until: dt.date | None = None) -> int:
    """Write the missing daily snapshots of a built-in goal from its start to `until` (yesterday by
    default), each computed as of that day's end. Only snapshots: no pacing change, no notice.
    Used when a goal is set part-way through its period, so its chart starts at the start."""
    if goal.is_manual:
        return 0
    tz = goal_zone(goal)
    until = min(until or timezone.localdate(timezone.now(), tz) - dt.timedelta(days=1), goal.end_date)
    have = set(GoalSnapshot.objects.filter(goal=goal).values_list("date", flat=True))
    thresholds = thresholds_get()
    written = 0
    day = goal.start_date
    while day <= until:
        if day not in have:
            end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
            progress = goals_progress([goal], now=end_of_day, thresholds=thresholds)[goal.pk]
            _, created = GoalSnapshot.objects.get_or_create(
                goal=goal, date=day, defaults={"value": progress.actual, "pacing": progress.state}
            )
            written += created
        day += dt.timedelta(days=1)
    return written


def goals_evaluate_open(*, now: dt.datetime | None = None) -> int:
    """Evaluate every approved goal without an outcome that has started."""
    now = now or timezone.now()
    thresholds = thresholds_get()
    ids = list(
        # A day of margin: a goal whose zone is ahead of the site's may have started already;
        # goal_evaluate checks the start in the goal's own zone.
        Goal.objects.filter(
            status=Goal.Status.APPROVED, outcome="", start_date__lte=timezone.localdate(now) + dt.timedelta(days=1)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for goal_id in ids:
        goal_evaluate(goal_id=goal_id, now=now, thresholds=thresholds)
    return len(ids)


# --- Commitments -------------------------------------------------------------------


def _clean_text(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({"text": "Say what you commit to (for example “call 30 new leads”)."})
    if len(text) > 200:
        raise ValidationError({"text": "Keep it short: 200 characters at most."})
    return text


@transaction.atomic
def commitment_create(*, actor: User, text: str, week: dt.date | None = None) -> Commitment:
    """A commitment for this week (or next week: planning ahead is fine, the past is not)."""
    this_week = week_start()
    week = week_start(week) if week else this_week
    if week < this_week or week > this_week + dt.timedelta(days=7):
        raise ValidationError({"week": "Commit to this week or next week."})
    return Commitment.objects.create(owner=actor, week_start=week, text=_clean_text(text))


@transaction.atomic
def commitment_set_done(*, actor: User, commitment: Commitment, done: bool) -> Commitment:
    if commitment.owner_id != actor.pk:
        raise PermissionDenied
    old, new = (Commitment.Status.OPEN, Commitment.Status.DONE)
    if not done:
        old, new = new, old
    now = timezone.now()
    Commitment.objects.filter(pk=commitment.pk, status=old).update(
        status=new, done_at=now if done else None, updated_at=now
    )
    commitment.refresh_from_db()
    if commitment.status not in (Commitment.Status.OPEN, Commitment.Status.DONE):
        raise ValidationError("This commitment was already carried over or closed.")
    return commitment


@transaction.atomic
def commitment_close(*, actor: User, commitment: Commitment, note: str) -> Commitment:
    """Close an open commitment without doing it, saying why."""
    if commitment.owner_id != actor.pk:
        raise PermissionDenied
    note = " ".join((note or "").split())
    if not note:
        raise ValidationError({"note": "Add a short note saying why it is closed."})
    updated = Commitment.objects.filter(pk=commitment.pk, status=Commitment.Status.OPEN).update(
        status=Commitment.Status.CLOSED, note=note[:300], updated_at=timezone.now()
    )
    if updated != 1:
        raise ValidationError("Only an open commitment can be closed.")
    commitment.refresh_from_db()
    return commitment


@transaction.atomic
def commitment_carry_over(*, actor: User | None, commitment: Commitment, today: dt.date | None = None) -> Commitment:
    """Move an open commitment to the following week (this week, if it is from further back).
    The old row stays as history (status carried); the one-to-one `carried_from` makes a
    second carry of the same row impossible."""
    if actor is not None and commitment.owner_id != actor.pk:
        raise PermissionDenied
    updated = Commitment.objects.filter(pk=commitment.pk, status=Commitment.Status.OPEN).update(
        status=Commitment.Status.CARRIED, updated_at=timezone.now()
    )
    if updated != 1:
        raise ValidationError("Only an open commitment can be carried over.")
    target = max(commitment.week_start + dt.timedelta(days=7), week_start(today))
    return Commitment.objects.create(
        owner_id=commitment.owner_id, week_start=target, text=commitment.text, carried_from=commitment
    )


def commitments_roll_over(*, today: dt.date | None = None) -> int:
    """At the start of a week, carry every commitment still open from past weeks into this one."""
    this_week = week_start(today)
    ids = list(
        Commitment.objects.filter(status=Commitment.Status.OPEN, week_start__lt=this_week).values_list("pk", flat=True)
    )
    carried = 0
    for pk in ids:
        commitment = Commitment.objects.get(pk=pk)
        try:
            commitment_carry_over(actor=None, commitment=commitment, today=today)
        except ValidationError:
            continue  # someone closed or carried it meanwhile
        carried += 1
    return carried
