import pytest


@pytest.mark.django_db
def test_healthz_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "beat": "starting",  # the beat has never sent the sweep here
        "worker": "starting",
        "beat_last_run": None,
        "worker_last_sweep": None,
    }


@pytest.mark.django_db
def test_healthz_names_a_dead_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == "down"
    assert body["database"] == "ok"
    assert body["down"] == ["broker"]


@pytest.mark.django_db
def test_healthz_names_a_dead_database(client, monkeypatch):
    from accountability import views

    monkeypatch.setattr(views, "_check_database", lambda: "OperationalError: connection refused")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


@pytest.mark.django_db
def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405


def _sweep_schedule(last_run_at):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name="sla-sweep", task="leads.sla.tasks.sla_sweep_task", interval=every_minute, last_run_at=last_run_at
    )


@pytest.mark.django_db
def test_healthz_reports_a_stopped_beat(client):
    from datetime import timedelta

    from django.utils import timezone

    _sweep_schedule(timezone.now() - timedelta(minutes=20))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["beat"] == "down" and body["down"] == ["beat"]
    assert body["beat_last_run"]


@pytest.mark.django_db
def test_healthz_reports_a_worker_that_runs_nothing_the_beat_sends(client):

    from django.utils import timezone

    from accountability.services import heartbeat_touch

    _sweep_schedule(timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]
    heartbeat_touch(name="worker")  # what the sweep task does when a worker runs it
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] == "ok" and response.json()["beat"] == "ok"
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_the_sweep_task_leaves_the_worker_heartbeat():
    from accountability.models import Heartbeat
    from leads.sla.tasks import sla_sweep_task

    sla_sweep_task()
    assert Heartbeat.objects.filter(name="worker").exists()


@pytest.mark.django_db
def test_each_request_is_logged_once_with_its_id_user_and_duration(client, alice, caplog):
    client.force_login(alice)
    with caplog.at_level("INFO", logger="accountability.request"):
        response = client.get("/notifications/", HTTP_X_REQUEST_ID="abc-123")
    lines = [r for r in caplog.records if r.name == "accountability.request"]
    assert len(lines) == 1
    assert lines[0].request_id == "abc-123" == response["X-Request-ID"]
    assert lines[0].user_id == alice.pk and lines[0].status == 200 and lines[0].duration_ms >= 0


def test_production_logs_are_one_json_object_a_line():
    import json
    import logging

    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    record = logging.LogRecord("accountability.request", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.request_id, record.duration_ms = "r1", 3.2
    line = formatter.format(record)
    assert "\n" not in line
    assert json.loads(line)["request_id"] == "r1"
