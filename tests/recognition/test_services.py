"""Giving, editing, deleting and hiding kudos; values; reactions and comments."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.notifications.models import Notification
from recognition import services
from recognition.models import CompanyValue, Kudos, KudosEvent, KudosReaction, RecognitionSettings
from recognition.selectors import settings_get
from tests.factories import LeadFactory
from tests.goals.factories import GoalFactory

pytestmark = pytest.mark.django_db
MESSAGE = "Picked up the Acme call while I was out and booked the demo."


def give(actor, recipients, values, **kw):
    message = kw.pop("message", MESSAGE)
    return services.kudos_give(actor=actor, recipients=recipients, message=message, values=values, **kw)


def test_a_rep_recognises_a_teammate_who_is_notified(alice, bob, own_it):
    kudos = give(alice, [bob], [own_it])
    assert list(kudos.recipients.all()) == [bob]
    assert list(kudos.values.all()) == [own_it]
    notice = Notification.objects.get(recipient=bob, kind="kudos_received")
    assert notice.url == f"/recognition/kudos/{kudos.pk}/"
    assert KudosEvent.objects.filter(kudos=kudos, kind="given").count() == 1


def test_no_kudos_to_oneself(alice, bob, own_it):
    with pytest.raises(ValidationError) as exc:
        give(alice, [alice, bob], [own_it])
    assert "yourself" in str(exc.value)
    assert not Kudos.objects.exists()


def test_message_too_short_and_no_value_are_refused(alice, bob, own_it):
    with pytest.raises(ValidationError, match="at least 20 characters"):
        give(alice, [bob], [own_it], message="thanks!")
    with pytest.raises(ValidationError, match="at least one company value"):
        give(alice, [bob], [])
    retired = CompanyValue.objects.create(name="Old", retired=True)
    with pytest.raises(ValidationError, match="retired"):
        give(alice, [bob], [retired])


def test_evidence_must_be_visible_to_the_giver(alice, bob, own_it):
    bobs_lead = LeadFactory(owner=bob)
    with pytest.raises(ValidationError, match="lead you can see"):
        give(alice, [bob], [own_it], lead=bobs_lead)
    mine = LeadFactory(owner=alice)
    assert give(alice, [bob], [own_it], lead=mine).lead == mine
    goal = GoalFactory(owner=bob)  # a teammate's goal is not visible to a rep
    with pytest.raises(ValidationError, match="goal you can see"):
        give(alice, [bob], [own_it], goal=goal)


def test_with_the_org_feed_off_a_rep_recognises_only_their_teams(alice, bob, charlie, own_it):
    RecognitionSettings.objects.update_or_create(pk=1, defaults={"org_feed_enabled": False})
    with pytest.raises(ValidationError, match="colleagues you work with"):
        give(alice, [charlie], [own_it])
    give(alice, [bob], [own_it])


def test_daily_cap_per_giver_and_recipient(alice, bob, own_it):
    RecognitionSettings.objects.update_or_create(pk=1, defaults={"max_per_recipient_per_day": 2})
    give(alice, [bob], [own_it])
    give(alice, [bob], [own_it])
    with pytest.raises(ValidationError, match="2 times today"):
        give(alice, [bob], [own_it])


def test_monthly_allowance_is_off_by_default_and_counts_recipients_when_on(alice, bob, charlie, own_it):
    assert settings_get().monthly_allowance is None
    RecognitionSettings.objects.filter(pk=1).update(monthly_allowance=2, max_per_recipient_per_day=10)
    give(alice, [bob], [own_it])
    with pytest.raises(ValidationError, match="1 left this month"):
        give(alice, [bob, charlie], [own_it])
    give(alice, [charlie], [own_it])


def test_the_giver_edits_within_ten_minutes_only(alice, bob, own_it, honesty):
    kudos = give(alice, [bob], [own_it])
    services.kudos_update(actor=alice, kudos=kudos, message=MESSAGE + " Twice!", values=[honesty])
    kudos.refresh_from_db()
    assert kudos.message.endswith("Twice!") and kudos.edited_at
    assert list(kudos.values.all()) == [honesty]
    with pytest.raises(PermissionDenied):
        services.kudos_update(actor=bob, kudos=kudos, message=MESSAGE, values=[own_it])
    later = timezone.now() + dt.timedelta(minutes=11)
    with pytest.raises(ValidationError, match="10 minutes"):
        services.kudos_update(actor=alice, kudos=kudos, message=MESSAGE, values=[own_it], now=later)


def test_the_giver_deletes_their_own_and_the_audit_remains(alice, bob, own_it):
    kudos = give(alice, [bob], [own_it])
    with pytest.raises(PermissionDenied):
        services.kudos_delete(actor=bob, kudos=kudos)
    pk = kudos.pk
    services.kudos_delete(actor=alice, kudos=kudos)
    assert not Kudos.objects.filter(pk=pk).exists()
    assert KudosEvent.objects.filter(kudos_ref=pk, kind="deleted").exists()


def test_a_manager_of_the_recipient_hides_with_a_reason_and_the_giver_is_told(alice, bob, charlie, maria, sam, own_it):
    kudos = give(charlie, [bob], [own_it])
    with pytest.raises(PermissionDenied):
        services.kudos_hide(actor=sam, kudos=kudos, reason="no")  # sam manages the giver, not the recipient
    with pytest.raises(PermissionDenied):
        services.kudos_hide(actor=alice, kudos=kudos, reason="no")
    with pytest.raises(ValidationError, match="Say why"):
        services.kudos_hide(actor=maria, kudos=kudos, reason="  ")
    services.kudos_hide(actor=maria, kudos=kudos, reason="Mentions a customer's private details.")
    kudos.refresh_from_db()
    assert kudos.hidden and kudos.hidden_by == maria
    assert Notification.objects.filter(recipient=charlie, kind="kudos_hidden").count() == 1
    assert KudosEvent.objects.filter(kudos=kudos, kind="hidden", actor=maria).exists()
    with pytest.raises(ValidationError, match="already hidden"):
        services.kudos_hide(actor=maria, kudos=kudos, reason="again")
    services.kudos_unhide(actor=maria, kudos=kudos)
    kudos.refresh_from_db()
    assert not kudos.hidden


def test_reaction_is_one_per_person_and_toggles(alice, bob, charlie, own_it):
    kudos = give(alice, [bob], [own_it])
    assert services.reaction_toggle(actor=charlie, kudos=kudos) is True
    assert services.reaction_toggle(actor=bob, kudos=kudos) is True
    assert KudosReaction.objects.filter(kudos=kudos).count() == 2
    assert services.reaction_toggle(actor=charlie, kudos=kudos) is False
    assert KudosReaction.objects.filter(kudos=kudos).count() == 1


def test_comments_need_text(alice, bob, own_it):
    kudos = give(alice, [bob], [own_it])
    with pytest.raises(ValidationError):
        services.comment_add(actor=bob, kudos=kudos, body="   ")
    assert services.comment_add(actor=bob, kudos=kudos, body="Thank you!").body == "Thank you!"


def test_values_are_seeded_from_the_expectations_values_section(admin):
    from accountability.expectations.demo import VALUES

    assert [name for name, _ in services.values_from_text(VALUES)] == ["Honesty first", "Respect the no", "Own it"]
    assert services.values_seed(actor=admin) == 3  # no current document: the starter list
    assert services.values_seed(actor=admin) == 0


def test_values_seed_reads_the_current_organisation_document(admin, monkeypatch):
    monkeypatch.setattr(services, "_current_values_text", lambda: "- **Be kind.** Always.\n- **Ship it:** fast")
    services.values_seed(actor=admin)
    rows = list(CompanyValue.objects.values_list("name", "description"))
    assert rows == [("Be kind", "Always."), ("Ship it", "fast")]


def test_a_used_value_cannot_be_deleted_only_retired(admin, alice, bob, own_it, honesty):
    give(alice, [bob], [own_it])
    with pytest.raises(ValidationError, match="retire it"):
        services.value_delete(actor=admin, value=own_it)
    services.value_delete(actor=admin, value=honesty)
    assert not CompanyValue.objects.filter(pk=honesty.pk).exists()
    with pytest.raises(PermissionDenied):
        services.value_delete(actor=alice, value=own_it)
