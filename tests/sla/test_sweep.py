"""The sweep and the delivery of notices, called directly (no worker).

Personas: North (maria: alice, bob) under Sales (helen); South (sam: charlie).
Unless a test says otherwise the organisation default policy is open all day, every day, so
business minutes are wall-clock minutes and the expected times are easy to check by hand:
first contact 15 min, reminder 5 min before, escalation 60 min after the breach, second level
240 min after that.
"""

import datetime as dt

import pytest
from django.utils import timezone

from accountability.notifications.models import Notification
from leads.models import Activity, FollowUp, Lead
from leads.sla import services
from leads.sla.models import SlaClock, SlaNotice
from tests.factories import FollowUpFactory, LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # a Monday


def minutes(n):
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def policy(db):
    return SlaPolicyFactory()


@pytest.fixture
def lead(org, policy):
    return LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)


def sweep_and_deliver(at):
    result = services.sla_sweep(now=at)
    pending = [n for n in result.notices_created if n.state == "pending"]
    outcomes = [services.notice_deliver(notice_id=n.pk, now=at).outcome for n in pending]
    return result, outcomes


def steps(lead):
    return list(SlaNotice.objects.filter(lead=lead).order_by("scheduled_at").values_list("step", "state"))


def test_nothing_happens_before_the_reminder_time(lead):
    result = services.sla_sweep(now=minutes(9))
    assert result.notices_created == []


def test_first_contact_ladder_reminder_overdue_escalation_levels(org, lead):
    _result, outcomes = sweep_and_deliver(minutes(10))
    clock = SlaClock.objects.get(lead=lead)
    assert clock.kind == "first_contact"
    assert clock.due_at == minutes(15)
    assert (clock.remind_at, clock.escalation_due_at, clock.escalation2_due_at) == (
        minutes(10),
        minutes(75),
        minutes(315),
    )
    assert outcomes == ["sent"]
    reminder = Notification.objects.get(recipient=org["alice"])
    assert reminder.title.startswith("Follow up soon:") and reminder.kind == "sla_reminder"

    _, outcomes = sweep_and_deliver(minutes(15))
    assert outcomes == ["sent"]
    assert Activity.objects.filter(lead=lead, kind="breach").count() == 1

    _, outcomes = sweep_and_deliver(minutes(74))
    assert outcomes == []
    _, outcomes = sweep_and_deliver(minutes(75))
    assert outcomes == ["sent"]
    escalation = Notification.objects.get(recipient=org["maria"])
    assert escalation.kind == "sla_escalation" and "Escalated to you" in escalation.title
    told = Notification.objects.get(recipient=org["alice"], kind="sla_escalated_owner")
    assert "was escalated to Maria" in told.title
    clock.refresh_from_db()
    assert clock.escalated_at == minutes(75)

    _, outcomes = sweep_and_deliver(minutes(315))
    assert outcomes == ["sent"]
    assert Notification.objects.get(recipient=org["helen"]).title.startswith("Escalated to you (second level)")
    clock.refresh_from_db()
    assert clock.state == "done" and clock.next_at is None
    assert steps(lead) == [
        ("reminder", "sent"),
        ("overdue", "sent"),
        ("escalation_1", "sent"),
        ("escalation_2", "sent"),
    ]
    timeline = list(Activity.objects.filter(lead=lead).order_by("occurred_at").values_list("kind", "actor"))
    assert timeline == [("reminder", None), ("breach", None), ("escalated", None), ("escalated", None)]


def test_a_second_run_does_nothing(lead):
    first = services.sla_sweep(now=minutes(80))
    second = services.sla_sweep(now=minutes(80))
    assert len(first.clocks_created) == 1 and len(first.notices_created) == 3
    assert second.clocks_created == [] and second.notices_created == []
    assert SlaClock.objects.count() == 1 and SlaNotice.objects.count() == 3


