"""The public web form never shows a source's internal name; deactivating a source asks first
(issue 9, items 17 and 18)."""

import pytest

from leads.models import IntakeSource
from leads.services import intake_source_create

pytestmark = pytest.mark.django_db


def _source(org, **kw):
    source, _token = intake_source_create(
        actor=org["admin"], name="West Coast Ads", slug="west", team=org["north"], **kw
    )
    return source


def test_the_thank_you_page_and_form_never_show_the_internal_name(org, client, settings):
    settings.ORGANISATION_NAME = "Acme Solar"
    _source(org)
    for url in ("/leads/intake/west/", "/leads/intake/west/thanks/"):
        body = client.get(url).content.decode()
        assert "West Coast Ads" not in body
        assert "Acme Solar" in body


def test_a_source_with_a_public_name_shows_it_to_visitors(org, client):
    _source(org, public_name="Acme Solar West")
    body = client.get("/leads/intake/west/thanks/").content.decode()
    assert "someone from Acme Solar West will be in touch" in body and "West Coast Ads" not in body
    assert "Acme Solar West" in client.get("/leads/intake/west/").content.decode()


def test_without_any_name_the_thank_you_page_still_reads_well(org, client, settings):
    settings.ORGANISATION_NAME = ""
    _source(org)
    body = client.get("/leads/intake/west/thanks/").content.decode()
    assert "someone from our team will be in touch" in body and "West Coast Ads" not in body


def test_the_admin_sets_the_public_name_when_creating_a_source(org, login):
    response = login(org["admin"]).post(
        "/leads/intake-sources/new/",
        {"name": "Partner feed", "public_name": "Acme Solar", "slug": "", "team": org["south"].pk,
         "rate_limit_per_minute": 0},
    )  # fmt: skip
    assert response.status_code == 200
    assert IntakeSource.objects.get(name="Partner feed").public_name == "Acme Solar"


def test_deactivating_a_source_asks_for_confirmation_first(org, login):
    source = _source(org)
    client = login(org["admin"])
    listing = client.get("/leads/intake-sources/").content.decode()
    assert "onsubmit" not in listing and "onclick" not in listing
    response = client.post(f"/leads/intake-sources/{source.pk}/toggle/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Deactivate “West Coast Ads”" in body and 'name="confirm" value="yes"' in body
    source.refresh_from_db()
    assert source.is_active
    client.post(f"/leads/intake-sources/{source.pk}/toggle/", {"confirm": "yes"})
    source.refresh_from_db()
    assert not source.is_active
    # Activating again needs no confirmation: nothing is lost by it.
    client.post(f"/leads/intake-sources/{source.pk}/toggle/")
    source.refresh_from_db()
    assert source.is_active


def test_the_admin_gives_an_existing_source_a_public_name(org, login, client):
    source = _source(org)
    admin = login(org["admin"])
    assert admin.get(f"/leads/intake-sources/{source.pk}/public-name/").status_code == 200
    response = admin.post(f"/leads/intake-sources/{source.pk}/public-name/", {"public_name": "x" * 101})
    assert response.status_code == 400 and 'value="' + "x" * 101 + '"' in response.content.decode()
    response = admin.post(f"/leads/intake-sources/{source.pk}/public-name/", {"public_name": "Acme Solar"})
    assert response.status_code == 302
    assert "someone from Acme Solar will be in touch" in client.get("/leads/intake/west/thanks/").content.decode()
    assert login(org["maria"]).get(f"/leads/intake-sources/{source.pk}/public-name/").status_code == 403


def test_rotating_a_token_asks_first_without_inline_script(org, login):
    source = _source(org)
    response = login(org["admin"]).post(f"/leads/intake-sources/{source.pk}/rotate/")
    body = response.content.decode()
    assert "Rotate the API token of “West Coast Ads”?" in body and "onsubmit" not in body
    assert IntakeSource.objects.get(pk=source.pk).token_hash == source.token_hash
