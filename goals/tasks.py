"""Thin Celery wrappers around goals services. Schedules: accountability/schedules.py (goals block)."""

from celery import shared_task
from django.db.models import Q

from accountability.models import Team, User
from goals import digests, services


@shared_task(acks_late=True)
def goals_evaluate_daily() -> int:
    """Snapshot every running goal's figure for the day that ended, record pacing changes,
    mark goals met or missed. At-least-once is safe: snapshots are unique per (goal, date),
    pacing and outcomes change by conditional updates, and notices are keyed."""
    return services.goals_evaluate_open()


@shared_task(acks_late=True)
def commitments_carry_over() -> int:
    """Carry every commitment still open from past weeks into this week. At-least-once is safe:
    a commitment is claimed by a conditional update (open -> carried) and can be carried once."""
    return services.commitments_roll_over()


@shared_task(acks_late=True)
def goals_weekly_digests() -> int:
    """Send the weekly digest to each rep and each manager. At-least-once is safe: one notice
    per person per ISO week (unique notification key)."""
    sent = 0
    for user_id in User.objects.filter(is_active=True, role=User.Role.REP).values_list("pk", flat=True):
        goals_digest_rep.delay(user_id)
        sent += 1
    manager_ids = Team.objects.filter(~Q(manager=None), manager__is_active=True).values_list("manager_id", flat=True)
    for manager_id in sorted(set(manager_ids)):
        goals_digest_manager.delay(manager_id)
        sent += 1
    return sent


@shared_task(acks_late=True)
def goals_digest_rep(user_id: int) -> bool:
    """One rep's digest; at-least-once, deduplicated by the notice key (person + week)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return bool(user and digests.digest_rep_send(user=user))


@shared_task(acks_late=True)
def goals_digest_manager(user_id: int) -> bool:
    """One manager's digest; at-least-once, deduplicated by the notice key (person + week)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return bool(user and digests.digest_manager_send(manager=user))