def test_delivering_twice_sends_once(org, lead):
    result = services.sla_sweep(now=minutes(10))
    notice = result.notices_created[0]
    assert services.notice_deliver(notice_id=notice.pk).outcome == "sent"
    assert services.notice_deliver(notice_id=notice.pk).outcome == "already"
    assert Notification.objects.filter(recipient=org["alice"]).count() == 1
    assert Activity.objects.filter(lead=lead, kind="reminder").count() == 1


def test_a_sweep_that_missed_hours_sends_only_the_step_due_now_and_skips_the_earlier_ones(org, lead):
    # Due 14:15, escalations at 15:15 and 19:15: found at 20:40 only helen (level 2) is told.
    _result, outcomes = sweep_and_deliver(minutes(400))
    assert steps(lead) == [
        ("reminder", "skipped"),
        ("overdue", "skipped"),
        ("escalation_1", "skipped"),
        ("escalation_2", "sent"),
    ]
    assert outcomes == ["sent"]
    assert sorted(Notification.objects.values_list("recipient__username", "kind")) == [
        ("alice", "sla_escalated_owner"),
        ("helen", "sla_escalation"),
    ]
    assert Activity.objects.filter(lead=lead).count() == 1


def test_a_lead_found_late_at_its_first_escalation_tells_the_manager_once_then_the_ladder_goes_on(org, lead):
    _result, outcomes = sweep_and_deliver(minutes(80))
    assert steps(lead) == [("reminder", "skipped"), ("overdue", "skipped"), ("escalation_1", "sent")]
    assert SlaNotice.objects.get(lead=lead, step="overdue").reason == "a later step was already due when recorded"
    assert sorted(Notification.objects.values_list("recipient__username", "kind")) == [
        ("alice", "sla_escalated_owner"),
        ("maria", "sla_escalation"),
    ]
    _result, outcomes = sweep_and_deliver(minutes(315))
    assert outcomes == ["sent"]


def test_breaches_older_than_the_backfill_horizon_are_recorded_without_notices(org, policy, settings):
    settings.SLA_BACKFILL_HOURS = 24
    old = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0 - dt.timedelta(days=90))
    recent = LeadFactory(owner=org["bob"], team=org["north"], arrived_at=T0 - dt.timedelta(hours=23))
    result = services.sla_sweep(now=T0)
    assert result.clocks_expired == 1
    clock = SlaClock.objects.get(lead=old)
    assert (clock.state, clock.next_at, clock.handled_at) == ("expired", None, T0)
    assert not SlaNotice.objects.filter(lead=old).exists()
    # The recent one (due 22h45m ago) is still told, once: its level 2 is due now.
    assert steps(recent) == [
        ("reminder", "skipped"),
        ("overdue", "skipped"),
        ("escalation_1", "skipped"),
        ("escalation_2", "pending"),
    ]
    again = services.sla_sweep(now=T0 + dt.timedelta(hours=1))
    assert again.clocks_created == [] and again.notices_created == []
    assert "1 too old: recorded without notices" in result.lines()[0]


def test_the_backfill_horizon_is_a_setting(org, policy, settings):
    settings.SLA_BACKFILL_HOURS = 24 * 100
    old = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0 - dt.timedelta(days=90))
    services.sla_sweep(now=T0)
    assert SlaClock.objects.get(lead=old).state == "done"
    assert [state for _step, state in steps(old)] == ["skipped", "skipped", "skipped", "pending"]


def test_a_running_clock_whose_step_is_older_than_the_horizon_skips_it(org, lead, settings):
    settings.SLA_BACKFILL_HOURS = 1
    services.sla_sweep(now=minutes(10))  # reminder recorded on time
    # The sweep stops for hours; at 20:40 level 2 (19:15) is older than one hour.
    services.sla_sweep(now=minutes(400))
    assert SlaNotice.objects.get(lead=lead, step="escalation_2").reason == "older than the backfill horizon"
    assert not SlaNotice.objects.filter(lead=lead, state="pending").exclude(step="reminder").exists()


