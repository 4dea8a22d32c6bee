"""The private calendar feed: follow-ups and 1:1s as iCalendar, behind a revocable token."""

import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.models import CalendarFeedToken
from accountability.services import calendar_feed_token_get_or_create
from leads.models import FollowUp
from reviews import services
from reviews.models import Meeting
from tests.factories import FollowUpFactory, LeadFactory

pytestmark = pytest.mark.django_db

SOON = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)


def feed_url(user) -> str:
    return reverse("calendar:feed", args=[calendar_feed_token_get_or_create(user=user).token])


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def day(alice, maria):
    """alice owes a follow-up on a lead whose name needs escaping, and has a 1:1 with maria whose
    notes must never leave the app."""
    lead = LeadFactory(owner=alice, name='Priya Raman, CFO; "Acme"\nsecond line', company="")
    follow_up = FollowUpFactory(lead=lead, due_at=SOON)
    series = services.series_create(actor=maria, rep=alice, cadence="weekly", weekday=3, time=dt.time(10))
    meeting = series.meetings.get()
    Meeting.objects.filter(pk=meeting.pk).update(private_note="MANAGER-PRIVATE-NOTE", shared_notes="SHARED-NOTE-TEXT")
    return {"lead": lead, "follow_up": follow_up, "meeting": meeting}


def test_the_settings_page_shows_the_feed_url_which_downloads_the_days_work(alice, day, client, login):
    page = login(alice).get("/calendar/").content.decode()
    token = CalendarFeedToken.objects.get(user=alice).token
    assert f"http://testserver/calendar/feed/{token}.ics" in page
    client.logout()  # a calendar app sends no cookie: the token is the credential
    found = events(client.get(f"/calendar/feed/{token}.ics"))
    follow_up = found['Follow up: Priya Raman, CFO; "Acme"\nsecond line']
    assert follow_up["UID"] == f"lead-{day['lead'].pk}-follow-up@testserver"
    assert follow_up.decoded("DTSTART") == SOON and follow_up.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert follow_up["URL"] == f"http://testserver/leads/{day['lead'].pk}/"
    meeting = found[f"1:1 with {day['meeting'].series.manager.get_full_name()}"]
    assert meeting["UID"] == f"meeting-{day['meeting'].pk}@testserver"
    assert str(meeting["STATUS"]) == "CONFIRMED"


def test_the_document_is_valid_rfc_5545_with_escaping_and_utc_times(alice, day, client):
    body = client.get(feed_url(alice)).content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") or "VERSION:2.0\r\n" in body
    assert "PRODID:-//Accountability//Calendar feed//EN" in body
    # Commas, semicolons and the newline in the lead's name are escaped, not taken as structure.
    assert 'SUMMARY:Follow up: Priya Raman\\, CFO\\; "Acme"\\nsecond line' in body.replace("\r\n ", "")
    assert f"DTSTART:{SOON.astimezone(dt.UTC):%Y%m%dT%H%M%S}Z" in body
    for line in body.split("\r\n"):
        assert len(line.encode()) <= 75  # folded
    for event in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "LAST-MODIFIED"):
            assert required in event


def test_no_note_ever_reaches_a_calendar(alice, maria, day, client):
    for user in (alice, maria):
        body = client.get(feed_url(user)).content.decode()
        assert "MANAGER-PRIVATE-NOTE" not in body and "SHARED-NOTE-TEXT" not in body
    assert "1:1 with Alice" in client.get(feed_url(maria)).content.decode()


def test_a_feed_is_only_its_owners(alice, bob, maria, day, client):
    FollowUpFactory(lead=LeadFactory(owner=bob, name="Bob's lead"), due_at=SOON)
    alice_feed = client.get(feed_url(alice)).content.decode()
    assert "Bob's lead" not in alice_feed
    bob_feed = client.get(feed_url(bob)).content.decode()
    assert "Priya" not in bob_feed and "1:1" not in bob_feed
    # A manager's feed has their 1:1s, not their reps' follow-ups.
    assert "Priya" not in client.get(feed_url(maria)).content.decode()


def test_resetting_revokes_the_old_url(alice, day, client, login):
    old = feed_url(alice)
    web = login(alice)
    assert web.get("/calendar/reset/").status_code == 405
    response = web.post("/calendar/reset/", follow=True)
    assert "has a new address" in response.content.decode()
    new = feed_url(alice)
    assert new != old
    web.logout()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_unknown_tokens_and_inactive_people_get_404(alice, day, client):
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404
    assert client.get("/calendar/feed/.ics").status_code == 404
    url = feed_url(alice)
    alice.is_active = False
    alice.save()
    assert client.get(url).status_code == 404


def test_the_settings_page_needs_a_login(client):
    response = client.get("/calendar/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_an_unchanged_feed_answers_304_and_an_edit_changes_it(alice, day, client):
    url = feed_url(alice)
    first = client.get(url)
    etag = first["ETag"]
    assert "private" in first["Cache-Control"]
    assert client.get(url).content == first.content  # deterministic: DTSTAMP is the last revision
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Rescheduling the follow-up moves the same event, one SEQUENCE higher.
    FollowUp.objects.filter(pk=day["follow_up"].pk).update(state="cancelled")
    FollowUpFactory(lead=day["lead"], due_at=SOON + dt.timedelta(hours=3), created_at=timezone.now())
    second = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 200 and second["ETag"] != etag
    (event,) = [e for e in icalendar.Calendar.from_ical(second.content).walk("VEVENT") if "Follow" in e["SUMMARY"]]
    assert event["UID"] == f"lead-{day['lead'].pk}-follow-up@testserver"
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART") == SOON + dt.timedelta(hours=3)


def test_a_closed_meeting_is_a_revision(alice, maria, day, client):
    services.meeting_close(actor=maria, meeting=day["meeting"], state="skipped")
    cal = icalendar.Calendar.from_ical(client.get(feed_url(alice)).content)
    (event,) = [e for e in cal.walk("VEVENT") if e["UID"] == f"meeting-{day['meeting'].pk}@testserver"]
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1


def test_the_feed_is_rate_limited_per_token(alice, day, client, settings):
    settings.CALENDAR_FEED_RATE_LIMIT = 3
    url = feed_url(alice)
    assert [client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    response = client.get(url)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


@pytest.mark.parametrize("leads", [2, 20])
def test_feed_query_count_is_constant(alice, maria, client, django_assert_num_queries, leads):
    for i in range(leads):
        FollowUpFactory(lead=LeadFactory(owner=alice, name=f"Lead {i}"), due_at=SOON + dt.timedelta(hours=i))
    series = services.series_create(actor=maria, rep=alice, cadence="weekly", weekday=3, time=dt.time(10))
    first = series.meetings.get().scheduled_at
    for week in range(1, leads // 2):
        at = first + dt.timedelta(weeks=week)
        Meeting.objects.create(series=series, scheduled_at=at, since=at)
    url = feed_url(alice)
    # the token with its user, the follow-ups with their leads (and revision count), the 1:1s: 3.
    with django_assert_num_queries(3):
        response = client.get(url)
    body = response.content.decode()
    assert body.count("BEGIN:VEVENT") == leads + max(leads // 2, 1)
