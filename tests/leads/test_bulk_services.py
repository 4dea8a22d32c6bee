"""Acting on many leads at once (issue 15): one transaction, the single-lead rules per lead.

A bulk reassignment must leave every lead exactly as a single reassignment would (owner,
timeline, SLA clocks handed over), tell each person once, and change nothing when any part is
refused.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.notifications.models import Notification
from leads import services as lead_services
from leads.bulk_services import leads_bulk_reassign, leads_bulk_stage_change
from leads.models import Activity, FollowUp, Lead
from leads.sla import services as sla_services
from leads.sla.models import SlaClock
from tests.factories import FollowUpFactory, LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db


def untouched(owner, team, n, *, minutes_ago=10, **kwargs):
    now = timezone.now()
    return [
        LeadFactory(owner=owner, team=team, name=f"{owner.first_name} lead {i}",
                    arrived_at=now - dt.timedelta(minutes=minutes_ago), **kwargs)
        for i in range(n)
    ]  # fmt: skip


def sla_state(lead) -> list[tuple]:
    """What a hand-over leaves on one lead, comparable between two leads."""
    clocks = sorted((c.kind, c.state, c.due_at - c.anchor_at) for c in SlaClock.objects.filter(lead=lead))
    kinds = sorted(Activity.objects.filter(lead=lead).values_list("kind", flat=True))
    return [clocks, kinds]


def test_bulk_reassign_leaves_each_lead_as_a_single_reassignment_would(org):
    SlaPolicyFactory()
    leads = untouched(org["alice"], org["north"], 3)
    single = untouched(org["alice"], org["north"], 1)[0]
    sla_services.sla_sweep(now=timezone.now())  # alice's first-contact clocks are running
    assert SlaClock.objects.filter(state="active").count() == 4

    result = leads_bulk_reassign(actor=org["maria"], leads=leads, to_owner=org["bob"], reason="Alice is on leave")
    lead_services.lead_reassign(actor=org["maria"], lead=single, to_owner=org["bob"], reason="Alice is on leave")

    assert [x.pk for x in result.changed] == [x.pk for x in leads] and result.unchanged == []
    for lead in leads:
        lead.refresh_from_db()
        assert lead.owner == org["bob"] and lead.received_by == org["alice"]
        assigned = Activity.objects.get(lead=lead, kind="assigned", data__how="reassign")
        assert assigned.actor == org["maria"] and assigned.body == "Alice is on leave"
        handover = Activity.objects.get(lead=lead, kind="sla_handover")
        assert "Stopped Alice" in handover.body and "handed over to Bob" in handover.body
        # Alice's clock stopped, bob's started from the hand-over: the same as the single one.
        assert SlaClock.objects.get(lead=lead, state="reassigned")
        assert SlaClock.objects.get(lead=lead, state="active").anchor_at == lead.assigned_at
        assert sla_state(lead) == sla_state(single)


def test_bulk_reassign_tells_the_new_and_old_owners_once_each(org):
    leads = untouched(org["alice"], org["north"], 3) + untouched(org["bob"], org["north"], 2)
    maria = org["maria"]
    leads_bulk_reassign(actor=maria, leads=leads[:4], to_owner=org["bob"], reason="Rebalancing")
    # 3 from alice to bob, 1 was bob's already (left alone)
    to_bob = Notification.objects.filter(recipient=org["bob"])
    assert to_bob.count() == 1
    assert to_bob.get().title == "3 leads reassigned to you"
    assert "Alice lead 0" in to_bob.get().body and "Rebalancing" in to_bob.get().body
    to_alice = Notification.objects.get(recipient=org["alice"])
    assert to_alice.title == f"3 of your leads now belong to {org['bob']}"
    assert f"{maria} reassigned them. Reason: Rebalancing" in to_alice.body

    # Again: every lead is bob's already, nothing changes and nobody is told again.
    again = leads_bulk_reassign(actor=maria, leads=leads[:4], to_owner=org["bob"], reason="Rebalancing")
    assert again.changed == [] and len(again.unchanged) == 4
    assert Notification.objects.count() == 2
    assert Activity.objects.filter(kind="assigned", data__how="reassign").count() == 3


def test_one_lead_in_bulk_reads_like_a_single_reassignment(org):
    lead = untouched(org["alice"], org["north"], 1)[0]
    leads_bulk_reassign(actor=org["maria"], leads=[lead], to_owner=org["bob"], reason="Cover")
    assert Notification.objects.get(recipient=org["bob"]).title == f"Lead reassigned to you: {lead}"
    assert Notification.objects.get(recipient=org["alice"]).title == f"Your lead {lead} now belongs to {org['bob']}"


def test_bulk_reassign_is_all_or_nothing_when_the_new_owner_is_not_in_every_team(org):
    north = untouched(org["alice"], org["north"], 2)
    south = untouched(org["charlie"], org["south"], 1)
    with pytest.raises(ValidationError) as exc:
        leads_bulk_reassign(actor=org["helen"], leads=north + south, to_owner=org["bob"], reason="Cover")
    assert exc.value.message_dict["to_owner"] == [
        f"{org['bob']} is not an active member of South (1 of the selected leads)."
    ]
    assert set(Lead.objects.values_list("owner__username", flat=True)) == {"alice", "charlie"}
    assert not Activity.objects.filter(kind="assigned", data__how="reassign").exists()


def test_a_failure_on_the_last_lead_rolls_back_the_ones_before(org, monkeypatch):
    leads = untouched(org["alice"], org["north"], 3)
    calls = []
    real = lead_services.sla_clocks_hand_over

    def failing(**kwargs):
        calls.append(kwargs["lead"].pk)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(lead_services, "sla_clocks_hand_over", failing)
    with pytest.raises(RuntimeError):
        leads_bulk_reassign(actor=org["maria"], leads=leads, to_owner=org["bob"], reason="Cover")
    assert len(calls) == 3
    assert set(Lead.objects.values_list("owner__username", flat=True)) == {"alice"}
    assert not Activity.objects.filter(kind__in=["assigned", "sla_handover"], data__to_owner=org["bob"].pk).exists()
    assert not Notification.objects.exists()


def test_bulk_reassign_refuses_a_lead_of_a_team_the_manager_does_not_manage(org):
    mine = untouched(org["alice"], org["north"], 1)
    theirs = untouched(org["charlie"], org["south"], 1)
    with pytest.raises(PermissionDenied):
        leads_bulk_reassign(actor=org["maria"], leads=mine + theirs, to_owner=org["bob"], reason="x")
    assert Lead.objects.get(pk=mine[0].pk).owner == org["alice"]


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Say why the leads are being reassigned."), ("x" * 501, "A reason has at most 500 characters.")],
)
def test_bulk_reassign_needs_one_valid_reason(org, reason, message):
    leads = untouched(org["alice"], org["north"], 2)
    with pytest.raises(ValidationError) as exc:
        leads_bulk_reassign(actor=org["maria"], leads=leads, to_owner=org["bob"], reason=reason)
    assert exc.value.message_dict["reason"] == [message]
    assert not Lead.objects.filter(owner=org["bob"]).exists()


def test_bulk_needs_a_selection(org):
    with pytest.raises(ValidationError) as exc:
        leads_bulk_stage_change(actor=org["maria"], leads=[], stage="won")
    assert exc.value.message_dict["ids"] == ["Select at least one lead."]


def test_bulk_lost_closes_each_lead_with_the_reason_and_cancels_its_follow_up(org):
    leads = untouched(org["alice"], org["north"], 3)
    FollowUpFactory(lead=leads[0], due_at=timezone.now() + dt.timedelta(days=1))
    lost_already = LeadFactory(owner=org["alice"], team=org["north"], stage="lost", closed_at=timezone.now())
    result = leads_bulk_stage_change(
        actor=org["alice"], leads=[*leads, lost_already], stage="lost", lost_reason="Went with a competitor"
    )
    assert len(result.changed) == 3 and [x.pk for x in result.unchanged] == [lost_already.pk]
    for lead in leads:
        lead.refresh_from_db()
        assert (lead.stage, lead.lost_reason) == ("lost", "Went with a competitor") and lead.closed_at
        entry = Activity.objects.get(lead=lead, kind="stage")
        assert entry.actor == org["alice"] and entry.data == {
            "from": "new", "to": "lost", "lost_reason": "Went with a competitor"
        }  # fmt: skip
    assert FollowUp.objects.get(lead=leads[0]).state == "cancelled"
    assert not Activity.objects.filter(lead=lost_already, kind="stage").exists()


def test_bulk_lost_without_a_reason_changes_nothing(org):
    leads = untouched(org["alice"], org["north"], 2)
    with pytest.raises(ValidationError) as exc:
        leads_bulk_stage_change(actor=org["maria"], leads=leads, stage="lost", lost_reason="  ")
    assert exc.value.message_dict["lost_reason"] == ["Say why the lead was lost."]
    assert not Lead.objects.exclude(stage="new").exists()


def test_bulk_stage_refuses_all_when_one_lead_is_not_the_reps(org):
    mine = untouched(org["alice"], org["north"], 2)
    bobs = untouched(org["bob"], org["north"], 1)
    with pytest.raises(PermissionDenied):
        leads_bulk_stage_change(actor=org["alice"], leads=mine + bobs, stage="qualified")
    assert not Lead.objects.exclude(stage="new").exists()
    assert not Activity.objects.filter(kind="stage").exists()
