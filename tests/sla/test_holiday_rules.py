"""Holidays: none in the past; removing one asks first (issue 9, item 17)."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads.sla import services
from leads.sla.models import Holiday

pytestmark = pytest.mark.django_db


def _today_in(zone: str) -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(zone))


def test_a_holiday_before_today_is_refused(org):
    yesterday = timezone.localdate() - dt.timedelta(days=2)
    with pytest.raises(ValidationError, match="already past"):
        services.holiday_create(actor=org["admin"], team=None, date=yesterday, name="Too late")
    assert not Holiday.objects.exists()


def test_today_in_the_teams_zone_is_accepted_even_where_the_site_is_a_day_ahead(org):
    north = org["north"]
    north.time_zone = "Pacific/Pago_Pago"  # UTC-11: often still "yesterday" there
    north.save(update_fields=["time_zone"])
    today_there = _today_in("Pacific/Pago_Pago")
    services.holiday_create(actor=org["admin"], team=north, date=today_there, name="Local day")
    with pytest.raises(ValidationError, match="already past"):
        services.holiday_create(
            actor=org["admin"], team=north, date=today_there - dt.timedelta(days=1), name="Local yesterday"
        )


def test_the_page_refuses_a_past_holiday_with_the_input_given_back(org, login):
    past = timezone.localdate() - dt.timedelta(days=10)
    response = login(org["admin"]).post(
        "/sla/holidays/new/", {"date": past.isoformat(), "name": "Founders day", "team": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "already past" in body and 'value="Founders day"' in body
    assert not Holiday.objects.exists()


def test_removing_a_holiday_asks_for_confirmation_first(org, login):
    holiday = Holiday.objects.create(date=timezone.localdate() + dt.timedelta(days=5), name="Founders day")
    client = login(org["admin"])
    response = client.post(f"/sla/holidays/{holiday.pk}/delete/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Remove the holiday “Founders day”" in body and 'name="confirm" value="yes"' in body
    assert "onclick" not in body and "onsubmit" not in body
    assert Holiday.objects.filter(pk=holiday.pk).exists()
    response = client.post(f"/sla/holidays/{holiday.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302
    assert not Holiday.objects.filter(pk=holiday.pk).exists()


def test_a_holiday_in_the_year_9999_is_a_form_error_not_a_500(org, login):
    response = login(org["admin"]).post("/sla/holidays/new/", {"date": "9999-12-31", "name": "Far away", "team": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="Far away"' in body and "2100" in body
    assert not Holiday.objects.exists()
