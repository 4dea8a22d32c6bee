"""Leads per second through the intake API, in-process (Django's test client, no network).

Creates a throw-away team, reps and intake source, posts N leads a few times (one request per lead,
or with --batch B, B leads a request to /api/v1/leads/batch/), prints the median rate and the
queries per lead, and removes what it created. Run it against a real PostgreSQL database.
"""

import json
import os
import statistics
import time
import uuid

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accountability.models import Membership, Team, User
from accountability.notifications.models import Notification
from leads.models import Activity, FollowUp, IdempotencyKey, IntakeSource, Lead, TeamIntakeSettings
from leads.services import hash_token


def _backend_cpu_reader():
    """A function giving the CPU seconds used so far by this connection's PostgreSQL backend
    (/proc/<pid>/stat: the server on this machine), or None when it cannot be read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    ticks = os.sysconf("SC_CLK_TCK")

    def read():
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


class Command(BaseCommand):
    help = "Post N leads through the intake API in-process and print leads/second (median of runs)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=200)
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--batch", type=int, default=0, help="leads a request to /api/v1/leads/batch/ (0: one)")

    def handle(self, *args, leads: int, runs: int, batch: int, **options):
        tag = uuid.uuid4().hex[:8]
        with transaction.atomic():
            team = Team.objects.create(name=f"bench-intake-{tag}")
            reps = [User.objects.create(username=f"bench-{tag}-{i}", role=User.Role.REP) for i in range(5)]
            Membership.objects.bulk_create([Membership(user=u, team=team) for u in reps])
            token = f"acc_bench_{tag}"
            source = IntakeSource.objects.create(
                name=f"bench-{tag}", slug=f"bench-{tag}", team=team, token_hash=hash_token(token), token_prefix="bench"
            )
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        rates = []
        mode = f"batches of {batch}" if batch else "one lead a request"
        self.stdout.write(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {mode}")

        def lead(run, i):
            return {"name": f"Bench {run}-{i}", "email": f"b{run}-{i}-{tag}@example.com", "value": 100}

        def post_one(run, i):
            response = client.post(
                "/api/v1/leads/",
                data=json.dumps(lead(run, i)),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"{tag}-{run}-{i}",
            )
            if response.status_code != 201:
                raise RuntimeError(f"API answered {response.status_code}: {response.content[:200]!r}")

        def post_batch(run, start, size):
            items = [{**lead(run, i), "idempotency_key": f"{tag}-{run}-{i}"} for i in range(start, start + size)]
            body = {"leads": items}
            response = client.post("/api/v1/leads/batch/", data=json.dumps(body), content_type="application/json")
            answer = response.json() if response.status_code == 200 else {}
            if answer.get("created") != size:
                raise RuntimeError(f"API answered {response.status_code}: {response.content[:300]!r}")

        try:
            with override_settings(LEADS_API_RATE_PER_MINUTE=10**9, ALLOWED_HOSTS=["*"]):
                # Queries for one request, counted outside the timed runs after a warm-up (the team's
                # first lead also creates its intake settings row).
                post_batch(-2, 0, batch) if batch else post_one(-2, 0)
                with CaptureQueriesContext(connection) as queries:
                    post_batch(-1, 0, batch) if batch else post_one(-1, 0)
                per_request = len(queries.captured_queries)
                backend = _backend_cpu_reader()
                cpu_start, db_start = time.process_time(), backend()
                for run in range(runs):
                    start = time.perf_counter()
                    if batch:
                        for offset in range(0, leads, batch):
                            post_batch(run, offset, min(batch, leads - offset))
                    else:
                        for i in range(leads):
                            post_one(run, i)
                    elapsed = time.perf_counter() - start
                    rates.append(leads / elapsed)
                    self.stdout.write(f"run {run + 1}: {leads} leads in {elapsed:.2f}s = {leads / elapsed:.0f} leads/s")
                cpu_ms = (time.process_time() - cpu_start) * 1000 / (leads * runs)
                db_ms = (backend() - db_start) * 1000 / (leads * runs) if db_start is not None else None
        finally:
            with transaction.atomic():
                lead_ids = Lead.objects.filter(team=team).values_list("id", flat=True)
                IdempotencyKey.objects.filter(source=source).delete()
                FollowUp.objects.filter(lead_id__in=lead_ids).delete()
                Activity.objects.filter(lead_id__in=lead_ids).delete()
                Notification.objects.filter(recipient__in=reps).delete()
                Lead.objects.filter(team=team).delete()
                source.delete()
                TeamIntakeSettings.objects.filter(team=team).delete()
                Membership.objects.filter(team=team).delete()
                User.objects.filter(pk__in=[u.pk for u in reps]).delete()
                team.delete()
        size = batch or 1
        self.stdout.write(
            f"queries: {per_request} a request of {size} lead{'s' if size > 1 else ''} "
            f"({per_request / size:.2f} a lead, BEGIN/COMMIT included)"
        )
        # CPU per lead does not depend on how busy the machine is: what one idle core would serve.
        if db_ms is not None:
            self.stdout.write(
                f"CPU a lead: {cpu_ms:.2f} ms here + {db_ms:.2f} ms in its PostgreSQL backend "
                f"= {1000 / (cpu_ms + db_ms):.0f} leads/s if both had a core to themselves"
            )
        else:
            self.stdout.write(f"CPU a lead: {cpu_ms:.2f} ms here (PostgreSQL's share not readable)")
        self.stdout.write(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        self.stdout.write(f"median: {statistics.median(rates):.0f} leads/second over {runs} runs of {leads}")
