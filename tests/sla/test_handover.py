"""A lead that changes hands stops its old owner's SLA ladder (issue 9, item 5).

A manager reassigned a lead from "Escalated, act now"; minutes later the head of sales got the
second-level escalation and the new owner was told "your lead was escalated" for a lead they had
owned for minutes. Now: on a reassignment or a claim the old owner's clocks stop (on the
timeline), their undelivered notices are cancelled, and an uncontacted lead gets a new
first-contact clock for the new owner from the moment of the hand-over, in business time.

Policy (organisation default, open all day): first contact 15 min, reminder 5 min before,
escalation 60 min after the breach, second level 240 min after that.
"""

import datetime as dt

import pytest
from django.utils import timezone

from accountability.notifications.models import Notification
from leads import services as lead_services
from leads.models import Activity, Lead
from leads.sla import services
from leads.sla.models import SlaClock, SlaNotice
from tests.factories import FollowUpFactory, LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db


def sweep_and_deliver(at):
    result = services.sla_sweep(now=at)
    pending = [n for n in result.notices_created if n.state == "pending"]
    return [services.notice_deliver(notice_id=n.pk, now=at).outcome for n in pending]


def escalated_lead(org, *, minutes_ago=310, **policy):
    """A lead of alice's whose first escalation (75 min) went to maria; the second level (315 min)
    is due five minutes from now."""
    SlaPolicyFactory(**policy)
    now = timezone.now()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=now - dt.timedelta(minutes=minutes_ago))
    assert sweep_and_deliver(now) == ["sent"]
    assert Notification.objects.filter(recipient=org["maria"], kind="sla_escalation").count() == 1
    return lead, SlaClock.objects.get(lead=lead, key="first_contact")


def test_reassigning_an_escalated_lead_stops_its_escalation_and_starts_the_new_owners_clock(org):
    lead, old = escalated_lead(org)
    services.escalation_reassign(actor=org["maria"], clock=old, to_owner=org["bob"])
    lead.refresh_from_db()
    old.refresh_from_db()
    assert (old.state, old.next_at) == ("reassigned", None)
    new = SlaClock.objects.get(lead=lead, state="active")
    # From the moment of the hand-over, 15 business minutes (open all day here).
    assert new.kind == "first_contact" and new.anchor_at == lead.assigned_at
    assert new.due_at == lead.assigned_at + dt.timedelta(minutes=15)
    assert "handed over to Bob" in new.explanation
    # Seven minutes later: nobody hears of the old escalation (it would have reached helen).
    later = lead.assigned_at + dt.timedelta(minutes=7)
    assert sweep_and_deliver(later) == []
    assert not Notification.objects.filter(recipient=org["helen"]).exists()
    assert not Notification.objects.filter(recipient=org["bob"], kind="sla_escalated_owner").exists()
    assert not SlaNotice.objects.filter(clock=old, step="escalation_2").exists()
    # The new owner's own ladder runs: reminder at 10 minutes, to bob.
    assert sweep_and_deliver(lead.assigned_at + dt.timedelta(minutes=10)) == ["sent"]
    assert SlaNotice.objects.get(clock=new, step="reminder").recipient == org["bob"]
    # On the timeline: what stopped and what is now due.
    entry = Activity.objects.get(lead=lead, kind="sla_handover")
    assert entry.actor == org["maria"]
    assert "Stopped Alice" in entry.body and "first contact due" in entry.body and "(escalated)" in entry.body
    assert "First contact due" in entry.body and "handed over to Bob" in entry.body
    assert entry.data["stopped"] == [old.pk] and entry.data["started"] == [new.pk]


def test_a_claimed_escalated_lead_stops_the_old_ladder_too(org):
    lead, old = escalated_lead(org, on_escalation="claim")
    old.refresh_from_db()
    assert old.claimable
    services.escalated_lead_claim(actor=org["bob"], clock=old)
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    assert SlaClock.objects.get(pk=old.pk).state == "reassigned"
    assert sweep_and_deliver(lead.assigned_at + dt.timedelta(minutes=7)) == []
    assert not Notification.objects.filter(recipient=org["helen"]).exists()
    new = SlaClock.objects.get(lead=lead, state="active")
    assert new.due_at == lead.assigned_at + dt.timedelta(minutes=15)


def test_notices_recorded_but_not_yet_delivered_are_cancelled(org):
    SlaPolicyFactory()
    now = timezone.now()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=now - dt.timedelta(minutes=80))
    result = services.sla_sweep(now=now)  # escalation to maria recorded, its delivery queued
    (pending,) = [n for n in result.notices_created if n.state == "pending"]
    lead_services.lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Alice is busy")
    pending.refresh_from_db()
    assert pending.state == "cancelled" and "handed over to Bob" in pending.reason
    # The queued delivery arrives afterwards: nothing is sent.
    assert services.notice_deliver(notice_id=pending.pk, now=now).outcome == "already"
    assert not Notification.objects.filter(kind__startswith="sla").exists()
    assert "1 notice not yet sent cancelled." in Activity.objects.get(lead=lead, kind="sla_handover").body


