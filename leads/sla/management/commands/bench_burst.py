"""Benchmark of the Monday-morning wave: N leads falling due in the same minute, through the real
pipeline (the sweep sent every minute as beat sends it, the two workers as scripts/serve.sh starts
them, a private redis-server), on a dedicated PostgreSQL database.

    createdb -h 127.0.0.1 -U postgres acc_burst_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_burst_bench DEBUG=1 python manage.py migrate
    DATABASE_URL=... DEBUG=1 python manage.py bench_burst --due 10000

Each lead's first contact falls due within the same minute, a little over two minutes after the
start; the reminder one minute before it. Every rep has email and SMS on for both, so each lead
makes two in-app notices and four email/SMS deliveries. Prints the lateness of in-app notices and
of email/SMS after their due time (p50, p95), the notices skipped for lateness, the duplicates.
Targets (issue 14): in-app p95 <= 60 s, email/SMS p95 <= 5 min, none skipped, no duplicate.
"""

import datetime as dt
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accountability.models import Membership, Team, User
from accountability.notifications.models import Delivery, NotificationPreference
from leads.sla.models import SlaNotice, SlaPolicy
from leads.sla.notices import SLA_OVERDUE, SLA_REMINDER
from leads.sla.services import sla_policy_save

ALL_DAY = dict.fromkeys(range(7), ("00:00", "24:00"))
REPS = 50
SWEEP_SECONDS = 60
# Skipped because the sweep recorded them too late (leads.sla.services._clock_advance).
LATE_REASONS = ("a later step was already due when recorded", "already overdue when recorded")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


