"""Who is told, and defaults one can save (issue 9, items 4 and 6)."""

import pytest

from accountability.notifications.kinds import KINDS, Kind
from accountability.notifications.models import Notification, NotificationPreference
from accountability.notifications.selectors import preferences_initial
from accountability.notifications.services import notification_create

pytestmark = pytest.mark.django_db

TEST = Kind("test", "A test notice")  # not registered: in-app only


# --- item 6: nobody is notified of their own act -------------------------------------------------


def test_nobody_is_notified_of_their_own_act(alice, bob):
    assert notification_create(recipient=alice, actor=alice, kind=TEST, title="You did it", key="own") is None
    assert not Notification.objects.exists()
    assert notification_create(recipient=alice, actor=bob, kind=TEST, title="Bob did it", key="bob") is not None
    assert notification_create(recipient=alice, actor=None, kind=TEST, title="The system", key="sys") is not None
    assert alice.notifications.count() == 2


# --- item 4: defaults one can save ---------------------------------------------------------------


def _form_as_shown(user) -> dict:
    """The POST a browser sends for the preferences page as first shown (ticked boxes only)."""
    initial = preferences_initial(user)
    data = {name: "on" for name, value in initial.items() if name != "phone" and value is True}
    data["phone"] = initial["phone"]
    return data


def test_without_a_mobile_number_no_sms_box_starts_ticked(alice):
    assert alice.phone == ""
    assert any(kind.sms for kind in KINDS.values())  # some kind does default to SMS
    initial = preferences_initial(alice)
    assert not any(value for name, value in initial.items() if name.startswith("sms_"))


def test_a_new_user_ticks_one_email_box_and_saves(alice, login):
    data = _form_as_shown(alice)
    data["email_sla_reminder"] = "on"
    response = login(alice).post("/notifications/preferences/", data)
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=alice, kind="sla_reminder").email is True
    assert not NotificationPreference.objects.filter(user=alice, sms=True).exists()


def test_with_a_mobile_number_the_sms_defaults_stand(alice):
    alice.phone = "+14155552671"
    alice.save(update_fields=["phone"])
    assert preferences_initial(alice)["sms_sla_escalation"] is True


def test_the_page_explains_inline_how_to_get_sms(alice, login):
    body = login(alice).get("/notifications/preferences/").content.decode()
    assert "Add a mobile number to get SMS" in body
    assert 'aria-label="A lead was escalated to you: SMS">' in body  # offered, not ticked


def test_a_refused_save_gives_back_every_box_and_the_number(alice, login):
    response = login(alice).post(
        "/notifications/preferences/", {"phone": "12", "email_sla_reminder": "on", "sms_sla_overdue": "on"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="12"' in body
    assert 'aria-label="Reminder: a follow-up is due soon: email" checked' in body
    assert 'aria-label="A lead of yours is overdue: SMS" checked' in body
