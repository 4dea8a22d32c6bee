from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.notifications.models import Notification
from leads.models import Activity, FollowUp, Lead, TeamIntakeSettings
from leads.services import (
    activity_correct,
    activity_log,
    lead_claim,
    lead_create,
    lead_reassign,
    lead_stage_change,
    lead_update,
)
from tests.factories import LeadFactory, MembershipFactory, TeamFactory, UserFactory
from tests.leads.factories import TeamIntakeSettingsFactory

pytestmark = pytest.mark.django_db


def _new(team, **kw):
    data = {"name": "Jo Buyer", "company": "Acme", "email": "", "phone": "", "value": 100}
    data.update(kw)
    if not data["email"] and not data["phone"]:
        data["email"] = f"{data['name'].replace(' ', '.').lower()}@example.com"
    return lead_create(actor=None, team=team, **data)


# --- creation, normalisation, duplicates --------------------------------------------------


def test_create_normalises_email_and_phone_and_writes_arrived_and_assigned(org):
    result = lead_create(
        actor=None, team=org["north"], name=" Jo ", email="Jo@Example.COM ", phone="(415) 555-2671", value="10.50"
    )
    lead = result.lead
    assert not result.duplicate
    assert (lead.name, lead.email, lead.phone, lead.value) == ("Jo", "jo@example.com", "+14155552671", Decimal("10.50"))
    kinds = list(lead.activities.order_by("id").values_list("kind", flat=True))
    assert kinds == ["arrived", "assigned"]
    assert lead.owner == org["alice"]  # lowest id first in round-robin


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-email"}),
        ("phone", {"phone": "12"}),
        ("phone", {"phone": "1" * 40}),
        ("name", {"name": "x" * 201}),
        ("name", {"name": "   "}),
        ("value", {"value": "-5"}),
        ("value", {"value": "abc"}),
        ("email", {"email": "", "phone": ""}),
    ],
)
def test_create_rejects_bad_input_and_saves_nothing(org, field, kwargs):
    data = {"name": "Jo", "email": "jo@example.com", "phone": "", "value": 0, **kwargs}
    with pytest.raises(ValidationError) as exc:
        lead_create(actor=None, team=org["north"], **data)
    assert field in exc.value.message_dict
    assert Lead.objects.count() == 0 and Activity.objects.count() == 0


def test_duplicate_by_email_records_inquiry_and_notifies_owner(org):
    first = _new(org["north"], email="jo@example.com").lead
    again = lead_create(actor=None, team=org["north"], name="Jo B", email="JO@example.com", notes="Still keen")
    assert again.duplicate and again.lead == first
    assert Lead.objects.count() == 1
    inquiry = first.activities.get(kind="inquiry")
    assert inquiry.body == "Still keen" and inquiry.data["name"] == "Jo B"
    assert Notification.objects.filter(recipient=first.owner, kind="lead_inquiry").count() == 1


def test_duplicate_by_phone_in_other_format(org):
    first = _new(org["north"], phone="+1 415 555 2671").lead
    again = lead_create(actor=None, team=org["north"], name="Other", phone="415-555-2671")
    assert again.duplicate and again.lead == first


def test_two_inquiries_give_two_notifications(org):
    first = _new(org["north"], email="jo@example.com").lead
    _new(org["north"], email="jo@example.com")
    _new(org["north"], email="jo@example.com")
    assert Notification.objects.filter(recipient=first.owner, kind="lead_inquiry").count() == 2


def test_closed_lead_or_other_team_is_not_a_duplicate(org):
    first = _new(org["north"], email="jo@example.com").lead
    lead_stage_change(actor=org["maria"], lead=first, stage="lost", lost_reason="No budget")
    assert not _new(org["north"], email="jo@example.com").duplicate
    assert not _new(org["south"], email="jo@example.com").duplicate


# --- round-robin ---------------------------------------------------------------------------


def test_round_robin_alternates_fairly(org):
    owners = [_new(org["north"], name=f"L{i}").lead.owner.username for i in range(4)]
    assert owners == ["alice", "bob", "alice", "bob"]


