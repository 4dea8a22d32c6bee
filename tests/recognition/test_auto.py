"""Automatic recognition: exactly once per cause, whatever retries or second workers do."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accountability.notifications.models import Notification
from goals.models import Commitment
from goals.services import goal_mark_met
from leads.models import FollowUp
from leads.services import activity_log
from recognition import auto, hooks, tasks
from recognition.models import AutoKudos, AutoRule, Kudos
from tests.factories import LeadFactory
from tests.goals.factories import CommitmentFactory, GoalFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


@pytest.fixture
def run_tasks_inline(monkeypatch):
    """The hooks' .delay() runs the task in the test (as a worker would, after the commit)."""
    monkeypatch.setattr(tasks.auto_goal_met_task, "delay", lambda *a: tasks.auto_goal_met_task(*a))
    monkeypatch.setattr(tasks.auto_lead_saved_task, "delay", lambda *a: tasks.auto_lead_saved_task(*a))


def test_goal_met_posts_one_automatic_kudos_even_when_the_task_runs_twice(
    alice, maria, run_tasks_inline, django_capture_on_commit_callbacks
):
    goal = GoalFactory(owner=alice, title="Book discovery demos")
    with django_capture_on_commit_callbacks(execute=True):
        assert goal_mark_met(goal=goal, value=Decimal(10))
    # a retry and a second worker
    assert tasks.auto_goal_met_task(goal.pk) is False
    assert tasks.auto_goal_met_task(goal.pk) is False
    kudos = Kudos.objects.get()
    assert kudos.is_automatic and kudos.goal == goal and list(kudos.recipients.all()) == [alice]
    assert "Book discovery demos" in kudos.message
    assert AutoKudos.objects.get().cause == f"goal:{goal.pk}"
    assert Notification.objects.filter(recipient=alice, kind="kudos_received").count() == 1


def test_a_goal_not_met_is_not_recognised(alice):
    goal = GoalFactory(owner=alice)
    assert auto.auto_goal_met(goal_id=goal.pk) is None
    assert not Kudos.objects.exists()


def test_a_team_goal_met_recognises_the_whole_team(alice, bob, north, maria):
    goal = GoalFactory(owner=None, team=north, created_by=maria)
    goal_mark_met(goal=goal, value=Decimal(10))
    auto.auto_goal_met(goal_id=goal.pk)
    assert set(Kudos.objects.get().recipients.all()) == {alice, bob}


def test_a_rule_switched_off_posts_nothing(alice):
    AutoRule.objects.update_or_create(code="goal_met", defaults={"enabled": False})
    goal = GoalFactory(owner=alice)
    goal_mark_met(goal=goal, value=Decimal(10))
    assert auto.auto_goal_met(goal_id=goal.pk) is None


def test_the_hook_is_connected_to_goals_and_leads():
    from goals.services import GOAL_MET_HOOKS
    from leads.services import FIRST_CONTACT_HOOKS

    assert hooks.on_goal_met in GOAL_MET_HOOKS
    assert hooks.on_first_contact in FIRST_CONTACT_HOOKS


