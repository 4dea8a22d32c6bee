"""My day polled by an open tab (leads:my-day-sections): 304 while nothing it shows changed,
the sections again when a row must move; and what a quick log answers (toast, logged row)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, TeamIntakeSettings
from leads.services import lead_reassign
from tests.factories import LeadFactory
from tests.leads.factories import TeamIntakeSettingsFactory
from tests.leads.test_views import HTMX, overdue_lead

pytestmark = pytest.mark.django_db

URL = "/leads/my-day/sections/"


def poll(client, etag=None):
    return client.get(URL, HTTP_IF_NONE_MATCH=etag, **HTMX) if etag else client.get(URL, **HTMX)


def due_later_today(owner, name):
    now = timezone.now()
    lead = LeadFactory(owner=owner, name=name, stage="contacted", first_contacted_at=now)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=now + timedelta(minutes=1))
    return lead


def test_unchanged_day_answers_304(org, login):
    overdue_lead(org["alice"], org["north"], name="Late one")
    client = login(org["alice"])
    first = poll(client)
    assert first.status_code == 200 and 'id="my-day-sections"' in first.content.decode()
    assert "<html" not in first.content.decode()
    assert poll(client, first["ETag"]).status_code == 304


def test_a_follow_up_falling_due_moves_its_row_to_overdue(org, login):
    lead = due_later_today(org["alice"], "Soon Sam")
    client = login(org["alice"])
    first = poll(client)
    assert [x.name for x in first.context["day"].due_today] == ["Soon Sam"]
    # Time passes: no write to the lead, yet its follow-up is now in the past.
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=timezone.now() - timedelta(seconds=1))
    moved = poll(client, first["ETag"])
    assert moved.status_code == 200
    assert [x.name for x in moved.context["day"].overdue] == ["Soon Sam"]
    assert moved.context["day"].due_today == []


def test_a_lead_reassigned_away_leaves_the_day(org, login):
    lead = overdue_lead(org["alice"], org["north"], name="Going to Bob")
    client = login(org["alice"])
    etag = poll(client)["ETag"]
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Holiday")
    moved = poll(client, etag)
    assert moved.status_code == 200 and "Going to Bob" not in moved.content.decode()


def test_a_new_lead_in_the_teams_queue_shows(org, login):
    TeamIntakeSettingsFactory(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    client = login(org["alice"])
    etag = poll(client)["ETag"]
    LeadFactory(owner=None, team=org["north"], name="Queued Quinn")
    moved = poll(client, etag)
    assert moved.status_code == 200 and "Queued Quinn" in moved.content.decode()


def test_another_reps_changes_do_not_wake_the_poll_nor_show(org, login):
    overdue_lead(org["alice"], org["north"], name="Alice Own")
    client = login(org["alice"])
    etag = poll(client)["ETag"]
    overdue_lead(org["charlie"], org["south"], name="Charlie Secret")
    assert poll(client, etag).status_code == 304
    body = poll(client).content.decode()
    assert "Charlie Secret" not in body and "Alice Own" in body
    # a stale tag of someone else never matches
    assert poll(login(org["charlie"]), etag).status_code == 200


def test_signed_out_poll_is_401_and_post_is_405(org, client, login):
    assert client.get(URL).status_code == 401
    assert login(org["alice"]).post(URL).status_code == 405


@pytest.mark.parametrize("rows", [3, 40])
def test_poll_query_count_is_constant(org, login, django_assert_num_queries, rows):
    TeamIntakeSettingsFactory(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    for i in range(rows):
        overdue_lead(org["alice"], org["north"])
        LeadFactory(owner=org["alice"])
        LeadFactory(owner=None, team=org["north"], name=f"Q{i}")
    client = login(org["alice"])
    etag = poll(client)["ETag"]
    # session, user, alice's time zone (middleware), the day's version (one aggregate): 4.
    with django_assert_num_queries(4):
        assert poll(client, etag).status_code == 304


def test_quick_log_answers_with_a_toast_and_the_lead_in_its_new_state(org, login):
    lead = overdue_lead(org["alice"], org["north"], name="Priya Raman")
    when = timezone.localtime() + timedelta(days=2)
    response = login(org["alice"]).post(
        f"/leads/{lead.pk}/activities/",
        {
            "from": "my-day",
            "kind": "call",
            "outcome": "connected",
            "next_follow_up_at": when.strftime("%Y-%m-%dT%H:%M"),
        },
        **HTMX,
    )
    body = response.content.decode()
    activity = lead.activities.get(kind="call")
    assert 'data-testid="logged-toast"' in body
    assert f"Call logged for Priya Raman, next follow-up {when:%a} {when.day} {when:%b %H:%M}" in body
    assert f'href="/leads/{lead.pk}/#activity-{activity.pk}"' in body  # edit it on the lead page
    # the row stays in view, in its new state, though it left every section
    assert 'data-testid="logged-row"' in body and "Contacted" in body
    assert response.context["day"].overdue == []


def test_quick_log_without_follow_up_says_so(org, login):
    lead = overdue_lead(org["alice"], org["north"], name="Priya Raman")
    body = (
        login(org["alice"])
        .post(f"/leads/{lead.pk}/activities/", {"from": "my-day", "kind": "note", "body": "Hi"}, **HTMX)
        .content.decode()
    )
    assert "Note logged for Priya Raman" in body


def test_refused_quick_log_shows_no_toast(org, login):
    lead = overdue_lead(org["alice"], org["north"], name="Late one")
    body = (
        login(org["alice"])
        .post(f"/leads/{lead.pk}/activities/", {"from": "my-day", "kind": "call", "outcome": "replied"}, **HTMX)
        .content.decode()
    )
    assert "logged-toast" not in body and "choose an outcome" in body
    assert 'value="replied"' in body  # the row keeps what was typed
