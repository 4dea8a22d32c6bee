"""A review's action items all done by their due dates: recognised once, automatically."""

import datetime as dt

import pytest
from django.utils import timezone

from recognition.models import AutoKudos, Kudos
from reviews import services
from reviews.models import Review

pytestmark = pytest.mark.django_db


def _shared(review):
    Review.objects.filter(pk=review.pk).update(state=Review.State.SHARED)  # as after share: items may be added
    review.refresh_from_db()
    return review


def _items(review, maria, alice, *dues):
    return [
        services.action_item_create(actor=maria, text=f"Item {i}", owner=alice, due_date=due, review=review)
        for i, due in enumerate(dues)
    ]


def test_all_items_done_on_time_give_one_automatic_kudos(
    alice_review, maria, alice, django_capture_on_commit_callbacks
):
    review = _shared(alice_review)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    first, second = _items(review, maria, alice, tomorrow, tomorrow)
    with django_capture_on_commit_callbacks(execute=True):
        services.action_item_close(actor=alice, item=first, status="done")
    assert not AutoKudos.objects.exists()  # one still open
    with django_capture_on_commit_callbacks(execute=True):
        services.action_item_close(actor=alice, item=second, status="done")
    kudos = Kudos.objects.get()
    assert kudos.giver is None and list(kudos.recipients.all()) == [alice]
    assert "all 2 action items" in kudos.message
    # a repeat (a retry, a second worker) finds the keyed row and posts nothing
    assert services.review_actions_recognise(review_id=review.pk) is True
    assert Kudos.objects.count() == 1 and AutoKudos.objects.count() == 1


def test_an_item_done_late_or_dropped_earns_nothing(alice_review, maria, alice, django_capture_on_commit_callbacks):
    review = _shared(alice_review)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    late, dropped = _items(review, maria, alice, yesterday, tomorrow)
    with django_capture_on_commit_callbacks(execute=True):
        services.action_item_close(actor=alice, item=late, status="done")
        services.action_item_close(actor=maria, item=dropped, status="dropped", reason="No longer relevant")
    assert services.review_actions_recognise(review_id=review.pk) is False
    assert not Kudos.objects.exists()