def test_lead_contacted_before_escalation_is_not_escalated(org, lead):
    sweep_and_deliver(minutes(15))  # reminder skipped as late, overdue sent
    Lead.objects.filter(pk=lead.pk).update(
        first_contacted_at=minutes(74), last_activity_at=minutes(74), next_follow_up_at=minutes(5000)
    )
    result, _ = sweep_and_deliver(minutes(75))
    assert result.notices_created == [] and result.clocks_handled == 1
    assert not Notification.objects.filter(recipient=org["maria"]).exists()
    assert SlaClock.objects.get(lead=lead).state == "handled"
    assert services.sla_sweep(now=minutes(400)).notices_created == []


def test_lead_handled_after_the_escalation_was_recorded_gets_it_cancelled(org, lead):
    services.sla_sweep(now=minutes(15))
    result = services.sla_sweep(now=minutes(75))
    (escalation,) = result.notices_created
    # Contacted a second before delivery: nobody gets a stale alert.
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=minutes(75), last_activity_at=minutes(75))
    assert services.notice_deliver(notice_id=escalation.pk).outcome == "cancelled"
    escalation.refresh_from_db()
    assert escalation.state == "cancelled"
    assert not Notification.objects.filter(recipient=org["maria"]).exists()
    assert not Activity.objects.filter(lead=lead, kind="escalated").exists()


def test_closing_the_lead_cancels_pending_notices(org, lead):
    result = services.sla_sweep(now=minutes(10))
    Lead.objects.filter(pk=lead.pk).update(stage="lost", closed_at=minutes(11))
    assert services.notice_deliver(notice_id=result.notices_created[0].pk).outcome == "cancelled"


def test_follow_up_reminder_before_due_then_done_cancels_the_rest(org, lead):
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=T0, last_activity_at=T0, next_follow_up_at=minutes(600))
    follow_up = FollowUpFactory(lead=lead, due_at=minutes(600))
    assert services.sla_sweep(now=minutes(594)).notices_created == []
    result, outcomes = sweep_and_deliver(minutes(595))
    clock = SlaClock.objects.get(lead=lead)
    assert clock.kind == "follow_up" and clock.key == f"follow_up:{follow_up.pk}" and clock.due_at == minutes(600)
    assert outcomes == ["sent"]
    FollowUp.objects.filter(pk=follow_up.pk).update(state="done", done_at=minutes(599))
    result, _ = sweep_and_deliver(minutes(700))
    assert result.notices_created == [] and result.clocks_handled == 1
    assert steps(lead) == [("reminder", "sent")]


def test_a_new_follow_up_date_is_a_new_due_event(org, lead):
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=T0, last_activity_at=T0, next_follow_up_at=minutes(60))
    first = FollowUpFactory(lead=lead, due_at=minutes(60))
    sweep_and_deliver(minutes(61))
    FollowUp.objects.filter(pk=first.pk).update(state="done", done_at=minutes(62))
    FollowUpFactory(lead=lead, due_at=minutes(200))
    sweep_and_deliver(minutes(201))
    assert SlaClock.objects.filter(lead=lead, kind="follow_up").count() == 2
    assert SlaNotice.objects.filter(lead=lead, step="overdue", state="sent").count() == 2


def test_contacted_lead_with_no_follow_up_date_becomes_overdue(org, lead):
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=minutes(5), last_activity_at=minutes(5))
    # no_follow_up_after = 120 business minutes: due at minute 125, reminder at 120.
    assert services.sla_sweep(now=minutes(119)).notices_created == []
    result, _outcomes = sweep_and_deliver(minutes(125))
    clock = SlaClock.objects.get(lead=lead, kind="no_follow_up")
    assert clock.due_at == minutes(125)
    assert [n.step for n in result.notices_created] == ["reminder", "overdue"]
    # A new contact (later last activity) handles it; the next silence is a new due event.
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=minutes(130))
    result, _ = sweep_and_deliver(minutes(190))
    assert result.clocks_handled == 1
    result, _ = sweep_and_deliver(minutes(250))
    assert SlaClock.objects.filter(lead=lead, kind="no_follow_up").count() == 2