class Command(BaseCommand):
    help = "Benchmark a burst of due leads through the real workers (PostgreSQL, database named like *bench*)."

    def add_arguments(self, parser):
        parser.add_argument("--due", type=int, default=10_000, help="Leads falling due in the same minute.")
        parser.add_argument("--timeout", type=int, default=20 * 60, help="Give up after this many seconds.")
        parser.add_argument("--force", action="store_true", help="Allow a database whose name lacks 'bench'.")
        parser.add_argument(
            "--baseline",
            help="A checkout of an earlier commit (git archive) whose scripts/serve.sh starts the workers, to "
            "measure a 'before' on the same data: one worker on the default queue, 2 processes.",
        )

    def handle(self, *args, due: int, timeout: int, force: bool, baseline: str | None = None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_burst needs PostgreSQL (set DATABASE_URL).")
        name = settings.DATABASES["default"]["NAME"]
        if "bench" not in str(name) and not force:
            raise CommandError(f"Refusing to fill {name!r}: use a dedicated database named like acc_burst_bench.")
        redis_server, redis_cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if not (redis_server and redis_cli):
            raise CommandError("bench_burst starts a private redis-server: install redis (redis-server, redis-cli).")
        team, reps = self.setup_org()
        self.reset()
        workdir = Path(tempfile.mkdtemp(prefix="bench_burst_"))
        port = _free_port()
        subprocess.run(  # noqa: S603 - fixed arguments
            [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--dir", str(workdir), "--pidfile", str(workdir / "redis.pid")],
            check=True,
        )  # fmt: skip
        broker = f"redis://127.0.0.1:{port}/0"
        processes = []
        try:
            self.wait(lambda: redis.Redis.from_url(broker).ping(), 10, "the private redis-server")
            env = self.env(broker)
            root = Path(baseline) if baseline else settings.BASE_DIR
            if baseline:  # one queue, one worker: its two processes share everything
                env = {**env, "WORKER_CONCURRENCY": "2", "PYTHONPATH": str(root)}
            for process in ("worker",) if baseline else ("worker", "worker-outbound"):
                log = open(workdir / f"{process}.log", "wb")  # noqa: SIM115 - kept open for the process
                processes.append(
                    subprocess.Popen(  # noqa: S603 - our own script
                        [str(root / "scripts" / "serve.sh"), process],
                        cwd=root,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            time.sleep(6)  # worker start-up
            self.run_wave(
                team=team, reps=reps, due=due, broker=broker, timeout=timeout, queue="celery" if baseline else None
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            subprocess.run([redis_cli, "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)  # noqa: S603
            self.say(f"(worker logs in {workdir})")

    def env(self, broker: str) -> dict:
        db = settings.DATABASES["default"]
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "DJANGO_SETTINGS_MODULE": "accountability.settings",
            # Production settings, as docker-compose runs the workers (DEBUG=1 would keep every query).
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(45),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": "https://127.0.0.1",
            "WORKER_CONCURRENCY": "1",  # 2 worker processes on 2 cores, the target
            "OUTBOUND_CONCURRENCY": "1",
            "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": broker,
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": broker[:-1] + "1",
            "SLA_SWEEP_SECONDS": str(SWEEP_SECONDS),
            # Email is composed and handed to a backend that drops it; SMS goes to the outbox table.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    @staticmethod
    def wait(condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except Exception:  # noqa: S110 - not up yet
                pass
            time.sleep(0.2)
        raise CommandError(f"timed out waiting for {what}")

    def setup_org(self) -> tuple[Team, list[User]]:
        manager, _ = User.objects.get_or_create(username="burst-manager", defaults={"role": User.Role.MANAGER})
        team, _ = Team.objects.get_or_create(name="Burst team", defaults={"manager": manager})
        reps = []
        for i in range(REPS):
            rep, _ = User.objects.get_or_create(
                username=f"burst-rep-{i}",
                defaults={"role": User.Role.REP, "email": f"rep{i}@example.com", "phone": f"+1415555{i:04d}"},
            )
            Membership.objects.get_or_create(user=rep, team=team)
            for kind in (SLA_REMINDER, SLA_OVERDUE):
                NotificationPreference.objects.update_or_create(
                    user=rep, kind=kind.code, defaults={"email": True, "sms": True}
                )
            reps.append(rep)
        admin, _ = User.objects.get_or_create(username="burst-admin", defaults={"role": User.Role.ADMIN})
        values = {**SlaPolicy().values(), "reminder_before_minutes": 1}
        sla_policy_save(
            actor=admin, policy=SlaPolicy.objects.filter(team=None).first(), team=None, hours=ALL_DAY, **values
        )
        return team, reps

    def reset(self) -> None:
        """A dedicated database: every lead, clock, notice and delivery of an earlier run goes."""
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE leads_lead, sla_slaclock, sla_slanotice, notifications_notification, "
                "notifications_delivery, notifications_smsmessage CASCADE"
            )

    def run_wave(self, *, team: Team, reps: list[User], due: int, broker: str, timeout: int, queue=None) -> None:
        from accountability.celery import app

        policy = SlaPolicy.objects.get(team=None)
        start = timezone.now()
        first_due = start + dt.timedelta(seconds=150)  # reminders from 90 s, first contact due from 150 s
        arrived = first_due - dt.timedelta(minutes=policy.first_contact_minutes)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO leads_lead (name, company, email, phone, channel, value, stage, lost_reason, notes,
                    arrived_at, assigned_at, first_contacted_at, last_activity_at, next_follow_up_at, closed_at,
                    created_at, updated_at, first_contacted_by_id, owner_id, source_id, team_id)
                SELECT 'Burst lead ' || g, 'Burst Co', '', '', 'manual', 100, 'new', '', '',
                    %s + (g %% 60) * interval '1 second', %s, NULL, NULL, NULL, NULL,
                    now(), now(), NULL, (%s::bigint[])[1 + g %% %s], NULL, %s
                FROM generate_series(1, %s) AS g
                """,
                [arrived, arrived, [r.pk for r in reps], len(reps), team.pk, due],
            )
        self.say(
            f"{due:,} leads due between +150 s and +210 s (reminders a minute before), {len(reps)} reps with "
            f"email and SMS on; workers: `worker` (sla-sweep, notices) and `worker-outbound` (outbound), "
            f"1 process each; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        client = redis.Redis.from_url(broker)
        expected = 2 * due
        deadline = time.monotonic() + timeout
        next_sweep = time.monotonic()
        while time.monotonic() < deadline:
            if time.monotonic() >= next_sweep:
                # What beat sends every SLA_SWEEP_SECONDS, with its expiry (accountability/schedules.py).
                with app.connection_for_write(broker) as conn:
                    app.send_task(
                        "leads.sla.tasks.sla_sweep_task",
                        expires=round(SWEEP_SECONDS * 0.92),
                        connection=conn,
                        **({"queue": queue} if queue else {}),
                    )
                next_sweep += SWEEP_SECONDS
            finished = SlaNotice.objects.exclude(state=SlaNotice.State.PENDING).count()
            pending_out = Delivery.objects.filter(state=Delivery.State.PENDING).count()
            elapsed = (timezone.now() - start).total_seconds()
            queues = {q: client.llen(q) for q in ("sla-sweep", "notices", "outbound", "celery")}
            self.say(
                f"  +{elapsed:5.0f} s: notices finished {finished:,}/{expected:,}, deliveries pending "
                f"{pending_out:,}, queued {queues}"
            )
            if finished >= expected and pending_out == 0 and elapsed > 220:
                break
            time.sleep(10)
        self.report(due)

    def report(self, due: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(EPOCH FROM finished_at - scheduled_at) FROM sla_slanotice WHERE state = 'sent'"
            )
            in_app = [float(r[0]) for r in cursor.fetchall()]
            cursor.execute(
                "SELECT d.channel, EXTRACT(EPOCH FROM d.sent_at - n.scheduled_at) FROM notifications_delivery d "
                "JOIN notifications_notification x ON x.id = d.notification_id "
                "JOIN sla_slanotice n ON x.dedupe_key = 'sla-notice:' || n.id WHERE d.state = 'sent'"
            )
            outbound = [(c, float(s)) for c, s in cursor.fetchall()]
            # Duplicates: a notice's timeline entry, in-app notice or SMS more than once.
            cursor.execute(
                "SELECT count(*) FROM (SELECT data->>'sla_notice' FROM leads_activity "
                "WHERE data ? 'sla_notice' GROUP BY 1 HAVING count(*) > 1) AS d"
            )
            duplicates = cursor.fetchone()[0]
            cursor.execute(
                'SELECT count(*) FROM (SELECT body FROM notifications_smsmessage GROUP BY "to", body '
                "HAVING count(*) > 1) AS d"
            )
            duplicates += cursor.fetchone()[0]
        states = dict(SlaNotice.objects.values_list("state").annotate(n=Count("id")))
        skipped_late = SlaNotice.objects.filter(state=SlaNotice.State.SKIPPED, reason__in=LATE_REASONS).count()
        email = [s for c, s in outbound if c == "email"]
        sms = [s for c, s in outbound if c == "sms"]
        pending = Delivery.objects.filter(state=Delivery.State.PENDING).count()
        self.say(f"Notices by state: {states}; email/SMS deliveries still pending: {pending:,}")
        self.say(
            f"In-app notices ({len(in_app):,}): lateness after due time p50 {_pct(in_app, 0.5):.1f} s, "
            f"p95 {_pct(in_app, 0.95):.1f} s, max {max(in_app, default=0):.1f} s (target p95 <= 60 s)"
        )
        self.say(
            f"Email ({len(email):,}): p50 {_pct(email, 0.5):.1f} s, p95 {_pct(email, 0.95):.1f} s; "
            f"SMS ({len(sms):,}): p50 {_pct(sms, 0.5):.1f} s, p95 {_pct(sms, 0.95):.1f} s (target p95 <= 300 s)"
        )
        self.say(f"Skipped for lateness: {skipped_late} (target 0); duplicates: {duplicates} (must be 0)")
        if in_app:
            self.say(f"(mean in-app lateness {statistics.mean(in_app):.1f} s)")
