"""1:1 series, meetings, suggested agendas, notes, action items and the reminders."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accountability.notifications.models import Notification
from goals.models import Commitment, GoalEvent
from reviews import services
from reviews.models import ActionItem, AgendaItem
from tests.factories import LeadFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)  # a Tuesday


@pytest.fixture
def series(maria, alice):
    return services.series_create(actor=maria, rep=alice, cadence="weekly", weekday=3, time=dt.time(10), now=NOW)


def test_a_series_schedules_its_first_meeting_on_the_weekday_in_the_team_zone(series):
    meeting = series.meetings.get()
    assert meeting.scheduled_at == dt.datetime(2026, 11, 12, 10, 0, tzinfo=dt.UTC)  # Thursday 10:00, North is UTC


def test_scheduling_again_does_nothing_while_a_meeting_is_ahead(series):
    assert services.meeting_schedule_next(series=series, now=NOW) is None
    assert series.meetings.count() == 1


def test_only_a_manager_of_the_reps_team_starts_a_series(sam, alice):
    with pytest.raises(PermissionDenied):
        services.series_create(actor=sam, rep=alice, cadence="weekly", weekday=1, time=dt.time(9))


def test_a_second_active_series_with_the_same_rep_is_refused(series, maria, alice):
    with pytest.raises(ValidationError, match="already have"):
        services.series_create(actor=maria, rep=alice, cadence="monthly", weekday=1, time=dt.time(9))


def test_holding_a_meeting_schedules_the_next_at_the_cadence(series, maria):
    meeting = series.meetings.get()
    services.meeting_close(actor=maria, meeting=meeting, state="held", now=meeting.scheduled_at)
    nxt = series.meetings.order_by("-scheduled_at").first()
    assert nxt.scheduled_at == meeting.scheduled_at + dt.timedelta(days=7)
    assert nxt.since == meeting.scheduled_at
    with pytest.raises(ValidationError, match="already closed"):
        services.meeting_close(actor=maria, meeting=meeting, state="skipped")


def test_the_rep_cannot_close_a_meeting(series, alice):
    with pytest.raises(PermissionDenied):
        services.meeting_close(actor=alice, meeting=series.meetings.get(), state="held")


def test_suggestions_come_from_what_happened_each_linked_to_its_evidence(maria, alice, north):
    from leads.sla.models import SlaClock, SlaNotice

    lead = LeadFactory(owner=alice, received_by=alice, arrived_at=NOW - dt.timedelta(days=3))
    clock = SlaClock.objects.create(
        lead=lead,
        kind="first_contact",
        key="first_contact",
        anchor_at=lead.arrived_at,
        due_at=NOW - dt.timedelta(days=2),
        overdue_at=NOW - dt.timedelta(days=2),
        escalation_due_at=NOW - dt.timedelta(days=1),
        escalation2_due_at=NOW,
        escalated_at=NOW - dt.timedelta(days=1),
        explanation="x",
    )
    SlaNotice.objects.create(
        clock=clock, lead=lead, step="overdue", recipient=alice, scheduled_at=NOW - dt.timedelta(days=2), state="sent"
    )
    monday = (NOW - dt.timedelta(days=7)).date() - dt.timedelta(days=(NOW - dt.timedelta(days=7)).weekday())
    Commitment.objects.create(owner=alice, week_start=monday, text="call 30 leads", status="closed")
    ActionItem.objects.create(
        text="Clean up stale leads", rep=alice, team=north, owner=alice, due_date=NOW.date(), created_by=maria
    )
    series = services.series_create(actor=maria, rep=alice, cadence="weekly", weekday=3, time=dt.time(10), now=NOW)
    items = {a.source: a for a in series.meetings.get().agenda.all()}
    assert set(items) >= {"sla_breaches", "sla_escalations", "commitments_missed", "open_action_items"}
    assert all(a.state == AgendaItem.State.SUGGESTED and a.evidence_url for a in items.values())
    assert "1 SLA breach" in items["sla_breaches"].text
    # Suggesting again adds nothing (one per source).
    assert services.agenda_suggest(meeting=series.meetings.get(), now=NOW) == 0


def test_goal_turned_at_risk_is_suggested(maria, alice, series):
    from goals.models import Goal

    goal = Goal.objects.create(
        owner=alice,
        title="Demos",
        description="d",
        metric="manual",
        unit="demos",
        target=10,
        reason="r",
        start_date=NOW.date() - dt.timedelta(days=10),
        end_date=NOW.date() + dt.timedelta(days=20),
        status="approved",
        created_by=maria,
    )
    GoalEvent.objects.create(goal=goal, kind="pacing", changes={"from": "on_track", "to": "at_risk"})
    meeting = series.meetings.get()
    services.agenda_suggest(meeting=meeting, now=timezone.now())
    assert meeting.agenda.filter(source="goals_at_risk").exists()


def test_manager_keeps_or_dismisses_a_suggestion_once(series, maria, alice):
    meeting = series.meetings.get()
    item = AgendaItem.objects.create(meeting=meeting, text="x", source="kudos", state="suggested")
    with pytest.raises(PermissionDenied):
        services.agenda_decide(actor=alice, item=item, keep=True)
    services.agenda_decide(actor=maria, item=item, keep=False)
    with pytest.raises(ValidationError):
        services.agenda_decide(actor=maria, item=item, keep=True)


def test_private_note_is_the_managers_only(series, maria, alice, login):
    meeting = series.meetings.get()
    services.meeting_notes_save(actor=maria, meeting=meeting, shared_notes="Shared", private_note="SECRET-NOTE")
    with pytest.raises(PermissionDenied):
        services.meeting_notes_save(actor=alice, meeting=meeting, shared_notes="x", private_note="mine")
    page = login(alice).get(reverse("reviews:meeting-detail", args=[meeting.pk])).content.decode()
    assert "SECRET-NOTE" not in page and "Shared" in page and "it is not shown here" in page
    assert "SECRET-NOTE" in login(maria).get(reverse("reviews:meeting-detail", args=[meeting.pk])).content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("maria", 200), ("helen", 200), ("bob", 404), ("sam", 404)]
)
def test_meeting_page_is_scoped(org, series, login, who, status):
    meeting = series.meetings.get()
    assert login(org[who]).get(reverse("reviews:meeting-detail", args=[meeting.pk])).status_code == status


def test_meeting_posts_are_post_only_and_scoped(series, bob, login):
    meeting = series.meetings.get()
    client = login(bob)
    for name in ["reviews:agenda-add", "reviews:meeting-notes", "reviews:meeting-close"]:
        url = reverse(name, args=[meeting.pk])
        assert client.get(url).status_code == 405
        assert client.post(url, {"text": "x", "state": "held"}).status_code == 404


def test_action_item_from_a_meeting_closed_by_its_owner(series, maria, alice, login):
    meeting = series.meetings.get()
    response = login(alice).post(
        reverse("reviews:action-item-create"),
        {"meeting": meeting.pk, "text": "Call the 5 neglected leads", "owner": "rep", "due_date": "2026-11-20"},
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.owner, item.rep, item.meeting) == (alice, alice, meeting)
    with pytest.raises(ValidationError, match="why"):
        services.action_item_close(actor=alice, item=item, status="dropped")
    services.action_item_close(actor=alice, item=item, status="done")
    with pytest.raises(ValidationError, match="already closed"):
        services.action_item_close(actor=alice, item=item, status="done")


def test_another_rep_cannot_close_an_item(series, maria, alice, bob):
    item = services.action_item_create(
        actor=maria, text="t", owner=alice, due_date=NOW.date(), meeting=series.meetings.get()
    )
    with pytest.raises(PermissionDenied):
        services.action_item_close(actor=bob, item=item, status="done")


def test_open_items_show_on_the_owners_home_page(series, maria, alice, login):
    services.action_item_create(
        actor=maria, text="Read the playbook", owner=alice, due_date=NOW.date(), meeting=series.meetings.get()
    )
    page = login(alice).get("/", follow=True).content.decode()
    assert 'data-testid="home-action-items"' in page and "Read the playbook" in page


def test_an_item_tied_to_a_lead_filter_shows_its_live_count(series, maria, alice, login):
    LeadFactory(owner=alice)
    services.action_item_create(
        actor=maria,
        text="Contact open leads",
        owner=alice,
        due_date=NOW.date(),
        meeting=series.meetings.get(),
        lead_filter=f"owner={alice.pk}&stage=open",
    )
    page = login(alice).get(reverse("reviews:action-item-list")).content.decode()
    assert "leads: 1 now" in page


def test_action_item_list_is_scoped(series, maria, alice, bob, login):
    services.action_item_create(
        actor=maria, text="ALICE-ITEM", owner=alice, due_date=NOW.date(), meeting=series.meetings.get()
    )
    assert "ALICE-ITEM" not in login(bob).get(reverse("reviews:action-item-list")).content.decode()
    assert login(bob).get(reverse("reviews:action-item-list") + f"?rep={alice.pk}").status_code == 404


def test_one_on_one_list_shows_next_meeting_and_cadence(maria, alice, login):
    services.series_create(actor=maria, rep=alice, cadence="weekly", weekday=3, time=dt.time(10))
    page = login(maria).get(reverse("reviews:one-on-one-list")).content.decode()
    assert 'data-testid="next-meeting"' in page and "0 held of 0" in page


def test_one_on_one_list_queries_are_constant(maria, north, login, django_assert_num_queries):
    client = login(maria)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("reviews:one-on-one-list")).status_code == 200
        return len(ctx.captured_queries)

    counts = []
    for size in (1, 4):
        for i in range(size):
            rep = UserFactory(username=f"r{size}_{i}", role="rep")
            MembershipFactory(user=rep, team=north)
            services.series_create(actor=maria, rep=rep, cadence="weekly", weekday=2, time=dt.time(9), now=NOW)
        counts.append(count())
    assert counts[0] == counts[1]


# --- reminders, exactly once -------------------------------------------------------------------


def test_meeting_reminder_the_day_before_once_to_both(series, maria, alice):
    meeting = series.meetings.get()
    before = meeting.scheduled_at - dt.timedelta(hours=20)
    assert services.meetings_remind(now=before) == 2
    assert services.meetings_remind(now=before) == 0
    note = Notification.objects.get(recipient=alice, kind="one_on_one_tomorrow")
    assert "Agenda" in note.body or "No agenda" in note.body


def test_overdue_action_item_reminded_once(series, maria, alice):
    services.action_item_create(actor=maria, text="t", owner=alice, due_date=NOW.date(), meeting=series.meetings.get())
    later = NOW + dt.timedelta(days=3)
    assert services.action_items_remind(now=later) == 1
    assert services.action_items_remind(now=later) == 0


def test_deadline_notices_once_each_and_the_cut_off_freezes(alice_review, alice, maria):
    cycle = alice_review.cycle
    due_soon = dt.datetime.combine(cycle.self_deadline - dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC)
    assert services.reviews_remind(now=due_soon) >= 2  # alice and bob
    assert services.reviews_remind(now=due_soon) == 0
    assert Notification.objects.filter(recipient=alice, kind="review_self_due").count() == 1
    overdue = dt.datetime.combine(cycle.manager_deadline + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    services.reviews_remind(now=overdue)
    services.reviews_remind(now=overdue)
    assert Notification.objects.filter(recipient=alice, kind="review_self_overdue").count() == 1
    assert Notification.objects.filter(recipient=maria, kind="review_manager_overdue").count() == 2  # alice's, bob's
    alice_review.refresh_from_db()
    assert alice_review.frozen_at is not None


def test_tasks_call_the_sweeps(series):
    from reviews import tasks

    assert tasks.action_items_overdue_sweep() == 0
    assert tasks.one_on_ones_sweep() >= 0
    assert tasks.reviews_deadlines_sweep() == 0


def test_meeting_page_queries_do_not_grow_with_its_agenda_and_items(series, maria, alice, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    meeting = series.meetings.get()
    client = login(maria)
    counts = []
    for n in (1, 5):
        for i in range(n):
            services.agenda_add(actor=alice, meeting=meeting, text=f"item {n}-{i}")
            services.action_item_create(
                actor=maria, text=f"do {n}-{i}", owner=alice, due_date=NOW.date(), meeting=meeting
            )
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("reviews:meeting-detail", args=[meeting.pk])).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_home_panel_costs_one_query(alice, django_assert_num_queries, rf):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = alice
    with django_assert_num_queries(1):
        Template("{% load reviews_tags %}{% home_action_items %}").render(Context({"request": request}))


def _flag(rep, rule="no_activity", *, manager_only=False):
    from reviews.models import DriftFlag

    return DriftFlag.objects.create(
        rep=rep,
        rule=rule,
        week=NOW.date() - dt.timedelta(days=NOW.weekday()),
        reason="No activity logged for 2 business days while owning open leads.",
        manager_only=manager_only,
        raised_at=NOW,
    )


def test_open_drift_flags_are_suggested_but_never_the_manager_only_ones(maria, alice, series):
    _flag(alice, "no_activity")
    _flag(alice, "no_recognition", manager_only=True)
    meeting = series.meetings.get()
    services.agenda_suggest(meeting=meeting, now=timezone.now())
    item = meeting.agenda.get(source="drift_flags")
    assert "no activity" in item.text.lower() and "recognition" not in item.text.lower()
    assert item.evidence_url == reverse("reviews:rep-page", args=[alice.pk]) + "#flags"


def test_a_flag_is_marked_discussed_in_the_1on1_from_the_meeting_page(maria, alice, series, login):
    flag = _flag(alice)
    hidden = _flag(alice, "no_recognition", manager_only=True)
    meeting = series.meetings.get()
    rep_page = login(alice).get(reverse("reviews:meeting-detail", args=[meeting.pk])).text
    assert flag.reason in rep_page and 'data-testid="flag-discussed-here"' not in rep_page
    assert "No recognition" not in rep_page  # the manager's prompt is never on the rep's side
    assert login(alice).post(reverse("reviews:flag-transition", args=[flag.pk, "discuss"]), {"meeting": meeting.pk})
    flag.refresh_from_db()
    assert flag.state == "open"  # the rep cannot move their own flag
    client = login(maria)
    assert 'data-testid="flag-discussed-here"' in client.get(reverse("reviews:meeting-detail", args=[meeting.pk])).text
    response = client.post(reverse("reviews:flag-transition", args=[flag.pk, "discuss"]), {"meeting": meeting.pk})
    assert response.status_code == 302 and response["Location"] == reverse("reviews:meeting-detail", args=[meeting.pk])
    flag.refresh_from_db()
    assert (flag.state, flag.one_on_one_id, flag.discussed_by) == ("discussed", meeting.pk, maria)
    assert "discussed in this 1:1" in client.get(response["Location"]).text
    hidden.refresh_from_db()
    assert hidden.state == "open"