def test_unassigned_lead_skips_owner_reminders_but_escalates(org, policy):
    lead = LeadFactory(owner=None, team=org["north"], arrived_at=T0)
    sweep_and_deliver(minutes(80))
    assert steps(lead) == [("reminder", "skipped"), ("overdue", "skipped"), ("escalation_1", "sent")]
    assert Notification.objects.filter(recipient=org["maria"]).count() == 1


def test_second_level_is_skipped_when_nobody_is_above(org, policy):
    lead = LeadFactory(owner=org["maria"], team=org["sales"], arrived_at=T0)  # helen's team, the top
    sweep_and_deliver(minutes(400))
    assert dict(SlaNotice.objects.filter(lead=lead).values_list("step", "state"))["escalation_2"] == "skipped"


def test_team_policy_overrides_the_default_and_sub_teams_inherit(org, policy):
    SlaPolicyFactory(team=org["sales"], first_contact_minutes=60)
    lead = LeadFactory(owner=org["charlie"], team=org["south"], arrived_at=T0)  # South inherits from Sales
    services.sla_sweep(now=minutes(200))
    assert SlaClock.objects.get(lead=lead).due_at == minutes(60)


def test_policy_change_applies_to_new_due_times_only(org, policy, admin):
    old = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    services.sla_sweep(now=minutes(10))
    services.sla_policy_save(
        actor=admin,
        policy=policy,
        team=None,
        hours=dict.fromkeys(range(7), ("00:00", "24:00")),
        **{**policy.values(), "first_contact_minutes": 30},
    )
    policy.refresh_from_db()
    assert policy.version == 2
    new = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    services.sla_sweep(now=minutes(26))
    old_clock, new_clock = SlaClock.objects.get(lead=old), SlaClock.objects.get(lead=new)
    assert (old_clock.due_at, old_clock.policy_version) == (minutes(15), 1)
    assert (new_clock.due_at, new_clock.policy_version) == (minutes(30), 2)
    assert new_clock.policy_values["first_contact_minutes"] == 30


def test_business_hours_push_the_due_time_past_the_weekend(org):
    SlaPolicyFactory(hours=[(d, 9 * 60, 17 * 60) for d in range(5)])
    org["north"].time_zone = "America/New_York"
    org["north"].save()
    friday_evening = dt.datetime(2026, 11, 20, 23, 40, tzinfo=dt.UTC)  # 18:40 EST
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=friday_evening)
    saturday = dt.datetime(2026, 11, 21, 14, 0, tzinfo=dt.UTC)
    assert services.sla_sweep(now=saturday).notices_created == []
    clock = SlaClock.objects.get(lead=lead)
    assert clock.due_at == dt.datetime(2026, 11, 23, 14, 15, tzinfo=dt.UTC)  # Monday 09:15 EST
    assert clock.explanation == (
        "First contact due Mon 23 Nov 09:15 EST: arrived Fri 20 Nov 18:40, 15 minutes of business time, "
        "team hours Mon–Fri 09:00–17:00"  # noqa: RUF001 - en dashes, as shown to people
    )


def test_dry_run_writes_nothing(lead):
    result = services.sla_sweep(now=minutes(80), dry_run=True)
    assert len(result.notices_created) == 3
    assert SlaClock.objects.count() == 0 and SlaNotice.objects.count() == 0


def test_pending_notices_whose_message_was_lost_are_enqueued_again(lead, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "_enqueue_notices", lambda ids: sent.append(list(ids)))
    services.sla_sweep(now=minutes(10))
    assert services.sla_sweep(now=minutes(11)).notices_requeued == 0
    assert services.sla_sweep(now=minutes(13)).notices_requeued == 1


