"""Benchmark of the follow-up SLA sweep on PostgreSQL, in a dedicated database.

    createdb -h 127.0.0.1 -U postgres acc_sla_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_sla_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        DEBUG=1 python manage.py migrate
    ... python manage.py bench_sla

Prints: a sweep over N open leads with nothing due, a sweep that finds 10,000 due leads
(record and enqueue), and the time from a breach to the delivered notice with a real worker.
"""

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accountability.celery import app
from accountability.models import Membership, Team, User
from leads.models import Lead
from leads.sla.models import SlaNotice, SlaPolicy
from leads.sla.services import sla_policy_save, sla_sweep

ALL_DAY = dict.fromkeys(range(7), ("00:00", "24:00"))


class Command(BaseCommand):
    help = "Benchmark the SLA sweep (PostgreSQL, dedicated database whose name contains 'bench')."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--due", type=int, default=10_000)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--no-worker", action="store_true", help="Skip the breach-to-delivery measurement.")
        parser.add_argument("--force", action="store_true", help="Allow a database whose name lacks 'bench'.")

    def handle(self, *args, leads: int, due: int, runs: int, no_worker: bool, force: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_sla needs PostgreSQL (set DATABASE_URL).")
        name = settings.DATABASES["default"]["NAME"]
        if "bench" not in str(name) and not force:
            raise CommandError(f"Refusing to fill {name!r}: use a dedicated database named like acc_sla_bench.")
        team, rep, manager = self.setup_org()
        self.populate(team=team, rep=rep, count=leads)

        self.say(f"Open leads: {Lead.objects.filter(stage__in=Lead.OPEN_STAGES).count():,}")
        self.say(f"Load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            result = sla_sweep()
            timings.append((time.perf_counter() - started) * 1000)
            assert not result.notices_created, "nothing should be due"
        self.say(
            f"Sweep with nothing due: median {statistics.median(timings):.1f} ms, "
            f"best {min(timings):.1f} ms over {runs} runs (target < 100 ms)"
        )

        self.make_due(count=due)
        started = time.perf_counter()
        result = sla_sweep()
        elapsed = time.perf_counter() - started
        self.say(
            f"Sweep finding {due:,} due leads: {elapsed:.2f} s to record {len(result.clocks_created):,} due events "
            f"and {len(result.notices_created):,} notices and enqueue their delivery (target < 10 s)"
        )
        self.quiet_backlog()
        if not no_worker:
            self.measure_delivery(team=team, rep=rep, manager=manager)

    def say(self, line: str) -> None:
        self.stdout.write(line)

    def setup_org(self):
        head, _ = User.objects.get_or_create(username="bench-head", defaults={"role": User.Role.MANAGER})
        manager, _ = User.objects.get_or_create(
            username="bench-manager", defaults={"role": User.Role.MANAGER, "email": "bench-manager@example.com"}
        )
        rep, _ = User.objects.get_or_create(username="bench-rep", defaults={"role": User.Role.REP})
        hq, _ = Team.objects.get_or_create(name="Bench HQ", defaults={"manager": head})
        team, _ = Team.objects.get_or_create(name="Bench team", defaults={"manager": manager, "parent": hq})
        Membership.objects.get_or_create(user=rep, team=team)
        admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": User.Role.ADMIN})
        if not SlaPolicy.objects.filter(team=None).exists():
            sla_policy_save(
                actor=admin,
                policy=None,
                team=None,
                hours=ALL_DAY,
                **{**SlaPolicy().values(), "reminder_before_minutes": 5},
            )
        return team, rep, manager

    def populate(self, *, team: Team, rep: User, count: int) -> None:
        """`count` open, contacted leads, each with an open follow-up due in 3-4 days: nothing due."""
        existing = Lead.objects.filter(team=team).count()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE sla_slanotice, sla_slaclock, notifications_delivery CASCADE")
            cursor.execute(
                "UPDATE leads_lead SET first_contacted_at = now() - interval '1 day', "
                "last_activity_at = now() - interval '1 hour', arrived_at = now() - interval '2 days', "
                "next_follow_up_at = now() + interval '3 days' + (id %% 1440) * interval '1 minute', "
                "stage = 'contacted' WHERE team_id = %s",
                [team.pk],
            )
            cursor.execute(
                "UPDATE leads_followup f SET state = 'open', due_at = l.next_follow_up_at FROM leads_lead l "
                "WHERE f.lead_id = l.id AND l.team_id = %s",
                [team.pk],
            )
        if existing >= count:
            with connection.cursor() as cursor:  # the reset above left a million dead rows
                cursor.execute("VACUUM ANALYZE leads_lead")
                cursor.execute("VACUUM ANALYZE leads_followup")
            self.say(f"Reusing {existing:,} bench leads.")
            return
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO leads_lead (name, company, email, phone, channel, value, stage, lost_reason, notes,
                    arrived_at, assigned_at, first_contacted_at, last_activity_at, next_follow_up_at, closed_at,
                    created_at, updated_at, first_contacted_by_id, owner_id, source_id, team_id)
                SELECT 'Bench lead ' || g, 'Bench Co', '', '', 'manual', 100, 'contacted', '', '',
                    now() - interval '2 days', now() - interval '2 days', now() - interval '1 day',
                    now() - interval '1 hour', now() + interval '3 days' + (g %% 1440) * interval '1 minute', NULL,
                    now(), now(), %s, %s, NULL, %s
                FROM generate_series(1, %s) AS g
                """,
                [rep.pk, rep.pk, team.pk, count - existing],
            )
            cursor.execute(
                """
                INSERT INTO leads_followup (lead_id, owner_id, due_at, state, created_at)
                SELECT l.id, l.owner_id, l.next_follow_up_at, 'open', now() - interval '1 hour'
                FROM leads_lead l
                WHERE l.team_id = %s AND NOT EXISTS (SELECT 1 FROM leads_followup f WHERE f.lead_id = l.id)
                """,
                [team.pk],
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE leads_lead")
            cursor.execute("VACUUM ANALYZE leads_followup")
        self.say(f"Inserted {count - existing:,} leads with open follow-ups in {time.perf_counter() - started:.1f} s.")

    def make_due(self, *, count: int) -> None:
        """Turn `count` leads into untouched leads that arrived 20 minutes ago: first contact overdue."""
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH picked AS (SELECT id FROM leads_lead WHERE stage = 'contacted' ORDER BY id LIMIT %s) "
                "UPDATE leads_lead l SET first_contacted_at = NULL, last_activity_at = NULL, "
                "next_follow_up_at = NULL, arrived_at = now() - interval '20 minutes' "
                "FROM picked WHERE l.id = picked.id",
                [count],
            )
            cursor.execute(
                "UPDATE leads_followup f SET state = 'cancelled' FROM leads_lead l "
                "WHERE f.lead_id = l.id AND f.state = 'open' AND l.first_contacted_at IS NULL"
            )
            cursor.execute("ANALYZE leads_lead")

    def quiet_backlog(self) -> None:
        """Drop the bench backlog so the delivery measurement is not queued behind 10,000 notices."""
        SlaNotice.objects.filter(state=SlaNotice.State.PENDING).update(
            state=SlaNotice.State.SKIPPED, reason="benchmark backlog"
        )
        try:
            app.control.purge()
        except Exception as exc:  # a broker that cannot purge: the notices are skipped anyway
            self.say(f"(could not purge the queue: {exc})")

    def measure_delivery(self, *, team: Team, rep: User, manager: User) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "accountability.settings"}
        log = open(Path(settings.VAR_DIR) / "bench_sla_worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(  # noqa: S603 - our own celery, fixed arguments
            [str(Path(sys.executable).parent / "celery"), "-A", "accountability", "worker", "-c", "2",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            time.sleep(4)  # worker start-up
            policy = SlaPolicy.objects.get(team=None)
            lead_in = dt.timedelta(seconds=20)
            # Seen ahead: first contact falls due 20 s from now (the sweep looks 60 s ahead).
            arrived = timezone.now() + lead_in - dt.timedelta(minutes=policy.first_contact_minutes)
            ahead = Lead.objects.create(name="Bench breach ahead", team=team, owner=rep, arrived_at=arrived)
            sla_sweep()
            ahead_latency = self.wait_sent(ahead, "overdue")
            # Discovered late: a breach that happened just now, found by the next sweep.
            arrived = timezone.now() - dt.timedelta(minutes=policy.first_contact_minutes, seconds=1)
            late = Lead.objects.create(name="Bench breach late", team=team, owner=rep, arrived_at=arrived)
            swept_at = time.perf_counter()
            sla_sweep()
            self.wait_sent(late, "overdue")
            late_latency = time.perf_counter() - swept_at
            interval = 60
            self.say(
                f"Breach to delivered notice: {ahead_latency:.2f} s after the due time when the sweep saw it "
                f"coming (the usual case: any due time more than a minute away); {late_latency:.2f} s from "
                f"sweep to delivery for a breach it found late, so at most {interval} s (beat interval) + "
                f"{late_latency:.2f} s = {interval + late_latency:.1f} s in the worst case (target < 60 s)"
            )
        finally:
            worker.terminate()
            worker.wait(timeout=20)
            log.close()

    def wait_sent(self, lead: Lead, step: str, timeout: float = 90) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            notice = SlaNotice.objects.filter(lead=lead, step=step, state=SlaNotice.State.SENT).first()
            if notice is not None:
                return (notice.finished_at - notice.scheduled_at).total_seconds()
            time.sleep(0.05)
        raise CommandError(f"the {step} notice of {lead} was not delivered within {timeout} s (is Redis up?)")
