import json

import pytest
from django.test import Client

from leads.models import IdempotencyKey, IntakeSource, Lead
from leads.services import hash_token, intake_source_create, intake_source_rotate_token, intake_source_set_active

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads/"


@pytest.fixture
def source_token(org):
    source, token = intake_source_create(actor=org["admin"], name="Website", slug="website", team=org["north"])
    return source, token


def post(token, body, key=None, **headers):
    client = Client()
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def test_token_is_stored_hashed_with_visible_prefix(source_token):
    source, token = source_token
    source.refresh_from_db()
    assert token.startswith("acc_") and len(token) > 40
    assert source.token_hash == hash_token(token) and token not in source.token_hash
    assert source.token_prefix == token[:12]


def test_post_creates_lead_in_source_team_and_assigns(source_token, org):
    _source, token = source_token
    response = post(token, {"name": "Jo", "email": "Jo@Example.com", "phone": "+1 415 555 2671", "value": "250.00"})
    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body == {
        "id": lead.pk,
        "owner": {"id": org["alice"].pk, "name": "Alice " + org["alice"].last_name},
        "team": {"id": org["north"].pk, "name": "North"},
        "duplicate": False,
    }
    assert (lead.email, lead.phone, lead.channel, lead.source.slug) == (
        "jo@example.com",
        "+14155552671",
        "api",
        "website",
    )


def test_duplicate_is_flagged(source_token):
    _source, token = source_token
    first = post(token, {"name": "Jo", "email": "jo@example.com"}).json()
    second = post(token, {"name": "Jo again", "email": "JO@example.com"})
    assert second.status_code == 201
    assert second.json()["id"] == first["id"] and second.json()["duplicate"] is True
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "jo@example.com"}, "name"),
        ({"name": "x" * 201, "email": "jo@example.com"}, "name"),
        ({"name": "Jo", "email": "not-an-email"}, "email"),
        ({"name": "Jo", "phone": "12345"}, "phone"),
        ({"name": "Jo"}, "email"),
        ({"name": "Jo", "email": "jo@example.com", "value": -1}, "value"),
        ({"name": "Jo", "email": "jo@example.com", "notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_input_gives_400_with_field_errors(source_token, body, field):
    response = post(source_token[1], body)
    assert response.status_code == 400
    assert field in response.json()
    assert Lead.objects.count() == 0


def test_malformed_json_and_non_object_give_400(source_token):
    assert post(source_token[1], "{not json").status_code == 400
    assert post(source_token[1], "[1, 2]").status_code == 400


@pytest.mark.parametrize("auth", [None, "Bearer", "Bearer nope", "Basic abc", "Token x"])
def test_missing_or_bad_token_gives_401(source_token, auth):
    headers = {} if auth is None else {"HTTP_AUTHORIZATION": auth}
    response = post(None, {"name": "Jo", "email": "jo@example.com"}, **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert Lead.objects.count() == 0


def test_inactive_source_and_rotated_token_give_401(source_token, org):
    source, token = source_token
    _source, new_token = intake_source_rotate_token(actor=org["admin"], source=source)
    assert post(token, {"name": "Jo", "email": "jo@example.com"}).status_code == 401
    assert post(new_token, {"name": "Jo", "email": "jo@example.com"}).status_code == 201
    intake_source_set_active(actor=org["admin"], source=IntakeSource.objects.get(pk=source.pk), is_active=False)
    assert post(new_token, {"name": "Kim", "email": "kim@example.com"}).status_code == 401


def test_get_is_not_allowed(source_token):
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {source_token[1]}")
    assert response.status_code == 405


def test_idempotent_retry_returns_same_lead_and_status(source_token):
    _source, token = source_token
    body = {"name": "Jo", "email": "jo@example.com"}
    first = post(token, body, key="order-42")
    retry = post(token, body, key="order-42")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert Lead.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    # No inquiry was recorded by the retry either: it is the same request, not a new contact.
    assert not Lead.objects.get().activities.filter(kind="inquiry").exists()


def test_same_key_with_other_body_is_a_conflict(source_token):
    _source, token = source_token
    post(token, {"name": "Jo", "email": "jo@example.com"}, key="k1")
    response = post(token, {"name": "Kim", "email": "kim@example.com"}, key="k1")
    assert response.status_code == 409
    assert Lead.objects.count() == 1


def test_same_key_on_another_source_is_independent(source_token, org):
    _s, token = source_token
    _s2, token2 = intake_source_create(actor=org["admin"], name="Partner", slug="partner", team=org["south"])
    a = post(token, {"name": "Jo", "email": "jo@example.com"}, key="k1").json()
    b = post(token2, {"name": "Jo", "email": "jo@example.com"}, key="k1").json()
    assert a["id"] != b["id"] and b["team"]["name"] == "South"


def test_rate_limit_gives_429_per_source(source_token, org, settings):
    settings.LEADS_API_RATE_PER_MINUTE = 3
    _source, token = source_token
    _s2, other = intake_source_create(actor=org["admin"], name="Partner", slug="partner", team=org["south"])
    codes = [post(token, {"name": f"L{i}", "email": f"l{i}@example.com"}).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]
    limited = post(token, {"name": "L9", "email": "l9@example.com"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many requests" in limited.json()["detail"]
    assert post(other, {"name": "P", "email": "p@example.com"}).status_code == 201  # per source
    assert Lead.objects.count() == 4


def test_source_rate_limit_overrides_default(org, settings):
    settings.LEADS_API_RATE_PER_MINUTE = 100
    _s, token = intake_source_create(
        actor=org["admin"], name="Tight", slug="tight", team=org["north"], rate_limit_per_minute=1
    )
    assert post(token, {"name": "A", "email": "a@example.com"}).status_code == 201
    assert post(token, {"name": "B", "email": "b@example.com"}).status_code == 429


def test_token_only_creates_in_its_own_team(source_token, org):
    _source, token = source_token
    body = post(token, {"name": "Jo", "email": "jo@example.com", "team": org["south"].pk}).json()
    assert Lead.objects.get(pk=body["id"]).team == org["north"]


def test_api_query_budget(source_token, django_assert_max_num_queries):
    """One lead in a bounded number of queries, whatever the data (exact counts per path in
    test_api_batch.py): 8 with a key, plus the one-off creation of the team's settings row."""
    _source, token = source_token
    post(token, {"name": "First", "email": "first@example.com"})
    with django_assert_max_num_queries(8):
        assert post(token, {"name": "Jo", "email": "jo@example.com"}, key="k").status_code == 201


def test_a_body_over_the_size_limit_gets_a_json_413(source_token, settings):
    settings.LEADS_API_MAX_BODY_BYTES = 1000
    response = post(source_token[1], {"name": "Jo", "email": "jo@example.com", "notes": "x" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "1000 bytes" in response.json()["detail"]
    assert not Lead.objects.exists()


def test_a_body_over_djangos_upload_limit_is_json_too(source_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500
    settings.LEADS_API_MAX_BODY_BYTES = 10_000
    response = post(source_token[1], {"name": "Jo", "email": "jo@example.com", "notes": "x" * 2000})
    assert response.status_code == 413
    assert response.json()["detail"]


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_and_unknown_api_paths_answer_json(client, method):
    response = getattr(client, method)("/api/v1/leads/")
    assert response.status_code == 405
    assert "detail" in response.json()
    missing = client.post("/api/v1/nothing-here/", data="{}", content_type="application/json")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert "detail" in missing.json()
