"""A repeat inquiry keeps its message; notices reach whoever's work changed hands (issue 9, items 2 and 6)."""

import pytest

from accountability.notifications.models import Notification
from leads.models import Activity
from leads.services import lead_create, lead_reassign, lead_take_over
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _open_lead(org, **kw):
    return LeadFactory(
        owner=org["alice"], team=org["north"], name="Jo Buyer", email="jo@example.com", phone="+14155552671", **kw
    )


# --- item 2: the repeat inquiry's message and what differs ---------------------------------------


def test_a_repeat_inquiry_carries_its_message_and_the_new_phone_number(org):
    lead = _open_lead(org)
    lead_create(
        actor=None, team=org["north"], name="Jo Buyer", email="jo@example.com", phone="(415) 555-0000",
        notes="Can you call me on my new number after 5pm?",
    )  # fmt: skip
    inquiry = lead.activities.get(kind=Activity.Kind.INQUIRY)
    assert inquiry.body == "Can you call me on my new number after 5pm?"
    assert inquiry.data["differs"] == {"phone": {"lead": "+14155552671", "inquiry": "+14155550000"}}
    notice = Notification.objects.get(recipient=org["alice"], kind="lead_inquiry")
    assert "Can you call me on my new number after 5pm?" in notice.body
    assert "phone +14155550000" in notice.body


def test_the_timeline_shows_the_repeat_inquirys_message_and_differences(org, login):
    lead = _open_lead(org)
    lead_create(
        actor=None, team=org["north"], name="Jo Buyer", email="jo@example.com", company="New Co",
        notes="Second message <b>bold</b>",
    )  # fmt: skip
    body = login(org["alice"]).get(f"/leads/{lead.pk}/").content.decode()
    assert "Second message &lt;b&gt;bold&lt;/b&gt;" in body
    assert "company “New Co”" in body


def test_the_web_form_message_of_a_repeat_visitor_reaches_the_owner(org, client):
    from leads.services import intake_source_create

    intake_source_create(actor=org["admin"], name="West Coast Ads", slug="west", team=org["north"])
    lead = _open_lead(org)
    response = client.post(
        "/leads/intake/west/",
        {"name": "Jo Buyer", "email": "jo@example.com", "phone": "", "company": "", "message": "Ready to buy now."},
    )
    assert response.status_code == 302
    assert lead.activities.get(kind=Activity.Kind.INQUIRY).body == "Ready to buy now."
    assert "Ready to buy now." in Notification.objects.get(recipient=org["alice"], kind="lead_inquiry").body


def test_an_api_post_that_joins_an_open_lead_keeps_its_notes_and_new_number(org, client):
    from leads.services import intake_source_create

    _source, token = intake_source_create(actor=org["admin"], name="Partner", slug="partner", team=org["north"])
    lead = _open_lead(org)
    response = client.post(
        "/api/v1/leads/",
        data={"name": "Jo Buyer", "email": "jo@example.com", "phone": "+1 415 555 0000", "notes": "Wants a quote"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201 and response.json()["duplicate"] is True
    inquiry = lead.activities.get(kind=Activity.Kind.INQUIRY)
    assert inquiry.body == "Wants a quote" and inquiry.data["differs"]["phone"]["inquiry"] == "+14155550000"
    notice = Notification.objects.get(recipient=org["alice"], kind="lead_inquiry")
    assert "Wants a quote" in notice.body and "Partner" in notice.body


def test_a_csv_row_that_joins_an_open_lead_keeps_its_notes(org):
    from leads.importing import import_rows, parse_csv

    lead = _open_lead(org)
    parsed = parse_csv(
        b"name,email,phone,notes\nJo Buyer,jo@example.com,415 555 0000,Met at the trade show\n", team=org["north"]
    )
    result = import_rows(rows=parsed.rows, team=org["north"], actor=org["maria"], skip_bad=False)
    assert result.duplicates == 1
    inquiry = lead.activities.get(kind=Activity.Kind.INQUIRY)
    assert inquiry.body == "Met at the trade show" and "phone" in inquiry.data["differs"]
    assert "Met at the trade show" in Notification.objects.get(recipient=org["alice"], kind="lead_inquiry").body


# --- item 6: nobody told of their own act; the previous owner told who and why ------------------


def test_a_rep_who_enters_a_duplicate_of_their_own_lead_is_not_notified(org):
    lead = _open_lead(org)
    result = lead_create(actor=org["alice"], team=org["north"], name="Jo Buyer", email="jo@example.com", notes="x")
    assert result.duplicate and result.lead == lead
    assert not Notification.objects.filter(recipient=org["alice"]).exists()


def test_a_duplicate_entered_by_a_teammate_notifies_the_owner(org):
    _open_lead(org)
    lead_create(actor=org["bob"], team=org["north"], name="Jo Buyer", email="jo@example.com", notes="Called in")
    assert Notification.objects.filter(recipient=org["alice"], kind="lead_inquiry").count() == 1
    assert not Notification.objects.filter(recipient=org["bob"]).exists()


def test_the_previous_owner_is_told_who_reassigned_their_lead_and_why(org):
    lead = _open_lead(org)
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["bob"], reason="Alice is on leave")
    notice = Notification.objects.get(recipient=org["alice"], kind="lead_reassigned_away")
    assert "Bob" in notice.title
    assert "Maria" in notice.body and "Alice is on leave" in notice.body
    assert not Notification.objects.filter(recipient=org["maria"]).exists()


def test_the_previous_owner_is_told_when_a_teammate_claims_their_lead(org):
    lead = _open_lead(org)
    lead_take_over(actor=org["bob"], lead=lead, reason="Claimed by Bob after escalation")
    notice = Notification.objects.get(recipient=org["alice"], kind="lead_reassigned_away")
    assert "Bob" in notice.body and "Claimed by Bob after escalation" in notice.body


def test_the_previous_owner_is_told_of_an_escalation_reassignment(org):
    lead = _open_lead(org)
    lead_reassign(actor=None, lead=lead, to_owner=org["bob"], reason="Escalated: first contact overdue")
    notice = Notification.objects.get(recipient=org["alice"], kind="lead_reassigned_away")
    assert "automatically" in notice.body and "Escalated: first contact overdue" in notice.body
