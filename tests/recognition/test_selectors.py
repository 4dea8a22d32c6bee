"""The selectors other apps read: kudos_received (review packet) and last_kudos_received_at."""

import datetime as dt

import pytest
from django.utils import timezone

from recognition.selectors import evidence_choices, kudos_received, last_kudos_received_at, unrecognised
from recognition.services import kudos_hide
from tests.factories import LeadFactory
from tests.goals.factories import CommitmentFactory, GoalFactory
from tests.recognition.factories import make_kudos

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def at(days_ago):
    return NOW - dt.timedelta(days=days_ago)


def test_kudos_received_in_a_half_open_period_newest_first_without_hidden(org, own_it, django_assert_num_queries):
    alice, bob, charlie, maria = org["alice"], org["bob"], org["charlie"], org["maria"]
    old = make_kudos(alice, [bob], created_at=at(40))
    first = make_kudos(alice, [bob, charlie], created_at=at(20), values=[own_it])
    second = make_kudos(charlie, [bob], created_at=at(10))
    hidden = make_kudos(alice, [bob], created_at=at(5))
    kudos_hide(actor=maria, kudos=hidden, reason="Off topic")
    make_kudos(bob, [alice], created_at=at(3))  # given, not received
    edge = make_kudos(alice, [bob], created_at=at(1))
    with django_assert_num_queries(2):  # the kudos with giver and evidence, then their values
        rows = list(kudos_received(bob, start=at(30), end=edge.created_at))
    assert rows == [second, first]  # the end is excluded; the hidden and the older are not there
    assert [v.name for v in rows[1].values.all()] == ["Own it"]
    assert old not in kudos_received(bob, start=at(30), end=NOW)


def test_last_kudos_received_at_in_one_query(org, django_assert_num_queries):
    alice, bob, charlie = org["alice"], org["bob"], org["charlie"]
    make_kudos(alice, [bob], created_at=at(9))
    latest = make_kudos(charlie, [bob], created_at=at(2))
    hidden = make_kudos(bob, [charlie], created_at=at(1))
    kudos_hide(actor=org["sam"], kudos=hidden, reason="Off topic")
    with django_assert_num_queries(1):
        result = last_kudos_received_at([alice, bob.pk, charlie])
    assert result == {bob.pk: latest.created_at}


def test_unrecognised_lists_a_managers_people_without_kudos_in_30_days(org):
    make_kudos(org["alice"], [org["bob"]], created_at=at(40))
    make_kudos(org["bob"], [org["alice"]], created_at=at(3))
    rows = unrecognised(org["maria"], now=NOW)
    assert [(p.username, bool(last)) for p, last in rows] == [("bob", True)]
    assert [p.username for p, _ in unrecognised(org["admin"], now=NOW)] == ["bob", "charlie"]


def test_managers_weekly_digest_lists_last_weeks_kudos_once(org):
    from recognition.digests import digest_manager_send
    from recognition.tasks import kudos_weekly_digests

    make_kudos(org["alice"], [org["bob"]], message="Booked the Contoso demo from a parked lead.", created_at=at(2))
    make_kudos(org["alice"], [org["charlie"]], created_at=at(2))  # sam's team
    notice = digest_manager_send(manager=org["maria"], now=NOW)
    assert "Contoso" in notice.body and "No recognition in 30 days: Alice" in notice.body
    assert "Charlie" not in notice.body
    assert digest_manager_send(manager=org["maria"], now=NOW) is None  # once per week
    assert digest_manager_send(manager=org["alice"], now=NOW) is None  # not a manager
    assert kudos_weekly_digests() == 2  # helen and sam; maria already has hers


def test_evidence_choices_are_named_by_each_kind_without_a_query_per_row(org, django_assert_num_queries):
    alice, bob = org["alice"], org["bob"]
    lead = LeadFactory(owner=alice, name="Acme", company="Acme Ltd")
    bare = LeadFactory(owner=alice, name="Solo", company="")
    own = GoalFactory(owner=alice, title="Ten demos")
    team_goal = GoalFactory(owner=None, team=org["north"], title="Team target", created_by=org["maria"])
    mine = CommitmentFactory(owner=alice, text="Call five leads")
    theirs = CommitmentFactory(owner=bob, text="Book two demos")
    LeadFactory(owner=bob, name="Not hers")
    with django_assert_num_queries(4):  # leads, her teams, goals (with owner and team), commitments (with owner)
        choices = dict(evidence_choices(alice))
    assert choices == {
        f"lead:{lead.pk}": "Lead: Acme (Acme Ltd)",
        f"lead:{bare.pk}": "Lead: Solo",
        f"goal:{own.pk}": f"Goal: Ten demos ({alice})",
        f"goal:{team_goal.pk}": "Goal: Team target (North)",
        f"commitment:{mine.pk}": f"Commitment: Call five leads ({alice})",
        f"commitment:{theirs.pk}": f"Commitment: Book two demos ({bob})",
    }
