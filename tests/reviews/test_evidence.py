"""The rows behind each packet figure: every evidence list opens and holds the rows counted."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.models import Commitment
from leads.models import Activity, FollowUp
from reviews import services
from reviews.views import EVIDENCE_TITLES
from tests.factories import LeadFactory
from tests.reviews.factories import make_cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(alice, bob, north):
    now = timezone.now()
    won = LeadFactory(owner=alice, received_by=alice, name="Won Lead", arrived_at=now - dt.timedelta(days=5))
    won.stage, won.closed_at = "won", now - dt.timedelta(days=1)
    won.save()
    saved = LeadFactory(owner=bob, received_by=bob, name="Saved By Alice", arrived_at=now - dt.timedelta(days=4))
    saved.first_contacted_by, saved.first_contacted_at = alice, now - dt.timedelta(days=3)
    saved.save()
    lost = LeadFactory(owner=alice, received_by=alice, name="Saved From Alice", arrived_at=now - dt.timedelta(days=4))
    lost.first_contacted_by, lost.first_contacted_at = bob, now - dt.timedelta(days=3)
    lost.save()
    Activity.objects.create(lead=won, kind="call", actor=alice, occurred_at=now - dt.timedelta(days=2))
    FollowUp.objects.create(lead=won, owner=alice, due_at=now - dt.timedelta(days=2), state="open")
    monday = now.date() - dt.timedelta(days=now.date().weekday())
    Commitment.objects.create(owner=alice, week_start=monday, text="call 30 new leads")
    return now


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("won", "Won Lead"),
        ("closed", "Won Lead"),
        ("saved_by", "Saved By Alice"),
        ("saved_from", "Saved From Alice"),
        ("activities", "Won Lead"),
        ("follow_ups", "missed"),
        ("commitments", "call 30 new leads"),
        ("breaches", "Nothing in this period"),
        ("escalations", "Nothing in this period"),
    ],
)
def test_each_evidence_list_shows_its_rows(record, alice, maria, login, kind, text):
    assert set(EVIDENCE_TITLES) >= {kind}
    today = timezone.localdate()
    url = reverse("reviews:evidence", args=[kind]) + f"?rep={alice.pk}&from={today - dt.timedelta(days=10)}&to={today}"
    page = login(maria).get(url).content.decode()
    assert text in page


def test_packet_counts_match_the_evidence(record, admin, north, alice, bob, template):
    today = timezone.localdate()
    cycle = make_cycle(admin, [north], template, start=today - dt.timedelta(days=10), end=today)
    services.cycle_open(actor=admin, cycle=cycle)
    figures = services.review_packet(cycle.reviews.get(rep=alice)).by_key()
    assert figures["lead:deals_won"].value == "1"
    assert figures["sla:saved_by"].value == "1"
    assert figures["sla:saved_from"].value == "1"
    assert figures["commitments:made"].value == "1"


def test_a_bad_period_or_kind_is_a_404(alice, login):
    client = login(alice)
    assert client.get(reverse("reviews:evidence", args=["nope"]) + f"?rep={alice.pk}").status_code == 404
    assert client.get(reverse("reviews:evidence", args=["won"]) + f"?rep={alice.pk}&from=x&to=y").status_code == 404
