"""The production process set, piece by piece (the whole set runs in tests/test_production_smoke.py):
one source for the commands, the sweep interval reaching beat's database schedule, and the broker
transport that lets the worker outlive a Redis restart."""

import importlib
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from kombu import Connection
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

import accountability.schedules
from accountability.broker import Transport
from accountability.celery import app as celery_app
from tests.accountability.test_settings import run_manage

ROOT = Path(settings.BASE_DIR)


def test_docker_compose_and_the_image_start_the_processes_through_serve_sh():
    compose = (ROOT / "docker-compose.yml").read_text()
    for process in ("web", "worker", "beat", "migrate"):
        assert f'command: ["scripts/serve.sh", "{process}"]' in compose
    assert not re.search(r"command: \[\"(gunicorn|celery|python)", compose)
    # Everything restarts when it exits, except the one-shot migrate.
    assert compose.count("restart: unless-stopped") == 3  # the app anchor, postgres, redis
    assert compose.count('restart: "no"') == 1
    assert 'CMD ["scripts/serve.sh", "web"]' in (ROOT / "Dockerfile").read_text()


def test_serve_sh_refuses_an_unknown_process():
    result = subprocess.run([str(ROOT / "scripts" / "serve.sh"), "nginx"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "usage: scripts/serve.sh web|worker|worker-outbound|beat|migrate" in result.stderr


@pytest.fixture
def sweep_seconds(monkeypatch):
    """Reload accountability.schedules with SLA_SWEEP_SECONDS set; restore it afterwards."""

    def _reload(value: str) -> dict:
        monkeypatch.setenv("SLA_SWEEP_SECONDS", value)
        return importlib.reload(accountability.schedules).BEAT_SCHEDULE["sla-sweep"]

    yield _reload
    monkeypatch.delenv("SLA_SWEEP_SECONDS", raising=False)
    importlib.reload(accountability.schedules)


def test_sweep_runs_every_minute_by_default():
    assert settings.SLA_SWEEP_SECONDS == 60
    entry = settings.CELERY_BEAT_SCHEDULE["sla-sweep"]
    assert entry["schedule"] == 60.0
    assert entry["options"] == {"expire_seconds": 55}


@pytest.mark.django_db
def test_beat_writes_the_sweep_interval_to_its_database_schedule_when_it_starts(sweep_seconds, monkeypatch):
    # The scheduler closes "old" connections, which would close the test's own transaction.
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)
    monkeypatch.setitem(celery_app.conf, "beat_schedule", {"sla-sweep": sweep_seconds("15")})
    DatabaseScheduler(app=celery_app)
    task = PeriodicTask.objects.get(name="sla-sweep")
    assert (task.interval.every, task.interval.period, task.expire_seconds) == (15, "seconds", 14)
    # A changed value replaces the stored one at the next start (django-celery-beat keeps the row).
    monkeypatch.setitem(celery_app.conf, "beat_schedule", {"sla-sweep": sweep_seconds("60")})
    DatabaseScheduler(app=celery_app)
    task = PeriodicTask.objects.get(name="sla-sweep")
    assert (task.interval.every, task.expire_seconds) == (60, 55)


def test_a_sweep_interval_below_one_second_stops_start_up():
    result = run_manage({"SLA_SWEEP_SECONDS": "0"}, "check")
    assert result.returncode != 0
    assert "SLA_SWEEP_SECONDS must be at least 1" in result.stderr


def test_the_worker_uses_the_broker_transport_that_survives_a_redis_restart():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    with celery_app.connection_for_write() as connection:
        assert connection.transport_cls == "accountability.broker:Transport"


@pytest.mark.parametrize(("transport", "raises"), [(kombu_redis.Transport, AttributeError), (Transport, None)])
def test_a_channel_of_a_closed_connection_raises_a_connection_error(transport, raises):
    """What the worker does when Redis goes away: collect the connection (the transport is detached),
    then use a channel of it again (giving back held messages, acknowledging a finished task).
    kombu's channel raises AttributeError there, which stopped the worker; ours a connection error,
    which Celery handles."""
    connection = Connection(settings.CELERY_BROKER_URL, transport=transport)
    errors = connection.connection_errors
    channel = connection.default_channel
    # Redis is away: closing the channel fails before it is marked closed, and the transport is
    # detached all the same (kombu's Connection.collect, which Celery calls on a lost connection).
    connection._do_close_transport()
    with pytest.raises(raises or RedisConnectionError) as caught:
        channel._connparams()
    if raises is None:
        assert isinstance(caught.value, errors)


def test_a_longer_sweep_interval_enqueues_notices_further_ahead():
    code = "from django.conf import settings; print(settings.SLA_SWEEP_SECONDS, settings.SLA_SWEEP_LOOKAHEAD_SECONDS)"
    assert run_manage({"SLA_SWEEP_SECONDS": "300"}, "shell", "-v", "0", "-c", code).stdout.split() == ["300", "300"]
    assert run_manage({"SLA_SWEEP_SECONDS": "10"}, "shell", "-v", "0", "-c", code).stdout.split() == ["10", "60"]
