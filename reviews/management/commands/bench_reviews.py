"""Time the review packet of one rep for a quarter on the bench data (PostgreSQL only).

    createdb -h 127.0.0.1 -U postgres acc_reviews_bench
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_reviews_bench python manage.py bench_reviews

Builds the bench_leads data when it is not there yet (100 reps, 100,000 leads over 90 days,
1,000,000 timeline entries: `--leads`/`--activities` for a smaller set), then builds one rep's
packet for the last 90 days with three KPI criteria (so the monthly trend is included), N times
after a warm-up, and prints median and 95th percentile milliseconds and the query count. Like
bench_leads it refuses a database whose name lacks "bench".
"""

import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from accountability.models import User
from leads.management.commands.bench_leads import ACTIVITIES, LEADS, PREFIX
from leads.management.commands.bench_leads import Command as BenchLeads
from leads.models import Lead
from reviews.packet import KpiSpec, packet_build

KPIS = [
    KpiSpec("speed_to_lead_median", Decimal(15), "down"),
    KpiSpec("follow_up_compliance", Decimal(90), "up"),
    KpiSpec("conversion_rate", Decimal(20), "up"),
]


class Command(BaseCommand):
    help = "Print the time to build one rep's quarterly review packet on the bench data."

    def add_arguments(self, parser):
        parser.add_argument("-n", "--runs", type=int, default=30)
        parser.add_argument("--leads", type=int, default=LEADS)
        parser.add_argument("--activities", type=int, default=ACTIVITIES)

    def handle(self, *args, runs=30, leads=LEADS, activities=ACTIVITIES, **options):
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("Run on a dedicated PostgreSQL database whose name contains 'bench'.")
        if not Lead.objects.filter(email__endswith="@bench.example").exists():
            builder = BenchLeads(stdout=self.stdout, stderr=self.stderr)
            started = time.monotonic()
            builder.build(leads, activities)
            self.stdout.write(f"Built the bench data in {time.monotonic() - started:.1f} s.")
        rep = User.objects.get(username=f"{PREFIX}rep000")
        total = Lead.objects.count()
        mine = Lead.objects.filter(received_by=rep).count()
        today = timezone.localdate()
        start = today - timezone.timedelta(days=89)
        queries: list[str] = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            packet = packet_build(rep=rep, start=start, end=today, kpis=KPIS)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            packet_build(rep=rep, start=start, end=today, kpis=KPIS)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        self.stdout.write(
            f"packet of {rep.username} for {start} to {today} ({mine:,} of {total:,} leads received, "
            f"{len(packet.figures)} figures, {len(queries)} queries): median {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms over {runs} runs"
        )
