import datetime as dt

import pytest
from django.urls import reverse

from goals.models import Commitment
from goals.selectors import week_start
from goals.services import commitments_roll_over
from tests.goals.factories import CommitmentFactory

pytestmark = pytest.mark.django_db


def test_rep_adds_a_commitment_for_this_week(login, alice):
    response = login(alice).post(reverse("goals:commitment-create"), {"text": "  call 30   new leads ", "week": "this"})
    assert response.status_code == 302
    c = Commitment.objects.get()
    assert (c.owner, c.text, c.week_start, c.status) == (alice, "call 30 new leads", week_start(), "open")


@pytest.mark.parametrize(("data", "message"), [({"text": ""}, "required"), ({"text": "x" * 201}, "at most 200")])
def test_bad_commitment_is_refused(login, alice, data, message):
    response = login(alice).post(reverse("goals:commitment-create"), {"week": "this", **data}, follow=True)
    assert message in response.text
    assert not Commitment.objects.exists()


def test_rep_checks_off_in_place_with_htmx(login, alice):
    c = CommitmentFactory(owner=alice, text="two demos booked")
    client = login(alice)
    response = client.post(reverse("goals:commitment-check", args=[c.pk]), {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="commitment-{c.pk}"' in response.text and "<html" not in response.text
    c.refresh_from_db()
    assert c.status == "done" and c.done_at is not None
    client.post(reverse("goals:commitment-check", args=[c.pk]), {"done": "0"}, HTTP_HX_REQUEST="true")
    c.refresh_from_db()
    assert (c.status, c.done_at) == ("open", None)


def test_teammates_see_each_others_commitments_but_other_teams_do_not(login, alice, bob, charlie):
    CommitmentFactory(owner=alice, text="ring the Acme buyer")
    assert "ring the Acme buyer" in login(bob).get(reverse("goals:commitment-list")).text
    assert "ring the Acme buyer" not in login(charlie).get(reverse("goals:commitment-list")).text


def test_manager_sees_the_teams_commitments(login, alice, maria):
    CommitmentFactory(owner=alice, text="ring the Acme buyer")
    assert "ring the Acme buyer" in login(maria).get(reverse("goals:commitment-list")).text


def test_teammate_gets_403_and_other_team_404_on_checking_off(login, alice, bob, charlie):
    c = CommitmentFactory(owner=alice)
    url = reverse("goals:commitment-check", args=[c.pk])
    assert login(bob).post(url, {"done": "1"}).status_code == 403
    assert login(charlie).post(url, {"done": "1"}).status_code == 404
    c.refresh_from_db()
    assert c.status == "open"


@pytest.mark.parametrize("name", ["goals:commitment-check", "goals:commitment-close", "goals:commitment-carry"])
def test_get_on_post_only_commitment_views_is_405(login, alice, name):
    c = CommitmentFactory(owner=alice)
    assert login(alice).get(reverse(name, args=[c.pk])).status_code == 405


def test_get_on_commitment_create_is_405(login, alice):
    assert login(alice).get(reverse("goals:commitment-create")).status_code == 405


def test_close_needs_a_note(login, alice):
    c = CommitmentFactory(owner=alice)
    client = login(alice)
    client.post(reverse("goals:commitment-close", args=[c.pk]), {"note": ""})
    c.refresh_from_db()
    assert c.status == "open"
    client.post(reverse("goals:commitment-close", args=[c.pk]), {"note": "Lead went quiet"})
    c.refresh_from_db()
    assert (c.status, c.note) == ("closed", "Lead went quiet")


def test_manual_carry_over_moves_it_to_next_week_once(login, alice):
    c = CommitmentFactory(owner=alice, text="call 30 new leads")
    client = login(alice)
    client.post(reverse("goals:commitment-carry", args=[c.pk]))
    client.post(reverse("goals:commitment-carry", args=[c.pk]))
    c.refresh_from_db()
    assert c.status == "carried"
    new = Commitment.objects.get(carried_from=c)
    assert (new.week_start, new.text, new.status) == (c.week_start + dt.timedelta(days=7), c.text, "open")
    assert Commitment.objects.count() == 2


def test_week_end_roll_over_carries_open_commitments_and_a_second_run_does_nothing(alice, bob):
    this_week = week_start()
    last_week = this_week - dt.timedelta(days=7)
    open_one = CommitmentFactory(owner=alice, week_start=last_week, text="call 30 new leads")
    CommitmentFactory(owner=bob, week_start=last_week - dt.timedelta(days=7), text="old promise")
    from django.utils import timezone

    CommitmentFactory(owner=alice, week_start=last_week, status="done", done_at=timezone.now())
    CommitmentFactory(owner=alice, week_start=last_week, status="closed", note="no")
    CommitmentFactory(owner=alice, week_start=this_week)
    assert commitments_roll_over() == 2
    assert commitments_roll_over() == 0
    carried = Commitment.objects.get(carried_from=open_one)
    assert (carried.week_start, carried.status) == (this_week, "open")
    # two weeks back lands in this week, not last week
    assert Commitment.objects.get(text="old promise", status="open").week_start == this_week
    assert Commitment.objects.count() == 7


def test_commitment_text_is_escaped(login, alice, bob):
    CommitmentFactory(owner=alice, text="<script>alert(1)</script>")
    text = login(bob).get(reverse("goals:commitment-list")).text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_refused_commitment_redisplays_the_typed_text_and_week(login, alice):
    typed = "ring every <b>open</b> lead " + "y" * 200  # over the 200-character limit
    response = login(alice).post(reverse("goals:commitment-create"), {"text": typed, "week": "next"})
    assert response.status_code == 200
    assert "Commitment not added" in response.text and "at most 200 characters" in response.text
    assert "ring every &lt;b&gt;open&lt;/b&gt; lead yyy" in response.text
    assert '<option value="next" selected>' in response.text
    assert not Commitment.objects.exists()