def test_round_robin_skips_away_and_inactive_and_managers(org):
    carol = UserFactory(username="carol", role="rep")
    MembershipFactory(user=carol, team=org["north"])
    dave = UserFactory(username="dave", role="rep", is_active=False)
    MembershipFactory(user=dave, team=org["north"])
    MembershipFactory(user=org["maria"], team=org["north"])  # a manager on the team gets no leads
    bob = org["bob"]
    bob.away_until = timezone.localdate() + timedelta(days=2)
    bob.save()
    owners = [_new(org["north"], name=f"L{i}").lead.owner.username for i in range(4)]
    assert owners == ["alice", "carol", "alice", "carol"]


def test_away_until_yesterday_is_back(org):
    bob = org["bob"]
    bob.away_until = timezone.localdate() - timedelta(days=1)
    bob.save()
    owners = [_new(org["north"], name=f"L{i}").lead.owner.username for i in range(2)]
    assert owners == ["alice", "bob"]


def test_cap_sends_lead_to_rep_with_room_then_queue(org):
    TeamIntakeSettingsFactory(team=org["north"], max_open_untouched=1)
    LeadFactory(owner=org["alice"], team=org["north"])  # alice already has one untouched lead
    assert _new(org["north"], name="L1").lead.owner == org["bob"]
    queued = _new(org["north"], name="L2").lead  # both at the cap
    assert queued.owner is None
    assert queued.activities.get(kind="assigned").data["how"] == "queue"


def test_contacted_leads_do_not_count_toward_cap(org):
    TeamIntakeSettingsFactory(team=org["north"], max_open_untouched=1)
    LeadFactory(owner=org["alice"], team=org["north"], first_contacted_at=timezone.now(), stage="contacted")
    LeadFactory(owner=org["bob"], team=org["north"])
    assert _new(org["north"], name="L1").lead.owner == org["alice"]


