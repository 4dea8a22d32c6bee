"""The intake API's OpenAPI schema, its documentation page, and the intake source's API page."""

import re

import pytest
import yaml
from django.test import Client

from leads.services import intake_source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def source_token(org):
    return intake_source_create(actor=org["admin"], name="Website", slug="website", team=org["north"])


def test_the_schema_is_public_and_describes_both_endpoints_without_any_token(source_token):
    source, token = source_token
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert token not in text and source.token_prefix not in text and "Website" not in text
    schema = yaml.safe_load(text)
    assert set(schema["paths"]) == {"/api/v1/leads/", "/api/v1/leads/batch/"}
    assert schema["components"]["securitySchemes"]["intakeToken"] == {"type": "http", "scheme": "bearer"}

    single = schema["paths"]["/api/v1/leads/"]["post"]
    assert set(single["responses"]) == {"201", "400", "401", "409", "413", "429"}
    assert single["parameters"][0]["name"] == "Idempotency-Key"
    example = single["requestBody"]["content"]["application/json"]["examples"]["ALead"]["value"]
    assert example["email"] == "jo@example.com"
    created = single["responses"]["201"]["content"]["application/json"]["examples"]
    assert created["JoinedAnOpenLead"]["value"]["duplicate"] is True

    batch = schema["paths"]["/api/v1/leads/batch/"]["post"]
    assert set(batch["responses"]) == {"200", "400", "401", "413", "429"}
    mixed = batch["responses"]["200"]["content"]["application/json"]["examples"]["Mixed"]["value"]
    assert [r["status"] for r in mixed["results"]] == [201, 201, 400]
    too_many = batch["responses"]["400"]["content"]["application/json"]["examples"]["TooMany"]["value"]
    assert "At most 500" in too_many["leads"][0]


def test_the_schema_as_json():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Accountability intake API"


def test_the_docs_page_loads_only_our_own_scripts(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for _attrs, body in scripts)  # no inline script
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _body in scripts]
    assert all(src.startswith("/") for src in sources), sources  # nothing from a CDN
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # The start-up script is its own file, pointing at our schema.
    script = client.get(sources[-1])
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_the_source_api_page_shows_its_urls_and_curl_with_the_token_prefix_only(login, org, source_token):
    source, token = source_token
    client = login(org["admin"])
    response = client.get(f"/leads/intake-sources/{source.pk}/api/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "http://testserver/api/v1/leads/" in page and "http://testserver/api/v1/leads/batch/" in page
    assert f"Authorization: Bearer {source.token_prefix}…" in page
    assert token not in page
    assert 'href="/api/v1/docs/"' in page
    assert "North" in page  # where its leads go
    listing = client.get("/leads/intake-sources/").content.decode()
    assert f'href="/leads/intake-sources/{source.pk}/api/"' in listing and 'href="/api/v1/docs/"' in listing


@pytest.mark.parametrize("who", ["alice", "maria"])
def test_only_admins_see_a_sources_api_page(login, org, source_token, who):
    source, _token = source_token
    response = login(org[who]).get(f"/leads/intake-sources/{source.pk}/api/")
    assert response.status_code in (403, 404)
    assert source.token_prefix not in response.content.decode()


def test_an_unknown_source_is_404(login, org):
    assert login(org["admin"]).get("/leads/intake-sources/999999/api/").status_code == 404
