"""The polled bell (notifications:live): 304 when nothing changed, the bell and toasts when
something did, one query per unchanged poll, and only ever the poller's own notices."""

import pytest

from accountability.notifications.kinds import Kind
from accountability.notifications.services import notification_create, notifications_mark_read

pytestmark = pytest.mark.django_db

TEST = Kind("test", "A test notice")
URL = "/notifications/live/"


def poll(client, etag=None, since=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    query = {} if since is None else {"since": since}
    return client.get(URL, query, **headers)


def test_unchanged_bell_answers_304_and_a_new_notice_answers_200_with_its_toast(alice, login):
    client = login(alice)
    first = poll(client)
    assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache"
    etag = first["ETag"]
    assert poll(client, etag).status_code == 304
    n = notification_create(recipient=alice, kind=TEST, title="Call Acme back", key="e1", url="/")
    changed = poll(client, etag, since=0)
    assert changed.status_code == 200 and changed["ETag"] != etag
    body = changed.content.decode()
    assert 'data-testid="bell-count">1<' in body
    assert 'data-testid="notice-toast"' in body and "Call Acme back" in body
    assert f'action="/notifications/{n.pk}/open/"' in body and "csrfmiddlewaretoken" in body
    assert poll(client, changed["ETag"]).status_code == 304


def test_toasts_only_for_notices_newer_than_the_tab_knew(alice, login):
    old = notification_create(recipient=alice, kind=TEST, title="Old news", key="e1")
    notification_create(recipient=alice, kind=TEST, title="Fresh news", key="e2")
    body = poll(login(alice), since=old.pk).content.decode()
    assert "Fresh news" in body and "Old news" not in body


def test_reading_in_another_tab_changes_the_version_without_toasts(alice, login):
    n = notification_create(recipient=alice, kind=TEST, title="Hello", key="e1")
    client = login(alice)
    etag = poll(client)["ETag"]
    notifications_mark_read(user=alice, ids=[n.pk])
    again = poll(client, etag, since=n.pk)
    assert again.status_code == 200 and 'data-testid="bell-count"' not in again.content.decode()
    assert "notice-toast" not in again.content.decode()


@pytest.mark.parametrize("since", ["junk", "-5", "99999999999", ""])
def test_bad_since_gives_the_bell_without_error(alice, login, since):
    notification_create(recipient=alice, kind=TEST, title="Hello", key="e1")
    response = poll(login(alice), since=since)
    assert response.status_code == 200 and 'data-testid="bell-count">1<' in response.content.decode()


def test_a_reps_poll_never_shows_another_reps_notices(alice, bob, login):
    notification_create(recipient=bob, kind=TEST, title="Bob's secret", key="e1")
    client = login(alice)
    response = poll(client, since=0)
    body = response.content.decode()
    assert "Bob's secret" not in body and 'data-testid="bell-count"' not in body
    # and Bob's version is not Alice's: her stale tag never matches his
    bob_etag = poll(login(bob))["ETag"]
    assert poll(login(alice), bob_etag).status_code == 200


def test_signed_out_poll_is_401_not_the_login_page(client):
    assert poll(client).status_code == 401


def test_live_is_get_only(alice, login):
    assert login(alice).post(URL).status_code == 405


@pytest.mark.parametrize("rows", [3, 60])
def test_poll_query_count_is_constant(alice, login, django_assert_num_queries, rows):
    for i in range(rows):
        notification_create(recipient=alice, kind=TEST, title=f"Notice {i}", key=f"k{i}")
    client = login(alice)
    etag = poll(client)["ETag"]
    # session, user, alice's time zone (UserTimeZoneMiddleware), the bell (one aggregate): 4.
    with django_assert_num_queries(4):
        assert poll(client, etag).status_code == 304
    # changed: the same plus the new notices for the toasts (at most 3): 5.
    notification_create(recipient=alice, kind=TEST, title="New", key="new")
    with django_assert_num_queries(5):
        response = poll(client, etag, since=0)
    assert response.content.decode().count('data-testid="notice-toast"') == 3


def test_page_title_carries_the_unread_count(alice, login):
    notification_create(recipient=alice, kind=TEST, title="a", key="a")
    notification_create(recipient=alice, kind=TEST, title="b", key="b")
    body = login(alice).get("/notifications/").content.decode()
    assert "<title>(2) " in body
    assert 'id="bell"' in body and 'data-live-url="/notifications/live/?since=' in body
