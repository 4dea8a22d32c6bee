import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from leads import tasks as leads_tasks
from leads.models import RepDay
from reviews import tasks
from reviews.models import DriftFlag
from tests.leads.factories_metrics import received_lead

pytestmark = pytest.mark.django_db


def test_rollup_and_drift_tasks_are_scheduled():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "leads.tasks.rollup_refresh_task",
        "reviews.tasks.drift_flags_nightly",
        "reviews.tasks.drift_digests_weekly",
    } <= names


def test_nightly_tasks_twice_do_the_same(org):
    received_lead(org["alice"], arrived_at=timezone.now() - dt.timedelta(days=3))
    assert leads_tasks.rollup_refresh_task() > 0
    rows = list(RepDay.objects.order_by("user_id", "day").values("user_id", "day", "received"))
    leads_tasks.rollup_refresh_task()
    assert list(RepDay.objects.order_by("user_id", "day").values("user_id", "day", "received")) == rows
    first = tasks.drift_flags_nightly()
    assert tasks.drift_flags_nightly() == 0
    assert DriftFlag.objects.count() == first


def test_digest_task_for_a_manager_without_new_flags_sends_nothing(org):
    assert tasks.drift_digest_manager(org["maria"].pk) is False
    assert tasks.drift_digest_manager(999999) is False