def test_sweep_query_count_does_not_grow_with_due_leads(org, policy, django_assert_max_num_queries):
    # policy book (policies, hours, teams, holidays) 4 + discovery (3 cursors) + clock insert
    # (savepoints 2; COPY through the raw cursor is not counted) + close handled 1 + advance batch
    # (savepoints 4, select, progress update, notice ids read back) + requeue (savepoints 2,
    # select, update) + deliveries requeue 1: 22 whatever the number of leads.
    for _ in range(5):
        LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    with django_assert_max_num_queries(22):
        assert len(services.sla_sweep(now=minutes(80)).notices_created) == 15
    for _ in range(50):
        LeadFactory(owner=org["alice"], team=org["north"], arrived_at=minutes(100))
    with django_assert_max_num_queries(22):
        assert len(services.sla_sweep(now=minutes(180)).notices_created) == 150  # 3 steps x 50


def test_now_is_aware():
    assert timezone.is_aware(T0)


def test_steps_due_within_the_lookahead_are_recorded_ahead_and_delivered_on_time(org, lead, settings, monkeypatch):
    settings.SLA_SWEEP_LOOKAHEAD_SECONDS = 60
    enqueued = []
    monkeypatch.setattr(services, "_enqueue_notices", lambda ids: enqueued.extend(ids))
    at = minutes(9) + dt.timedelta(seconds=15)  # the reminder is due at minute 10
    result = services.sla_sweep(now=at)
    (notice,) = result.notices_created
    assert notice.step == "reminder" and notice.scheduled_at == minutes(10)
    assert enqueued == [(notice.pk, 45.0)]  # countdown to the exact due time
    assert services.notice_deliver(notice_id=notice.pk, now=at).outcome == "early"
    assert services.notice_deliver(notice_id=notice.pk, now=minutes(10)).outcome == "sent"
    # Not requeued before two minutes after its due time.
    assert services.sla_sweep(now=minutes(11)).notices_requeued == 0


def test_policy_can_reassign_on_escalation_to_the_next_available_rep(org):
    SlaPolicyFactory(on_escalation="reassign")
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    sweep_and_deliver(minutes(75))
    lead.refresh_from_db()
    assert lead.owner == org["bob"]  # the only other rep of North
    assigned = Activity.objects.get(lead=lead, kind="assigned")
    assert assigned.actor is None and assigned.data["reason"].startswith("Escalated: first contact overdue")
    # The owner at the time of escalation was told; the manager was told.
    assert Notification.objects.filter(recipient=org["alice"], kind="sla_escalated_owner").count() == 1
    assert Notification.objects.filter(recipient=org["maria"], kind="sla_escalation").count() == 1


def test_reassign_skips_reps_who_are_away(org):
    SlaPolicyFactory(on_escalation="reassign")
    org["bob"].away_until = dt.date(2100, 1, 1)
    org["bob"].save()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    sweep_and_deliver(minutes(75))
    lead.refresh_from_db()
    assert lead.owner == org["alice"]  # nobody available: the escalation still goes out
    assert Notification.objects.filter(recipient=org["maria"]).count() == 1


def test_a_handled_event_closes_its_clock_at_the_next_sweep_not_at_its_next_step(org, lead):
    services.sla_sweep(now=minutes(10))  # reminder sent; next step (overdue) at minute 15
    Lead.objects.filter(pk=lead.pk).update(
        first_contacted_at=minutes(11), last_activity_at=minutes(11), next_follow_up_at=minutes(900)
    )
    result = services.sla_sweep(now=minutes(12))
    assert result.clocks_handled == 1
    clock = SlaClock.objects.get(lead=lead)
    assert (clock.state, clock.next_at, clock.handled_at) == ("handled", None, minutes(12))
