"""Editing an activity offers its kind's outcomes; a refused form gives back everything typed (issue 9, item 3)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Activity
from leads.services import activity_log
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _edit_form(body: str, entry: Activity) -> str:
    match = re.search(rf'<form[^>]*action="/leads/activities/{entry.pk}/edit/".*?</form>', body, re.S)
    assert match, "the entry has no edit form"
    return match.group(0)


def _options(form_html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', form_html)


def test_editing_a_call_offers_only_call_outcomes(org, login):
    lead = LeadFactory(owner=org["alice"])
    call = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", body="Spoke")
    meeting = activity_log(actor=org["alice"], lead=lead, kind="meeting", outcome="held", body="Demo")
    body = login(org["alice"]).get(f"/leads/{lead.pk}/").content.decode()
    assert _options(_edit_form(body, call)) == ["connected", "voicemail", "no_answer", "wrong_number"]
    assert _options(_edit_form(body, meeting)) == ["held", "no_show", "rescheduled"]


def test_an_outcome_of_another_kind_is_refused_with_the_typed_text_given_back(org, login):
    lead = LeadFactory(owner=org["alice"])
    call = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", body="Spoke")
    for headers in (HTMX, {}):
        response = login(org["alice"]).post(
            f"/leads/activities/{call.pk}/edit/", {"outcome": "no_show", "body": "My long careful text"}, **headers
        )
        form = _edit_form(response.content.decode(), call)
        assert 'value="My long careful text"' in form
        assert "Select a valid choice" in response.content.decode()
    call.refresh_from_db()
    assert (call.outcome, call.body) == ("connected", "Spoke")


def test_an_edit_refused_after_the_window_keeps_the_text_in_the_correction_box(org, login):
    lead = LeadFactory(owner=org["alice"])
    call = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", body="Spoke")
    Activity.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    response = login(org["alice"]).post(
        f"/leads/activities/{call.pk}/edit/", {"outcome": "voicemail", "body": "What I typed"}, **HTMX
    )
    body = response.content.decode()
    assert "add a correction instead" in body
    correction = re.search(rf'<form[^>]*action="/leads/activities/{call.pk}/correct/".*?</form>', body, re.S)
    assert correction and 'value="What I typed"' in correction.group(0)


def test_a_refused_correction_keeps_its_text(org, login):
    lead = LeadFactory(owner=org["alice"])
    call = activity_log(actor=org["alice"], lead=lead, kind="call", outcome="connected", body="Spoke")
    Activity.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    too_long = "x" * 5001
    response = login(org["alice"]).post(f"/leads/activities/{call.pk}/correct/", {"body": too_long}, **HTMX)
    body = response.content.decode()
    assert too_long in body and "at most 5000 characters" in body
    assert not Activity.objects.filter(corrects=call).exists()