def test_a_lead_reassigned_before_the_sweep_timed_it_gets_the_new_owners_clock_only(org):
    SlaPolicyFactory()
    now = timezone.now()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=now - dt.timedelta(minutes=2))
    lead_services.lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Bob speaks Dutch")
    lead.refresh_from_db()
    # At the arrival's due time (15 min) nothing happens: bob's clock runs from the reassignment.
    services.sla_sweep(now=now + dt.timedelta(minutes=14))
    clock = SlaClock.objects.get(lead=lead)
    assert clock.anchor_at == lead.assigned_at and clock.key.startswith("first_contact@")
    assert not SlaNotice.objects.filter(lead=lead, step="overdue").exists()


def test_the_queue_claim_restarts_the_clock_for_the_rep_who_claims(org):
    SlaPolicyFactory()
    now = timezone.now()
    lead = LeadFactory(owner=None, team=org["north"], arrived_at=now - dt.timedelta(minutes=80))
    assert sweep_and_deliver(now) == ["sent"]  # the manager hears of the unowned lead
    lead_services.lead_claim(actor=org["bob"], lead=lead)
    assert SlaClock.objects.get(lead=lead, key="first_contact").state == "reassigned"
    assert SlaClock.objects.get(lead=lead, state="active").due_at == Lead.objects.get(
        pk=lead.pk
    ).assigned_at + dt.timedelta(minutes=15)


def test_an_overdue_follow_up_is_due_again_for_the_new_owner(org):
    SlaPolicyFactory()
    now = timezone.now()
    lead = LeadFactory(
        owner=org["alice"],
        team=org["north"],
        arrived_at=now - dt.timedelta(days=2),
        first_contacted_at=now - dt.timedelta(days=2),
        last_activity_at=now - dt.timedelta(days=2),
        stage="contacted",
        next_follow_up_at=now - dt.timedelta(minutes=90),
    )
    follow_up = FollowUpFactory(lead=lead, due_at=now - dt.timedelta(minutes=90))
    assert sweep_and_deliver(now) == ["sent"]  # escalated to maria
    old = SlaClock.objects.get(lead=lead)
    lead_services.lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Cover")
    lead.refresh_from_db()
    old.refresh_from_db()
    assert old.state == "reassigned"
    new = SlaClock.objects.get(lead=lead, state="active")
    assert (new.kind, new.follow_up_id) == ("follow_up", follow_up.pk)
    assert new.due_at == lead.assigned_at + dt.timedelta(minutes=15)
    assert "Overdue follow-up due again" in new.explanation
    # Done by bob: the new clock closes like any other.
    lead_services.activity_log(actor=org["bob"], lead=lead, kind="call", outcome="connected")
    assert services.sla_sweep(now=lead.assigned_at + dt.timedelta(minutes=20)).clocks_handled == 1


def test_a_follow_up_not_yet_due_keeps_its_clock_and_tells_the_new_owner(org):
    SlaPolicyFactory()
    now = timezone.now()
    due = now + dt.timedelta(minutes=3)
    lead = LeadFactory(
        owner=org["alice"],
        team=org["north"],
        arrived_at=now - dt.timedelta(days=1),
        first_contacted_at=now - dt.timedelta(days=1),
        last_activity_at=now - dt.timedelta(days=1),
        stage="contacted",
        next_follow_up_at=due,
    )
    FollowUpFactory(lead=lead, due_at=due)
    result = services.sla_sweep(now=now)  # alice's reminder recorded, not yet delivered
    (reminder,) = result.notices_created
    clock = SlaClock.objects.get(lead=lead)
    lead_services.lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Cover")
    clock.refresh_from_db()
    reminder.refresh_from_db()
    # The date stands: the clock keeps running; alice's reminder is not sent (no longer her lead).
    assert clock.state == "active" and SlaClock.objects.filter(lead=lead).count() == 1
    assert reminder.state == "cancelled"
    assert sweep_and_deliver(due) == ["sent"]
    assert SlaNotice.objects.get(clock=clock, step="overdue").recipient == org["bob"]
    # alice hears that her lead changed hands (issue 9, item 6), and nothing of its SLA any more
    assert list(Notification.objects.filter(recipient=org["alice"]).values_list("kind", flat=True)) == [
        "lead_reassigned_away"
    ]


def test_the_policy_that_reassigns_on_escalation_gives_the_next_rep_a_fresh_clock(org):
    lead, old = escalated_lead(org, minutes_ago=80, on_escalation="reassign")
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    old.refresh_from_db()
    assert old.state == "reassigned"
    # The escalation that reassigned it was sent (maria told, alice told as owner at the time).
    assert SlaNotice.objects.get(clock=old, step="escalation_1").state == "sent"
    assert Notification.objects.filter(recipient=org["alice"], kind="sla_escalated_owner").count() == 1
    new = SlaClock.objects.get(lead=lead, state="active")
    assert new.due_at == lead.assigned_at + dt.timedelta(minutes=15)
    # The old second level (315 min after arrival) never fires.
    sweep_and_deliver(lead.assigned_at + dt.timedelta(minutes=236))
    assert not SlaNotice.objects.filter(clock=old, step="escalation_2").exists()
