"""Races that real traffic produces: run with real transactions and threads against PostgreSQL."""

import json
import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from leads.models import Lead
from leads.services import intake_source_create, lead_create

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(n, target):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_concurrent_retries_with_one_idempotency_key_create_one_lead(org):
    _source, token = intake_source_create(actor=org["admin"], name="Web", slug="web", team=org["north"])
    body = json.dumps({"name": "Jo", "email": "jo@example.com"})

    def post(_i):
        response = Client().post(
            "/api/v1/leads/", data=body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="same-key",
        )  # fmt: skip
        return response.status_code, response.json()

    results = _in_threads(6, post)
    assert {code for code, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert all(body["duplicate"] is False for _, body in results)
    assert Lead.objects.count() == 1
    assert not Lead.objects.get().activities.filter(kind="inquiry").exists()


def test_concurrent_leads_are_shared_fairly(org):
    def create(i):
        return lead_create(actor=None, team=org["north"], name=f"L{i}", email=f"l{i}@example.com").lead.owner_id

    owners = Counter(_in_threads(8, create))
    assert owners == {org["alice"].pk: 4, org["bob"].pk: 4}


def test_concurrent_same_email_makes_one_lead_and_inquiries(org):
    def create(i):
        return lead_create(actor=None, team=org["north"], name=f"Jo {i}", email="jo@example.com").duplicate

    flags = _in_threads(5, create)
    assert sorted(flags) == [False, True, True, True, True]
    assert Lead.objects.count() == 1