def test_queue_mode_leaves_leads_unassigned_and_a_teammate_claims(org):
    TeamIntakeSettingsFactory(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    lead = _new(org["north"]).lead
    assert lead.owner is None
    lead_claim(actor=org["bob"], lead=lead)
    lead.refresh_from_db()
    assert lead.owner == org["bob"] and lead.assigned_at is not None
    assert lead.activities.filter(kind="assigned", data__how="claim").exists()
    with pytest.raises(ValidationError, match="already owns"):
        lead_claim(actor=org["alice"], lead=lead)


def test_rep_of_another_team_cannot_claim(org):
    TeamIntakeSettingsFactory(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    lead = _new(org["north"]).lead
    with pytest.raises(PermissionDenied):
        lead_claim(actor=org["charlie"], lead=lead)


def test_team_with_no_reps_queues(db):
    team = TeamFactory(name="Empty")
    assert _new(team).lead.owner is None


def test_explicit_owner_must_be_team_member(org):
    with pytest.raises(ValidationError) as exc:
        _new(org["north"], owner=org["charlie"])
    assert "owner" in exc.value.message_dict
    lead = _new(org["north"], owner=org["bob"]).lead
    assert lead.owner == org["bob"]


# --- reassign -----------------------------------------------------------------------------


def test_manager_reassigns_with_reason_on_timeline(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Alice is on leave")
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    entry = lead.activities.get(kind="assigned")
    assert entry.data["from_owner"] == org["alice"].pk and entry.data["to_owner"] == org["bob"].pk
    assert entry.data["reason"] == "Alice is on leave" and entry.actor == org["maria"]
    assert Notification.objects.filter(recipient=org["bob"], kind="lead_assigned").exists()


def test_reassign_requires_reason_and_manager_of_team(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    with pytest.raises(ValidationError) as exc:
        lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason=" ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        lead_reassign(actor=org["sam"], lead=lead, to_owner=org["bob"], reason="x")
    with pytest.raises(PermissionDenied):
        lead_reassign(actor=org["alice"], lead=lead, to_owner=org["bob"], reason="x")
    with pytest.raises(ValidationError) as exc:
        lead_reassign(actor=org["maria"], lead=lead, to_owner=org["charlie"], reason="x")
    assert "to_owner" in exc.value.message_dict
    assert Lead.objects.get(pk=lead.pk).owner == org["alice"]


def test_system_reassign_moves_open_follow_up(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    activity_log(
        actor=org["alice"], lead=lead, kind="call", outcome="voicemail",
        next_follow_up_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    lead_reassign(actor=None, lead=lead, to_owner=org["bob"], reason="Escalated: follow-up breached")
    assert FollowUp.objects.get(lead=lead, state="open").owner == org["bob"]
    assert lead.activities.get(kind="assigned").actor is None


# --- activity logging ---------------------------------------------------------------------


def test_first_contact_sets_first_contacted_and_moves_stage(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    t = timezone.now() - timedelta(minutes=30)
    activity_log(actor=org["alice"], lead=lead, kind="note", body="Looked them up")
    lead.refresh_from_db()
    assert lead.first_contacted_at is None and lead.stage == "new"  # a note is not a contact
    activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", occurred_at=t)
    lead.refresh_from_db()
    assert lead.first_contacted_at == t and lead.first_contacted_by == org["alice"]
    assert lead.stage == "contacted" and lead.last_activity_at >= t
    assert lead.activities.filter(kind="stage", data__to="contacted").count() == 1
    activity_log(actor=org["alice"], lead=lead, kind="email", outcome="sent")
    lead.refresh_from_db()
    assert lead.first_contacted_at == t  # unchanged by later contacts


def test_rep_who_saves_a_neglected_lead_gets_first_contact_credit(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Untouched for 3 days")
    activity_log(actor=org["bob"], lead=lead, kind="call", outcome="connected")
    lead.refresh_from_db()
    assert lead.first_contacted_by == org["bob"]


def test_follow_up_set_then_done_on_time_by_contact(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    due = timezone.now() + timedelta(days=1)
    activity_log(actor=org["alice"], lead=lead, kind="call", outcome="voicemail", next_follow_up_at=due)
    lead.refresh_from_db()
    assert lead.next_follow_up_at == due
    fu = FollowUp.objects.get(lead=lead)
    assert fu.state == "open" and fu.owner == org["alice"] and fu.due_at == due
    activity_log(actor=org["alice"], lead=lead, kind="note", body="prep")  # a note does not complete it
    assert FollowUp.objects.get(pk=fu.pk).state == "open"
    activity_log(actor=org["alice"], lead=lead, kind="email", outcome="sent")
    fu.refresh_from_db()
    lead.refresh_from_db()
    assert fu.state == "done" and fu.done_by == org["alice"] and fu.on_time is True
    assert lead.next_follow_up_at is None


def test_late_contact_marks_follow_up_done_late(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    activity_log(
        actor=org["alice"], lead=lead, kind="call", outcome="voicemail",
        next_follow_up_at=timezone.now() + timedelta(minutes=1),
    )  # fmt: skip
    FollowUp.objects.filter(lead=lead).update(due_at=timezone.now() - timedelta(hours=2))
    activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected")
    assert FollowUp.objects.get(lead=lead).on_time is False


def test_new_follow_up_date_replaces_open_one(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    d1, d2 = timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=3)
    activity_log(actor=org["alice"], lead=lead, kind="call", outcome="voicemail", next_follow_up_at=d1)
    activity_log(actor=org["alice"], lead=lead, kind="note", body="They asked for Friday", next_follow_up_at=d2)
    assert list(FollowUp.objects.filter(lead=lead).order_by("due_at").values_list("state", flat=True)) == [
        "cancelled",
        "open",
    ]
    lead.refresh_from_db()
    assert lead.next_follow_up_at == d2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "call", "outcome": "sent"}, "outcome"),
        ({"kind": "call", "outcome": ""}, "outcome"),
        ({"kind": "note", "outcome": "connected", "body": "x"}, "outcome"),
        ({"kind": "note", "body": ""}, "body"),
        ({"kind": "arrived"}, "kind"),
        ({"kind": "call", "outcome": "connected", "next_follow_up_at": "past"}, "next_follow_up_at"),
        ({"kind": "call", "outcome": "connected", "occurred_at": "future"}, "occurred_at"),
        ({"kind": "email", "outcome": "sent", "body": "x" * 5001}, "body"),
    ],
)
def test_activity_bad_input_is_refused(org, kwargs, field):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    if kwargs.get("next_follow_up_at") == "past":
        kwargs["next_follow_up_at"] = timezone.now() - timedelta(hours=1)
    if kwargs.get("occurred_at") == "future":
        kwargs["occurred_at"] = timezone.now() + timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        activity_log(actor=org["alice"], lead=lead, **kwargs)
    assert field in exc.value.message_dict
    assert not lead.activities.exists()


# --- corrections ----------------------------------------------------------------------------


def test_author_corrects_within_window(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    a = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", body="Spoke")
    activity_correct(actor=org["alice"], activity=a, outcome="voicemail", body="Left a message")
    a.refresh_from_db()
    assert (a.outcome, a.body) == ("voicemail", "Left a message") and a.edited_at
    assert a.data["previous"] == [{"outcome": "connected", "body": "Spoke"}]


def test_no_correction_by_someone_else_or_after_window(org, settings):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    a = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected")
    with pytest.raises(PermissionDenied, match="Only the person"):
        activity_correct(actor=org["maria"], activity=a, outcome="voicemail", body="")
    Activity.objects.filter(pk=a.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    with pytest.raises(ValidationError, match="10 minutes"):
        activity_correct(actor=org["alice"], activity=a, outcome="voicemail", body="")
    fix = activity_log(actor=org["alice"], lead=lead, kind="note", body="It was a voicemail", corrects=a)
    assert list(a.corrections.all()) == [fix]


def test_system_entries_cannot_be_edited(org):
    lead = _new(org["north"]).lead
    arrived = lead.activities.get(kind="arrived")
    with pytest.raises(ValidationError):
        activity_correct(actor=org["alice"], activity=arrived, outcome="", body="x")


# --- stage ----------------------------------------------------------------------------------


def test_lost_needs_reason_and_closing_cancels_follow_up(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    activity_log(
        actor=org["alice"], lead=lead, kind="call", outcome="connected",
        next_follow_up_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        lead_stage_change(actor=org["alice"], lead=lead, stage="lost")
    assert "lost_reason" in exc.value.message_dict
    lead = lead_stage_change(actor=org["alice"], lead=lead, stage="lost", lost_reason="Went with a rival")
    assert lead.closed_at is not None and lead.next_follow_up_at is None and lead.lost_reason == "Went with a rival"
    assert FollowUp.objects.get(lead=lead).state == "cancelled"
    entry = lead.activities.filter(kind="stage").first()
    assert entry.data == {"from": "contacted", "to": "lost", "lost_reason": "Went with a rival"}


def test_reopening_clears_closed_at(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    lead = lead_stage_change(actor=org["alice"], lead=lead, stage="won")
    assert lead.closed_at
    lead = lead_stage_change(actor=org["maria"], lead=lead, stage="proposal")
    assert lead.closed_at is None and lead.stage == "proposal"


def test_closed_lead_refuses_follow_up(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    lead_stage_change(actor=org["alice"], lead=lead, stage="won")
    with pytest.raises(ValidationError):
        activity_log(
            actor=org["alice"], lead=lead, kind="note", body="x", next_follow_up_at=timezone.now() + timedelta(days=1)
        )


def test_stage_change_by_other_rep_is_refused(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    with pytest.raises(PermissionDenied):
        lead_stage_change(actor=org["bob"], lead=lead, stage="won")


# --- update ---------------------------------------------------------------------------------


def test_update_normalises_and_records_changes(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"], email="a@example.com", phone="")
    lead_update(
        actor=org["maria"], lead=lead, name=lead.name, company="New Co", email="B@Example.com",
        phone="+44 20 7946 0958", value=5, notes="",
    )  # fmt: skip
    lead.refresh_from_db()
    assert (lead.company, lead.email, lead.phone) == ("New Co", "b@example.com", "+442079460958")
    changed = lead.activities.get(kind="updated").data["changed"]
    assert changed["email"] == {"from": "a@example.com", "to": "b@example.com"}


def test_update_bad_phone_saves_nothing(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"], company="Old")
    with pytest.raises(ValidationError):
        lead_update(actor=org["alice"], lead=lead, name="x", company="New", email="", phone="123", value=0, notes="")
    lead.refresh_from_db()
    assert lead.company == "Old"


def test_away_date_is_inclusive(org):
    bob = org["bob"]
    bob.away_until = date.today()
    bob.save()
    owners = {_new(org["north"], name=f"L{i}").lead.owner.username for i in range(2)}
    assert owners == {"alice"}


def test_only_owner_or_manager_logs_on_a_lead(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    with pytest.raises(PermissionDenied):
        activity_log(actor=org["bob"], lead=lead, kind="call", outcome="connected")
    with pytest.raises(PermissionDenied):
        activity_log(actor=org["sam"], lead=lead, kind="call", outcome="connected")
    activity_log(actor=org["maria"], lead=lead, kind="call", outcome="connected")
    activity_log(actor=org["helen"], lead=lead, kind="note", body="Head of sales looked")
    assert lead.activities.filter(kind__in=["call", "note"]).count() == 2


# --- received_by: the rep of the first assignment (leads.metrics attribution) ----------------


def test_received_by_is_the_first_assignee_and_survives_reassignment(org):
    lead = _new(org["north"]).lead  # round-robin: alice first
    assert lead.owner == org["alice"] and lead.received_by == org["alice"]
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Alice is on leave")
    lead.refresh_from_db()
    assert lead.owner == org["bob"] and lead.received_by == org["alice"]


def test_received_by_is_set_by_a_manual_owner(org):
    lead = _new(org["north"], owner=org["bob"]).lead
    lead.refresh_from_db()
    assert lead.received_by == org["bob"]


def test_a_claim_from_the_queue_is_the_first_assignment(org):
    TeamIntakeSettingsFactory(team=org["north"], mode=TeamIntakeSettings.Mode.QUEUE)
    lead = _new(org["north"]).lead
    lead.refresh_from_db()
    assert lead.received_by is None  # waiting in the queue: nobody received it yet
    lead_claim(actor=org["bob"], lead=lead)
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["alice"], reason="Bob is away")
    lead.refresh_from_db()
    assert (lead.owner, lead.received_by) == (org["alice"], org["bob"])


def test_reassigning_a_lead_without_received_by_credits_its_previous_owner(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])  # made before received_by existed
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Alice is on leave")
    lead.refresh_from_db()
    assert lead.received_by == org["alice"]


def test_backfill_migration_reads_the_first_assignment_or_the_owner(org):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from leads.models import Activity

    backfill = importlib.import_module("leads.migrations.0005_lead_received_by").backfill
    north = org["north"]
    reassigned = LeadFactory(owner=org["bob"], team=north)  # alice first, then bob
    for frm, to in ((None, None), (None, org["alice"]), (org["alice"], org["bob"])):  # queue, claim, reassign
        Activity.objects.create(
            lead=reassigned,
            kind="assigned",
            data={"from_owner": frm.pk if frm else None, "to_owner": to.pk if to else None},
        )
    no_timeline = LeadFactory(owner=org["bob"], team=north)
    queued = LeadFactory(owner=None, team=north)
    backfill(apps, SimpleNamespace(connection=connection))
    for lead in (reassigned, no_timeline, queued):
        lead.refresh_from_db()
    assert reassigned.received_by == org["alice"]
    assert no_timeline.received_by == org["bob"]
    assert queued.received_by is None


def test_a_teammate_takes_over_a_lead_as_their_own_act(org):
    from leads.services import lead_take_over

    lead = LeadFactory(owner=org["alice"])
    FollowUp.objects.create(lead=lead, owner=org["alice"], due_at=timezone.now() + timedelta(hours=1))
    lead_take_over(actor=org["bob"], lead=lead, reason="Alice is out; saving it")
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    assert FollowUp.objects.get(lead=lead, state=FollowUp.State.OPEN).owner == org["bob"]
    entry = lead.activities.get(kind=Activity.Kind.ASSIGNED)
    assert entry.actor == org["bob"] and entry.data["how"] == "claim" and entry.data["from_owner"] == org["alice"].pk
    assert not Notification.objects.filter(
        recipient=org["bob"], kind__startswith="lead"
    ).exists()  # not told of own act


def test_take_over_is_refused_outside_the_team_and_for_ones_own_lead(org):
    from leads.services import lead_take_over

    lead = LeadFactory(owner=org["alice"])
    with pytest.raises(ValidationError) as outsider:
        lead_take_over(actor=org["charlie"], lead=lead, reason="mine now")
    assert "not an active member" in str(outsider.value)
    with pytest.raises(ValidationError) as own:
        lead_take_over(actor=org["alice"], lead=lead, reason="again")
    assert "already owns" in str(own.value)
    lead.refresh_from_db()
    assert lead.owner == org["alice"] and not lead.activities.filter(kind=Activity.Kind.ASSIGNED).exists()