def test_a_lead_saved_from_neglect_is_recognised_once(alice, bob, run_tasks_inline, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=alice, received_by=alice, arrived_at=timezone.now() - dt.timedelta(hours=30))
    lead.owner = bob
    lead.save(update_fields=["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        activity_log(actor=bob, lead=lead, kind="call", outcome="connected")
    assert tasks.auto_lead_saved_task(lead.pk) is False
    kudos = Kudos.objects.get()
    assert list(kudos.recipients.all()) == [bob] and kudos.lead == lead
    assert auto.auto_catch_up(since=timezone.now() - dt.timedelta(days=3)) == 0


def test_a_quick_first_contact_by_the_receiver_or_a_teammate_is_not_a_save(alice, bob):
    own = LeadFactory(owner=alice, received_by=alice, arrived_at=timezone.now() - dt.timedelta(hours=30))
    activity_log(actor=alice, lead=own, kind="call", outcome="connected")
    fresh = LeadFactory(owner=bob, received_by=alice, arrived_at=timezone.now() - dt.timedelta(hours=2))
    activity_log(actor=bob, lead=fresh, kind="call", outcome="connected")
    assert auto.auto_lead_saved(lead_id=own.pk) is None
    assert auto.auto_lead_saved(lead_id=fresh.pk) is None


def test_cosign_queues_then_the_manager_posts_once(alice, maria, sam):
    AutoRule.objects.update_or_create(code="goal_met", defaults={"requires_cosign": True})
    goal = GoalFactory(owner=alice)
    goal_mark_met(goal=goal, value=Decimal(10))
    grant = auto.auto_goal_met(goal_id=goal.pk)
    assert grant.state == "pending" and not Kudos.objects.exists()
    assert Notification.objects.filter(recipient=maria, kind="kudos_cosign").count() == 1
    with pytest.raises(auto.PermissionDenied):
        auto.auto_kudos_cosign(actor=sam, grant=grant, approve=True)
    auto.auto_kudos_cosign(actor=maria, grant=grant, approve=True)
    with pytest.raises(auto.ValidationError):
        auto.auto_kudos_cosign(actor=maria, grant=grant, approve=True)
    assert Kudos.objects.count() == 1


def _on_time_days(rep, days):
    for day in days:
        arrived = dt.datetime.combine(day, dt.time(10), tzinfo=TZ)
        LeadFactory(owner=rep, received_by=rep, arrived_at=arrived, first_contacted_at=arrived + dt.timedelta(hours=1))


def test_sla_streak_of_n_business_days_is_recognised_once_and_not_again_the_next_day(alice, bob):
    AutoRule.objects.update_or_create(
        code="sla_streak", defaults={"params": {"business_days": 5, "first_contact_hours": 4}}
    )
    today = dt.date(2026, 11, 30)  # a Monday: the window is Mon 23 to Fri 27 November
    days = auto.business_days_before(today, 5)
    assert days == [dt.date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
    _on_time_days(alice, days)
    _on_time_days(bob, days)
    late = dt.datetime(2026, 11, 25, 10, tzinfo=TZ)  # bob's follow-up done late breaks his streak
    lead = LeadFactory(owner=bob, received_by=bob, arrived_at=late - dt.timedelta(days=10))
    FollowUp.objects.create(lead=lead, owner=bob, due_at=late, state="done", done_at=late + dt.timedelta(hours=3))
    assert auto.auto_sla_streaks(today=today) == 1
    assert auto.auto_sla_streaks(today=today) == 0
    assert auto.auto_sla_streaks(today=today + dt.timedelta(days=1)) == 0  # overlaps the streak just recognised
    kudos = Kudos.objects.get()
    assert list(kudos.recipients.all()) == [alice] and "5 business days" in kudos.message


def test_commitments_kept_every_week_for_a_month(alice, bob):
    today = dt.date(2026, 12, 2)  # week of 30 Nov; the four weeks before start 2 Nov
    for weeks_back in range(1, 5):
        monday = dt.date(2026, 11, 30) - dt.timedelta(weeks=weeks_back)
        CommitmentFactory(owner=alice, week_start=monday, status="done", done_at=timezone.now())
        CommitmentFactory(
            owner=bob, week_start=monday, status="done" if weeks_back != 2 else "open",
            done_at=timezone.now() if weeks_back != 2 else None,
        )  # fmt: skip
    assert auto.auto_commitments_kept(today=today) == 1
    assert auto.auto_commitments_kept(today=today) == 0
    assert list(Kudos.objects.get().recipients.all()) == [alice]
    assert Commitment.objects.count() == 8


def test_sla_streak_days_are_cut_in_the_reps_team_zone(charlie, south):
    import zoneinfo

    AutoRule.objects.update_or_create(
        code="sla_streak", defaults={"params": {"business_days": 5, "first_contact_hours": 4}}
    )
    south.time_zone = "America/Los_Angeles"
    south.save()
    la = zoneinfo.ZoneInfo("America/Los_Angeles")
    today = dt.date(2026, 11, 30)
    for day in auto.business_days_before(today, 5):
        arrived = dt.datetime.combine(day, dt.time(10), tzinfo=la)
        LeadFactory(owner=charlie, received_by=charlie, arrived_at=arrived, first_contacted_at=arrived)
    # Friday 27 Nov, 22:00 in Los Angeles (Saturday in UTC): a business day for charlie, answered late
    late = dt.datetime(2026, 11, 27, 22, tzinfo=la)
    LeadFactory(owner=charlie, received_by=charlie, arrived_at=late, first_contacted_at=late + dt.timedelta(hours=9))
    assert auto.auto_sla_streaks(today=today) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_one_kudos(alice):
    import threading

    from django.db import connection

    goal = GoalFactory(owner=alice)
    goal_mark_met(goal=goal, value=Decimal(10))
    auto.rule_get("goal_met")
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(auto.auto_goal_met(goal_id=goal.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False, True]
    assert Kudos.objects.count() == 1
