"""What the live bell and My day cost the server when 500 tabs poll them (PostgreSQL only).

    createdb -h 127.0.0.1 -U postgres acc_live_bench
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_live_bench python manage.py bench_live

Builds its own organisation inside one transaction that it rolls back at the end (nothing is
left behind): --tabs reps in teams of 10, each with --leads open leads (a third of them due
today or overdue) and --notices notices. Then plays --rounds poll rounds (one round = one
30-second interval): before each, --change-rate of the reps get a new notice and have one of
their leads logged on (the worst case: a change for 1 in 20 people every 30 s); then every
tab polls the bell, and the --my-day-share of tabs that show My day poll it too, each with the
ETag of its last answer, as static/js/live.js does. Requests go through the whole Django stack
(sessions, auth, middleware) with Django's test Client, in one process, serially.

Prints per endpoint: the share of 304s, mean and 95th percentile milliseconds for 304 and 200
answers, SQL queries per poll; then the requests/s one process serves and the share of one
core that 500 tabs take at one poll per 30 s.
"""

import logging
import random
import statistics
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accountability.models import Membership, Team, User
from accountability.notifications.models import Notification
from leads.models import Lead

PREFIX = "livebench_"
INTERVAL = 30  # seconds between two polls of a visible tab (static/js/live.js)


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the live bell and My day polls for 500 open tabs (in a transaction rolled back at the end)."

    def add_arguments(self, parser):
        parser.add_argument("--tabs", type=int, default=500)
        parser.add_argument("--rounds", type=int, default=6)
        parser.add_argument("--leads", type=int, default=60, help="Open leads per rep (default 60).")
        parser.add_argument("--notices", type=int, default=200, help="Notices per rep (default 200).")
        parser.add_argument("--change-rate", type=float, default=0.05, help="Share of reps with news each round.")
        parser.add_argument("--my-day-share", type=float, default=0.5, help="Share of tabs showing My day.")

    def handle(self, *args, tabs, rounds, leads, notices, change_rate, my_day_share, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_live needs PostgreSQL (set DATABASE_URL to a dedicated bench database).")
        name = connection.settings_dict["NAME"]
        if "bench" not in name:
            raise CommandError(
                f"Refusing to run on database {name!r}: use a dedicated database whose name contains 'bench' "
                "(createdb -h 127.0.0.1 -U postgres acc_live_bench)."
            )
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        settings.DEBUG = False  # time what production runs: no per-query bookkeeping
        logging.getLogger("axes").setLevel(logging.WARNING)
        logging.getLogger("accountability.request").setLevel(logging.WARNING)
        self.rng = random.Random(15)
        try:
            with transaction.atomic():
                reps = self.build(tabs, leads, notices)
                self.play(reps, rounds, change_rate, my_day_share)
                raise Rollback
        except Rollback:
            self.stdout.write("Rolled back: the bench organisation is gone.")

    # --- Build ---------------------------------------------------------------------------------

    def build(self, n_reps: int, n_leads: int, n_notices: int) -> list[User]:
        started = time.monotonic()
        now = timezone.now()
        password = make_password("bench-pass-123")
        reps = User.objects.bulk_create(
            User(username=f"{PREFIX}{i:04d}", first_name=f"Rep {i}", role="rep", password=password, time_zone="UTC")
            for i in range(n_reps)
        )
        teams = Team.objects.bulk_create(Team(name=f"Live bench {t}") for t in range((n_reps + 9) // 10))
        Membership.objects.bulk_create(Membership(user=r, team=teams[i // 10]) for i, r in enumerate(reps))
        rows = []
        for i, rep in enumerate(reps):
            for j in range(n_leads):
                due = now + timedelta(hours=self.rng.choice([-30, -2, 3, 30, 60, 200]))
                rows.append(
                    Lead(
                        owner=rep,
                        team=teams[i // 10],
                        name=f"Lead {i}-{j}",
                        email=f"l{i}-{j}@livebench.example",
                        stage=Lead.Stage.CONTACTED,
                        first_contacted_at=now - timedelta(days=3),
                        next_follow_up_at=due,
                    )
                )
        Lead.objects.bulk_create(rows, batch_size=5000)
        Notification.objects.bulk_create(
            (
                Notification(
                    recipient=rep,
                    kind="test",
                    title=f"Notice {k}",
                    dedupe_key=f"{PREFIX}{k}",
                    read_at=now if k % 10 else None,
                )
                for rep in reps
                for k in range(n_notices)
            ),
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE leads_lead; ANALYZE notifications_notification")
        self.stdout.write(
            f"Built {n_reps} reps, {n_reps * n_leads:,} leads, {n_reps * n_notices:,} notices "
            f"in {time.monotonic() - started:.1f} s."
        )
        return reps

    # --- Play ----------------------------------------------------------------------------------

    def play(self, reps, rounds, change_rate, my_day_share):
        clients = []
        for rep in reps:
            client = Client()
            client.force_login(rep)
            clients.append(client)
        endpoints = {"bell": "/notifications/live/?since=0", "my_day": "/leads/my-day/sections/"}
        on_my_day = set(self.rng.sample(range(len(reps)), int(len(reps) * my_day_share)))
        etags: dict[tuple[str, int], str] = {}
        times = defaultdict(list)  # (endpoint, status) -> seconds
        queries = defaultdict(list)  # (endpoint, status) -> count
        counter = [0]

        def count(execute, sql, params, many, context):
            counter[0] += 1
            return execute(sql, params, many, context)

        def poll(endpoint: str, i: int, record: bool):
            headers = {"HTTP_IF_NONE_MATCH": etags[(endpoint, i)]} if (endpoint, i) in etags else {}
            counter[0] = 0
            t0 = time.perf_counter()
            response = clients[i].get(endpoints[endpoint], HTTP_HX_REQUEST="true", **headers)
            elapsed = time.perf_counter() - t0
            etags[(endpoint, i)] = response["ETag"]
            if record:
                times[(endpoint, response.status_code)].append(elapsed)
                queries[(endpoint, response.status_code)].append(counter[0])

        with connection.execute_wrapper(count):
            # Page loads: every tab gets its first version (not counted).
            for i in range(len(reps)):
                poll("bell", i, record=False)
                if i in on_my_day:
                    poll("my_day", i, record=False)
            wall = cpu = 0.0
            for r in range(rounds):
                self.news(reps, change_rate, r)
                t0, c0 = time.perf_counter(), time.process_time()
                for i in range(len(reps)):
                    poll("bell", i, record=True)
                    if i in on_my_day:
                        poll("my_day", i, record=True)
                wall += time.perf_counter() - t0
                cpu += time.process_time() - c0
        self.report(times, queries, wall, cpu, len(reps), my_day_share)

    def news(self, reps, change_rate, round_no):
        """Some reps get a notice and have a lead logged on (its follow-up moved, updated_at bumped)."""
        now = timezone.now()
        for rep in self.rng.sample(reps, max(1, int(len(reps) * change_rate))):
            Notification.objects.create(recipient=rep, kind="test", title="News", dedupe_key=f"news-{round_no}")
            lead = Lead.objects.filter(owner=rep).order_by("?").first()
            Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=now + timedelta(days=2), updated_at=now)

    # --- Report --------------------------------------------------------------------------------

    def report(self, times, queries, wall, cpu, tabs, my_day_share):
        out = self.stdout.write
        total = sum(len(v) for v in times.values())
        out(f"\n{total:,} polls in {wall:.1f} s, one process, serially: {total / wall:,.0f} requests/s")
        # Wall time includes waiting for PostgreSQL and for a busy machine; CPU time is this
        # (Django) process's own work per poll.
        out(f"Django process CPU: {cpu / total * 1000:.2f} ms per poll ({total / cpu:,.0f} polls per CPU-second)")
        out(f"{'endpoint':<8} {'status':>6} {'polls':>7} {'share':>6} {'mean ms':>8} {'p95 ms':>7} {'queries':>8}")
        for endpoint in ("bell", "my_day"):
            n_endpoint = sum(len(v) for (e, _), v in times.items() if e == endpoint)
            for status in (304, 200):
                samples = times.get((endpoint, status), [])
                if not samples:
                    continue
                ms = sorted(s * 1000 for s in samples)
                p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
                q = statistics.mean(queries[(endpoint, status)])
                out(
                    f"{endpoint:<8} {status:>6} {len(ms):>7,} {len(ms) / n_endpoint:>6.1%} "
                    f"{statistics.mean(ms):>8.2f} {p95:>7.2f} {q:>8.1f}"
                )
        demand = tabs * (1 + my_day_share) / INTERVAL
        out(
            f"\n{tabs} open tabs ({my_day_share:.0%} on My day), one poll each per {INTERVAL} s: "
            f"{demand:.1f} requests/s, {demand / (total / wall):.1%} of one process's capacity "
            f"({demand * cpu / total:.1%} of one core in Django)."
        )
