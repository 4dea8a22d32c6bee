"""A person's private calendar feed: their open follow-ups (leads) and their 1:1s (reviews), as an
iCalendar (RFC 5545) document that Google Calendar, Outlook or Apple Calendar subscribe to.

It lives in reviews because it joins both apps (reviews sits above leads); follow-ups are read
through leads' own selector. The document is built with the `icalendar` library (escaping of
commas, semicolons and newlines, line folding, UTC times) and is deterministic for unchanged data:
DTSTAMP is each event's last revision (no METHOD, so RFC 5545 gives DTSTAMP that meaning), never
"now", so the feed's ETag changes only when an event does and a calendar app's poll costs a 304.

What an event carries: a title, the time, and a link back; never a note. A meeting's shared notes,
the manager's private note and a lead's notes stay in the app: a calendar is synced to a third
party and often shared with assistants or colleagues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from accountability.models import CalendarFeedToken, User
from leads.models import FollowUp
from leads.selectors import follow_ups_open_for
from reviews.models import Meeting

FOLLOW_UP_MINUTES = 15
MEETING_MINUTES = 30
# Past 1:1s stay visible a while (what was held, what was skipped); the far future is not generated.
MEETINGS_PAST = dt.timedelta(days=30)
MEETINGS_AHEAD = dt.timedelta(days=180)
MAX_EVENTS = 500  # a calendar app chokes long before; nobody has more open follow-ups than this


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    description: str
    start: dt.datetime
    minutes: int
    url: str
    last_modified: dt.datetime
    sequence: int
    cancelled: bool = False


def _follow_up_events(user: User, base_url: str) -> list[FeedEvent]:
    # A rescheduled follow-up is a new row (the old one cancelled): one event per lead, whose
    # SEQUENCE counts the follow-ups set on it, so a calendar moves the event instead of adding one.
    revisions = (
        FollowUp.objects.filter(lead=OuterRef("lead_id"))
        .order_by()
        .values("lead_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = follow_ups_open_for(user).annotate(revision=Subquery(revisions, output_field=IntegerField()))
    events = []
    for follow_up in rows[:MAX_EVENTS]:
        lead = follow_up.lead
        link = base_url + reverse("leads:lead-detail", args=[lead.pk])
        events.append(
            FeedEvent(
                uid=f"lead-{lead.pk}-follow-up",
                summary=f"Follow up: {lead}",
                description=f"The follow-up you promised on {lead}.\nOpen the lead: {link}",
                start=follow_up.due_at,
                minutes=FOLLOW_UP_MINUTES,
                url=link,
                last_modified=max(follow_up.created_at, lead.updated_at),
                sequence=max((follow_up.revision or 1) - 1, 0),
            )
        )
    return events


def _meeting_events(user: User, base_url: str, now: dt.datetime) -> list[FeedEvent]:
    rows = (
        Meeting.objects.filter(Q(series__rep=user) | Q(series__manager=user))
        .filter(scheduled_at__gte=now - MEETINGS_PAST, scheduled_at__lte=now + MEETINGS_AHEAD)
        .select_related("series__rep", "series__manager")
        # The notes (shared and private) are never even read.
        .defer("shared_notes", "private_note")
        .order_by("scheduled_at", "id")
    )
    events = []
    for meeting in rows[:MAX_EVENTS]:
        series = meeting.series
        other = series.manager if series.rep_id == user.pk else series.rep
        link = base_url + reverse("reviews:meeting-detail", args=[meeting.pk])
        cancelled = meeting.state in (Meeting.State.SKIPPED, Meeting.State.CANCELLED)
        state = meeting.get_state_display().lower()
        events.append(
            FeedEvent(
                uid=f"meeting-{meeting.pk}",
                summary=f"1:1 with {other.get_full_name() or other.get_username()}",
                description=f"1:1 ({state}). Agenda and notes: {link}",
                start=meeting.scheduled_at,
                minutes=MEETING_MINUTES,
                url=link,
                # A meeting's time never changes; closing it (held, skipped, cancelled) is its one revision.
                last_modified=meeting.closed_at or meeting.created_at,
                sequence=1 if meeting.closed_at else 0,
                cancelled=cancelled,
            )
        )
    return events


def calendar_feed_owner(token: str) -> User | None:
    """Whose feed a token opens: an active person's current token, else None (reset, unknown)."""
    row = CalendarFeedToken.objects.select_related("user").filter(token=token, user__is_active=True).first()
    return row.user if row else None


def calendar_events_for(user: User, *, base_url: str, now: dt.datetime | None = None) -> list[FeedEvent]:
    """The events of `user`'s own feed (two queries whatever their number): follow-ups they owe,
    1:1s they hold or attend. Only theirs: a manager's feed has no follow-ups of their reps."""
    now = now or timezone.now()
    events = _follow_up_events(user, base_url) + _meeting_events(user, base_url, now)
    return sorted(events, key=lambda e: (e.start, e.uid))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


def calendar_render(user: User, events: list[FeedEvent], *, base_url: str) -> bytes:
    """The iCalendar document of `events`: same events in, same bytes out."""
    host = urlsplit(base_url).hostname or "accountability"
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Accountability//Calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Accountability · {user.get_full_name() or user.get_username()}")
    # How often a calendar app should poll (RFC 7986, and the older Outlook property).
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for e in events:
        event = icalendar.Event()
        event.add("uid", f"{e.uid}@{host}")
        event.add("dtstamp", _utc(e.last_modified))
        event.add("last-modified", _utc(e.last_modified))
        event.add("sequence", e.sequence)
        event.add("dtstart", _utc(e.start))
        event.add("dtend", _utc(e.start + dt.timedelta(minutes=e.minutes)))
        event.add("summary", e.summary)
        event.add("description", e.description)
        event.add("url", e.url)
        event.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if e.cancelled else "OPAQUE")
        event.add("class", "PRIVATE")
        cal.add_component(event)
    return cal.to_ical()
