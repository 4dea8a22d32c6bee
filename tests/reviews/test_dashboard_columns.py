"""The review dashboard's action-item and 1:1 columns, each pair read in one query."""

import datetime as dt

import pytest
from django.utils import timezone

from reviews.dashboard import action_items_by_rep, one_on_ones_by_rep
from reviews.models import ActionItem, Meeting, OneOnOneSeries

pytestmark = pytest.mark.django_db


def _item(org, rep, *, due, status=ActionItem.Status.OPEN):
    closed = timezone.now() if status != ActionItem.Status.OPEN else None
    return ActionItem.objects.create(
        text="Call back", rep=rep, team=org["north"], owner=rep, due_date=due, status=status,
        created_by=org["maria"], closed_at=closed,
    )  # fmt: skip


def test_open_and_overdue_action_items_per_rep(org):
    today = timezone.localdate()
    alice, bob, charlie = org["alice"], org["bob"], org["charlie"]
    _item(org, alice, due=today - dt.timedelta(days=1))
    _item(org, alice, due=today)
    _item(org, alice, due=today - dt.timedelta(days=3), status=ActionItem.Status.DONE)
    _item(org, bob, due=today + dt.timedelta(days=2))
    opened, overdue = action_items_by_rep([alice.pk, bob.pk, charlie.pk], today=today)
    assert opened == {alice.pk: 2, bob.pk: 1}
    assert overdue == {alice.pk: 1}  # bob has none overdue: left out, shown as "—"


def test_last_held_and_next_scheduled_one_on_one_per_rep(org):
    now = timezone.now()
    alice, bob = org["alice"], org["bob"]
    series = OneOnOneSeries.objects.create(
        manager=org["maria"], rep=alice, team=org["north"], cadence="weekly", weekday=2, time=dt.time(10)
    )
    for days, state in ((-14, "held"), (-7, "held"), (-3, "scheduled"), (5, "scheduled"), (12, "scheduled")):
        at = now + dt.timedelta(days=days)
        Meeting.objects.create(series=series, scheduled_at=at, since=at - dt.timedelta(days=7), state=state)
    ended = OneOnOneSeries.objects.create(
        manager=org["maria"], rep=bob, team=org["north"], cadence="weekly", weekday=2, time=dt.time(10), is_active=False
    )
    at = now + dt.timedelta(days=2)
    Meeting.objects.create(series=ended, scheduled_at=at, since=at - dt.timedelta(days=7))
    last, upcoming = one_on_ones_by_rep([alice.pk, bob.pk], now=now)
    assert last == {alice.pk: timezone.localdate(now - dt.timedelta(days=7))}
    # The next one is the earliest still to come; an inactive series has none.
    assert upcoming == {alice.pk: timezone.localdate(now + dt.timedelta(days=5))}
