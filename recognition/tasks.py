"""Thin Celery wrappers around recognition.auto and recognition.awards."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from accountability.models import Team, User
from recognition import auto, awards
from recognition.digests import digest_manager_send


@shared_task(autoretry_for=(Exception,), retry_backoff=30, max_retries=5)
def auto_goal_met_task(goal_id: int) -> bool:
    """At-least-once (retried on error): safe because the AutoKudos row of the goal is unique."""
    return auto.auto_goal_met(goal_id=goal_id) is not None


@shared_task(autoretry_for=(Exception,), retry_backoff=30, max_retries=5)
def auto_lead_saved_task(lead_id: int) -> bool:
    """At-least-once: the AutoKudos row of the lead is unique, a second run does nothing."""
    return auto.auto_lead_saved(lead_id=lead_id) is not None


@shared_task
def auto_recognition_nightly() -> dict:
    """At-least-once: every rule records its cause under a unique constraint. Runs the streak
    rules for the days that ended and catches up goals met / leads saved of the last 3 days."""
    return {
        "sla_streaks": auto.auto_sla_streaks(),
        "commitments_kept": auto.auto_commitments_kept(),
        "catch_up": auto.auto_catch_up(since=timezone.now() - dt.timedelta(days=3)),
    }


@shared_task
def awards_compute_task() -> int:
    """At-least-once: one winner per award and period (unique), so a rerun changes nothing."""
    return awards.awards_compute_due()


@shared_task
def kudos_weekly_digests() -> int:
    """At-least-once: one notice per manager per ISO week (unique notification key)."""
    ids = set(Team.objects.exclude(manager=None).values_list("manager_id", flat=True))
    return sum(
        digest_manager_send(manager=manager) is not None for manager in User.objects.filter(pk__in=ids, is_active=True)
    )
