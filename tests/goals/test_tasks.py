"""Daily evaluation, notices and digests; each run twice to show the second does nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accountability.notifications.models import Notification
from goals import tasks
from goals.digests import digest_manager_send, digest_rep_send
from goals.models import Goal, GoalEvent, GoalSnapshot, Pacing
from goals.selectors import week_start
from goals.services import goal_check_in, goals_evaluate_open
from tests.goals.factories import CheckInFactory, CommitmentFactory, GoalFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def midnight(day, month=11):
    return dt.datetime(2026, month, day, tzinfo=TZ)


def test_daily_evaluation_snapshots_yesterday_once_and_notices_at_risk_once(alice, maria):
    goal = GoalFactory(owner=alice, target=Decimal(10))  # 10 demos in November
    CheckInFactory(goal=goal, value=Decimal(5))  # 5 of 5 expected at 16 Nov 00:00: on track
    goals_evaluate_open(now=midnight(16))
    goal.refresh_from_db()
    assert goal.pacing == Pacing.ON_TRACK
    snap = GoalSnapshot.objects.get()
    assert (snap.date, snap.value, snap.pacing) == (dt.date(2026, 11, 15), Decimal(5), Pacing.ON_TRACK)
    # a day later nothing new was checked in: 5 of 5.33 expected = 93.8 %, still on track;
    # at 19 Nov, 5 of 6 expected = 83.3 %: at risk -> rep and manager told once
    goals_evaluate_open(now=midnight(19))
    goals_evaluate_open(now=midnight(19))
    goal.refresh_from_db()
    assert goal.pacing == Pacing.AT_RISK
    assert GoalSnapshot.objects.count() == 2
    notices = Notification.objects.filter(kind="goal_at_risk")
    assert sorted(n.recipient.username for n in notices) == ["alice", "maria"]
    assert goal.events.filter(kind=GoalEvent.Kind.PACING).count() == 2


def test_goal_met_by_a_check_in_notifies_once_and_is_recorded(alice, maria):
    goal = GoalFactory(owner=alice, target=Decimal(10), start_date=dt.date(2026, 11, 1))
    goal_check_in(actor=alice, goal=goal, value=Decimal(10), comment="Done!")
    goal.refresh_from_db()
    assert (goal.outcome, goal.pacing) == (Goal.Outcome.MET, Pacing.MET)
    assert goal.events.filter(kind=GoalEvent.Kind.MET).count() == 1
    assert Notification.objects.filter(kind="goal_met").count() == 2  # alice and maria
    goals_evaluate_open(now=midnight(20))  # already met: nothing more
    assert goal.events.filter(kind=GoalEvent.Kind.MET).count() == 1


def test_period_end_marks_missed_once(alice):
    goal = GoalFactory(owner=alice, target=Decimal(10))
    CheckInFactory(goal=goal, value=Decimal(3))
    goals_evaluate_open(now=midnight(1, month=12))
    goals_evaluate_open(now=midnight(1, month=12))
    goal.refresh_from_db()
    assert goal.outcome == Goal.Outcome.MISSED
    assert goal.events.filter(kind=GoalEvent.Kind.MISSED).count() == 1
    assert GoalSnapshot.objects.get().date == dt.date(2026, 11, 30)


def test_check_in_refused_for_invisible_or_closed_goals(alice, bob):
    from django.core.exceptions import PermissionDenied, ValidationError

    goal = GoalFactory(owner=alice)
    with pytest.raises(PermissionDenied):
        goal_check_in(actor=bob, goal=goal, value=1)
    with pytest.raises(ValidationError):
        goal_check_in(actor=alice, goal=goal, value=-1)
    proposed = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    with pytest.raises(ValidationError):
        goal_check_in(actor=alice, goal=proposed, value=1)


def test_weekly_digests_once_per_week(alice, maria, bob):
    today = timezone.localdate()
    goal = GoalFactory(owner=alice, start_date=today - dt.timedelta(days=10), end_date=today + dt.timedelta(days=10))
    CheckInFactory(goal=goal, value=Decimal(0))  # 0 of ~5 expected: behind
    CommitmentFactory(owner=alice, text="call 30 new leads")
    first = digest_rep_send(user=alice)
    assert first is not None and "call 30 new leads" in first.body and goal.title in first.body
    assert digest_rep_send(user=alice) is None
    manager = digest_manager_send(manager=maria)
    assert "1 of 1 at risk or behind" in manager.title and goal.title in manager.body
    assert digest_manager_send(manager=maria) is None


def test_digest_task_enqueues_one_per_person(settings, alice, bob, maria, sam, helen, charlie):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from accountability.celery import app

    app.conf.task_always_eager = True
    try:
        assert tasks.goals_weekly_digests() == 6  # 3 reps, 3 managers
        tasks.goals_weekly_digests()
    finally:
        app.conf.task_always_eager = False
    assert Notification.objects.filter(kind="goals_digest_manager").count() == 3


def test_at_risk_again_after_recovering_is_a_new_notice(alice):
    goal = GoalFactory(owner=alice, target=Decimal(30))  # 1 a day expected
    CheckInFactory(goal=goal, value=Decimal(10))
    goals_evaluate_open(now=midnight(11))  # 10 of 10: on track
    goals_evaluate_open(now=midnight(13))  # 10 of 12 = 83 %: at risk -> notice 1
    CheckInFactory(goal=goal, value=Decimal(14))
    goals_evaluate_open(now=midnight(15))  # 14 of 14: on track again
    goals_evaluate_open(now=midnight(17))  # 14 of 16 = 87.5 %: at risk -> notice 2
    goals_evaluate_open(now=midnight(17))
    assert Notification.objects.filter(recipient=alice, kind="goal_at_risk").count() == 2


def test_beat_tasks_are_scheduled_and_a_second_run_does_nothing(settings, alice):
    from django.conf import settings as django_settings

    names = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "goals.tasks.goals_evaluate_daily",
        "goals.tasks.commitments_carry_over",
        "goals.tasks.goals_weekly_digests",
    } <= names
    today = timezone.localdate()
    goal = GoalFactory(owner=alice, start_date=today - dt.timedelta(days=5), end_date=today + dt.timedelta(days=5))
    CheckInFactory(goal=goal, value=Decimal(5))
    CommitmentFactory(owner=alice, week_start=week_start(today) - dt.timedelta(days=7))
    assert tasks.goals_evaluate_daily() == 1
    assert tasks.commitments_carry_over() == 1
    snapshots, events = GoalSnapshot.objects.count(), GoalEvent.objects.count()
    assert tasks.commitments_carry_over() == 0
    tasks.goals_evaluate_daily()
    assert (GoalSnapshot.objects.count(), GoalEvent.objects.count()) == (snapshots, events) == (1, 1)
