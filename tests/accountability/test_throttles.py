"""Throttles on log-in and password reset that hold across usernames, addresses and processes."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core import mail

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _fail(client, username, address):
    return client.post("/accounts/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR=address)


def test_one_address_trying_many_usernames_is_slowed(client, settings, alice, bob):
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    for i in range(6):  # one failure each on six usernames: axes' per-username lock never trips
        assert _fail(client, f"someone{i}", "10.0.0.9").status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert "Log-in is paused for this address" in response.content.decode()
    assert response["Retry-After"]
    # another address is not affected
    other = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.10")
    assert other.status_code == 302


def test_successful_logins_do_not_count_against_the_address(client, settings, alice):
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3")
        assert response.status_code == 302
        client.post("/accounts/logout/")


def test_password_reset_is_limited_per_address(client, settings, alice):
    settings.PASSWORD_RESETS_PER_ADDRESS = 3
    for i in range(3):
        assert client.post("/accounts/password_reset/", {"email": f"x{i}@example.com"}).status_code == 302
    response = client.post("/accounts/password_reset/", {"email": alice.email})
    assert response.status_code == 429
    assert "Too many password reset requests" in response.content.decode()
    assert mail.outbox == []


def test_password_reset_is_limited_per_email_with_the_same_answer(client, settings, alice):
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    answers = [
        client.post("/accounts/password_reset/", {"email": alice.email.upper()}, REMOTE_ADDR=f"10.1.0.{i}")
        for i in range(4)
    ]
    assert [a.status_code for a in answers] == [302] * 4
    assert {a["Location"] for a in answers} == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == 2  # the third and fourth were not sent
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.com"}, REMOTE_ADDR="10.2.0.1")
    assert unknown.status_code == 302 and unknown["Location"] == "/accounts/password_reset/done/"


COUNT_SCRIPT = """
import django, os, sys
django.setup()
from accountability import ratelimit
allowed = sum(ratelimit.hit("shared-test", sys.argv[1], limit=5, window=3600)[0] for _ in range(4))
print(allowed)
"""


def test_rate_limits_are_shared_by_every_process_through_redis():
    """Three processes with production-like cache settings (Redis) share one counter: 5 of 12 get through."""
    ident = uuid.uuid4().hex
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "accountability.settings",
        "DEBUG": "1",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
    }
    env.pop("CACHE_URL", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", COUNT_SCRIPT, ident],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    allowed = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert sum(allowed) == 5


def test_production_settings_refuse_a_per_process_cache():
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="accountability.settings",
        DEBUG="0",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "CACHE_URL (or REDIS_URL) is required in production" in result.stderr
