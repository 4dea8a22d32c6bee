"""Reliability against a REAL Celery worker and Redis (marked `celery_worker`).

Each test starts `celery -A accountability worker` subprocesses on the test database (so the
test uses transaction=True: rows must be committed to be seen by another process) and on its
own private redis-server on a free port (Redis DB 14 on the shared server when redis-server
is not installed), so parallel runs in other checkouts never share a queue. Sweeps run as
`manage.py sweep_followups` subprocesses: exactly what beat runs. Emails go to files, one per
message, so "sent once" is counted on what actually left.
"""

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from accountability.notifications.models import Delivery, Notification
from leads.models import Activity, Lead
from leads.sla.models import SlaNotice
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
BROKER = "redis://127.0.0.1:6379/14"
CELERY = str(Path(sys.executable).parent / "celery")
# Each test worker consumes every queue (production splits them over two workers: scripts/serve.sh).
QUEUES = ",".join(sorted({"celery", *(route["queue"] for route in settings.CELERY_TASK_ROUTES.values())}))


def _redis_up(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_private_redis(tmp_path: Path, port: int) -> None:
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "yes", "--dir", str(tmp_path), "--pidfile", str(tmp_path / f"redis-{port}.pid")],
        check=True,
    )  # fmt: skip
    wait_for(lambda: _redis_up(f"redis://127.0.0.1:{port}/0"), timeout=5, what="private redis")


def stop_private_redis(port: int) -> None:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)


@pytest.fixture
def harness(tmp_path):
    """Workers and sweeps on a private redis-server (a free port): parallel test runs in other
    checkouts, or someone's Redis DB 14, can never steal this test's messages."""
    if shutil.which("redis-server"):
        port = _free_port()
        start_private_redis(tmp_path, port)
        broker = f"redis://127.0.0.1:{port}/0"
    else:  # no server binary: the shared Redis, DB 14
        port, broker = None, BROKER
        if not _redis_up(broker):
            pytest.skip("Redis is not running on 127.0.0.1:6379")
        redis.Redis.from_url(broker).flushdb()
    email_dir = tmp_path / "mail"
    email_dir.mkdir()
    h = Harness(tmp_path, email_dir, broker)
    yield h
    h.stop_all()
    if port:
        stop_private_redis(port)
    else:
        redis.Redis.from_url(broker).flushdb()


class Harness:
    def __init__(self, tmp_path: Path, email_dir: Path, broker: str):
        self.tmp_path, self.email_dir = tmp_path, email_dir
        self.processes: list[subprocess.Popen] = []
        self.broker = broker

    def env(self, **extra) -> dict:
        db = settings.DATABASES["default"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="accountability.settings",
            DEBUG="1",
            DATABASE_URL=(
                f"postgres://{quote(db['USER'] or 'postgres')}{':' + quote(db['PASSWORD']) if db['PASSWORD'] else ''}"
                f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            ),
            DB_CONN_MAX_AGE="0",
            CELERY_BROKER_URL=self.broker,
            REDIS_URL=self.broker,
            CELERY_VISIBILITY_TIMEOUT="5",
            EMAIL_BACKEND="tests.sla.backends.FileEmailBackend",
            SLA_TEST_EMAIL_DIR=str(self.email_dir),
            VAR_DIR=str(self.tmp_path / "var"),
            AXES_ENABLED="0",
            PYTHONPATH=str(BASE_DIR),
        )
        env.update(extra)
        return env

    def worker(self, name: str, concurrency: int = 1, **extra) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process
        process = subprocess.Popen(
            [CELERY, "-A", "accountability", "worker", "-n", f"{name}@%h", f"--concurrency={concurrency}",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", QUEUES],
            cwd=BASE_DIR, env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def sweep(self, *args: str, background: bool = False, **extra):
        command = [sys.executable, "manage.py", "sweep_followups", *args]
        if background:
            process = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.env(**extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            self.processes.append(process)
            return process
        return subprocess.run(
            command, cwd=BASE_DIR, env=self.env(**extra), capture_output=True, text=True, timeout=30, check=True
        ).stdout

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM) if self._own_group(process) else process.terminate()
                process.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL) if self._own_group(process) else process.kill()
                process.wait(timeout=5)

    @staticmethod
    def _own_group(process) -> bool:
        try:
            return os.getpgid(process.pid) == process.pid
        except ProcessLookupError:
            return False

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)

    def emails(self) -> list[str]:
        return sorted(p.read_text() for p in self.email_dir.glob("*.eml"))

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")


def wait_for(condition, timeout: float = 20, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def escalated_leads(org, count: int) -> list[Lead]:
    """Leads that arrived 80 minutes ago, found at their first escalation (75 min): maria is told
    and alice hears her lead was escalated; the reminder and overdue steps are recorded as skipped
    (a lead found late tells one person once); level 2 (315 min) is hours away."""
    SlaPolicyFactory()
    arrived = timezone.now() - dt.timedelta(minutes=80)
    return [LeadFactory(owner=org["alice"], team=org["north"], arrived_at=arrived) for _ in range(count)]


def all_notices_finished() -> bool:
    return not SlaNotice.objects.filter(state="pending").exists()


def all_deliveries_finished() -> bool:
    return not Delivery.objects.filter(state="pending").exists()


def test_two_sweeps_at_once_create_each_notice_once(org, harness):
    leads = escalated_leads(org, 60)
    harness.worker("w1", concurrency=2)
    harness.worker("w2", concurrency=2)
    first, second = harness.sweep(background=True), harness.sweep(background=True)
    outputs = [p.communicate(timeout=30)[0].decode() for p in (first, second)]
    assert all(p.returncode == 0 for p in (first, second)), outputs
    wait_for(lambda: all_notices_finished() and all_deliveries_finished(), what="every notice delivered")
    n = len(leads)
    # Per lead: reminder and overdue (skipped: found late), escalation to maria (sent).
    assert SlaNotice.objects.count() == 3 * n
    assert SlaNotice.objects.filter(state="sent").count() == n
    assert Notification.objects.filter(recipient=org["maria"]).count() == n
    assert not Notification.objects.filter(recipient=org["helen"]).exists()
    # alice: "your lead was escalated", once per lead
    assert Notification.objects.filter(recipient=org["alice"]).count() == n
    assert Activity.objects.filter(kind="escalated").count() == n
    # Emails: maria (escalation), alice (escalated): once each.
    assert Delivery.objects.filter(state="sent").count() == 2 * n
    assert len(harness.emails()) == 2 * n


def test_worker_killed_mid_delivery_delivers_after_restart_once(org, harness):
    escalated_leads(org, 1)
    # Only maria's escalation email hangs the first time (the others are off for this test).
    from accountability.notifications.models import NotificationPreference

    for user, kinds in ((org["alice"], ["sla_overdue", "sla_escalated_owner"]), (org["helen"], ["sla_escalation"])):
        for kind in kinds:
            NotificationPreference.objects.create(user=user, kind=kind, email=False, sms=False)
    harness.worker("w1", concurrency=1, SLA_TEST_SLOW_ONCE="1")
    harness.sweep()
    marker = harness.email_dir / "slow.marker"
    wait_for(marker.exists, what="the email send to start")
    child_pid = int(marker.read_text())
    os.kill(child_pid, signal.SIGKILL)  # the pool process that is sending, killed mid-delivery
    delivery = Delivery.objects.get(notification__recipient=org["maria"], notification__kind="sla_escalation")
    wait_for(lambda: Delivery.objects.get(pk=delivery.pk).state == "sent", what="delivery after restart")
    delivery.refresh_from_db()
    # The killed attempt rolled back with its connection; the retry after the pool restart sent it.
    assert delivery.attempts == 1
    emails = harness.emails()
    assert len(emails) == 1 and "Escalated to you" in emails[0]
    assert "WorkerLostError" in harness.log("w1") or "SIGKILL" in harness.log("w1")


def test_redis_down_for_a_while_loses_nothing_and_sends_once(org, harness, tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = _free_port()
    private = f"redis://127.0.0.1:{port}/0"
    start_private_redis(tmp_path, port)
    try:
        harness.broker = private
        leads = escalated_leads(org, 10)
        # Redis goes down: the sweep still records everything due, in the database.
        stop_private_redis(port)
        wait_for(lambda: not _redis_up(private), timeout=5, what="redis to stop")
        out = harness.sweep()
        assert "created 10 due event(s) (0 too old: recorded without notices), 30 notice(s) (10 to send" in out
        assert SlaNotice.objects.filter(state="pending").count() == 10
        assert not Notification.objects.exists()
        # Redis is back (empty: whatever it held is gone). The next sweep, more than two minutes
        # later, enqueues what was never delivered; a worker sends each once.
        start_private_redis(tmp_path, port)
        harness.worker("w1", concurrency=2)
        later = (timezone.now() + dt.timedelta(minutes=3)).isoformat()
        assert "10 notice(s) and 0 delivery(ies) enqueued again" in harness.sweep("--now", later)
        harness.sweep("--now", later)  # a second sweep at once: nothing is sent twice
        wait_for(lambda: all_notices_finished() and all_deliveries_finished(), what="everything delivered")
        assert SlaNotice.objects.filter(state="sent").count() == 10
        assert Notification.objects.filter(recipient=org["maria"]).count() == len(leads)
        assert len(harness.emails()) == 2 * len(leads)
    finally:
        stop_private_redis(port)


def test_lead_handled_a_second_before_its_escalation_is_not_escalated(org, harness):
    leads = escalated_leads(org, 2)
    saved, neglected = leads
    # The sweep records the escalations while no worker runs; a second later the rep calls one lead.
    harness.sweep()
    Lead.objects.filter(pk=saved.pk).update(first_contacted_at=timezone.now(), last_activity_at=timezone.now())
    harness.worker("w1", concurrency=1)
    wait_for(all_notices_finished, what="notices processed")
    saved_steps = dict(SlaNotice.objects.filter(lead=saved).values_list("step", "state"))
    assert saved_steps == {
        "reminder": "skipped",
        "overdue": "skipped",
        "escalation_1": "cancelled",
    }
    assert not Activity.objects.filter(lead=saved, kind="escalated").exists()
    assert Activity.objects.filter(lead=neglected, kind="escalated").count() == 1
    assert Notification.objects.filter(recipient=org["maria"]).count() == 1


def test_reassigning_an_escalated_lead_stops_its_second_level_with_a_real_worker(org, harness):
    """Issue 9 item 5, end to end: maria reassigns an escalated lead from "act now"; when the
    second level falls due, neither helen nor the new owner hears of the old escalation."""
    from leads.sla.models import SlaClock
    from leads.sla.services import escalation_reassign

    SlaPolicyFactory(second_level_delay_minutes=1)  # level 1 at 75 min, level 2 a minute later
    arrived = timezone.now() - dt.timedelta(minutes=75, seconds=40)
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=arrived)
    harness.worker("w1", concurrency=1)
    harness.sweep()  # records level 1 (due) and level 2 (within the lookahead, with a countdown)
    wait_for(
        lambda: Notification.objects.filter(recipient=org["maria"], kind="sla_escalation").exists(),
        what="the escalation to maria",
    )
    clock = SlaClock.objects.get(lead=lead)
    escalation_reassign(actor=org["maria"], clock=clock, to_owner=org["bob"])
    level_2 = arrived + dt.timedelta(minutes=76)
    wait_for(lambda: timezone.now() > level_2 + dt.timedelta(seconds=3), timeout=60, what="level 2 to fall due")
    harness.sweep()
    wait_for(lambda: all_notices_finished() and all_deliveries_finished(), what="every notice processed")
    assert not Notification.objects.filter(recipient=org["helen"]).exists()
    assert not Notification.objects.filter(recipient=org["bob"], kind="sla_escalated_owner").exists()
    assert SlaNotice.objects.filter(clock=clock, state="sent").count() == 1  # level 1 only
    assert not SlaNotice.objects.filter(clock=clock, step="escalation_2").exclude(state="cancelled").exists()
    assert not any("second level" in email for email in harness.emails())
    lead.refresh_from_db()
    assert SlaClock.objects.get(pk=clock.pk).state == "reassigned"
    new = SlaClock.objects.get(lead=lead, state="active")
    assert (new.kind, new.due_at) == ("first_contact", lead.assigned_at + dt.timedelta(minutes=15))
    assert Activity.objects.filter(lead=lead, kind="sla_handover").count() == 1
