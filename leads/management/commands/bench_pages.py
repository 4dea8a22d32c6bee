"""Where a page's time goes, in this process (issue 16): bench_load's pages and its ceiling page
served by Django's test client, one at a time, with the CPU, wall time, queries and size of a
request, the CPU as a multiple of the ceiling page's, and a cProfile of the pages asked for.

    BENCH_PAGES=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_bench100 \\
        python manage.py bench_pages [--only "home, rep|neglected"] [-n 40] [--sql] [--profile "home, rep"]

`bench_load` measures what counts (requests/s under 10 connections on gunicorn); this says why,
and is steadier on a busy machine: the CPU time of this process (`time.process_time`: Python,
not PostgreSQL's side) moves less with other work than wall time. Run it with the settings to
compare (`DEBUG=0` as in production needs the static files collected: `collectstatic`); a page
at twice the ceiling's CPU or less is about half its requests/s under load.
"""

import cProfile
import io
import pstats
import re
import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client

from accountability.models import User
from leads.bench_views import CEILING_ROWS
from leads.management.commands import bench_load
from leads.management.commands.bench_load import CEILING_PATH, Page


@dataclass
class Cost:
    label: str
    cpu_ms: float  # median Python CPU per request
    wall_ms: float  # median wall time per request
    queries: int
    size: int
    sql: list[str]  # each query of one request, after the milliseconds it took (wall, with the round trip)


def client_for(user: User) -> Client:
    """A logged-in test client sending what the TLS proxy sends (production redirects plain http)."""
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "127.0.0.1")
    client = Client(HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    return client


def measure(label: str, client: Client, path: str, *, requests: int) -> Cost:
    """Three requests to warm the caches, one to count its queries, then `requests` timed ones."""
    for _ in range(3):
        response = client.get(path, secure=True)
        if response.status_code != 200:
            raise CommandError(f"{label}: {path} answered {response.status_code}.")
    sql: list[str] = []

    def log(execute, query, params, many, context):
        started = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            sql.append(f"{(time.perf_counter() - started) * 1000:6.2f} ms  {query}")

    with connection.execute_wrapper(log):
        response = client.get(path, secure=True)
    cpu, wall = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(path, secure=True)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return Cost(label, statistics.median(cpu), statistics.median(wall), len(sql), len(response.content), sql)


def profile(client: Client, path: str, *, requests: int = 20, lines: int = 40) -> str:
    """cProfile of `requests` requests: by cumulative time, then by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path, secure=True)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines // 2)
    return out.getvalue()


class Command(BaseCommand):
    help = "Each bench page's CPU, time and queries per request in this process, against the ceiling page."

    def add_arguments(self, parser):
        parser.add_argument("-n", "--requests", type=int, default=40, help="Timed requests a page (default 40).")
        parser.add_argument("--only", default="", help="Pages whose label contains this text (several: a|b).")
        parser.add_argument("--sql", action="store_true", help="Print each page's queries.")
        parser.add_argument("--profile", default="", help="cProfile the pages whose label matches this regex.")
        parser.add_argument("--rep", default="bench_rep000")
        parser.add_argument("--manager", default="bench_mgr00")
        parser.add_argument("--head", default="bench_head")

    def handle(self, *args, **options):
        if not settings.BENCH_PAGES:
            raise CommandError("Set BENCH_PAGES=1: the ceiling page is mounted only then.")
        name = connection.settings_dict["NAME"]
        if connection.vendor != "postgresql" or "bench" not in name:
            raise CommandError(
                f"Refusing to run on database {name!r}: bench_pages reads the bench data of bench_leads "
                "(PostgreSQL, a database whose name contains 'bench') and writes sessions there."
            )
        pages = bench_load.Command().pages({**options, "only": options["only"]})
        people = {"rep": options["rep"], "manager": options["manager"], "head": options["head"]}
        clients = {persona: client_for(User.objects.get(username=u)) for persona, u in people.items()}
        ceiling = Page(f"ceiling page ({CEILING_ROWS} rows, rep)", "rep", CEILING_PATH)
        costs = [measure(p.label, clients[p.persona], p.path, requests=options["requests"]) for p in [ceiling, *pages]]
        self.report(costs)
        if options["sql"]:
            for cost in costs:
                self.stdout.write(f"\n{cost.label}: {cost.queries} queries")
                for query in cost.sql:
                    self.stdout.write(f"  {query[:300]}")
        if options["profile"]:
            wanted = re.compile(options["profile"], re.IGNORECASE)
            for page in [ceiling, *pages]:
                if wanted.search(page.label):
                    self.stdout.write(f"\n=== {page.label}: cProfile of 20 requests ===")
                    self.stdout.write(profile(clients[page.persona], page.path))

    def report(self, costs: list[Cost]):
        base = costs[0].cpu_ms
        self.stdout.write(f"DEBUG={int(settings.DEBUG)}; medians of the timed requests; CPU = this process only.")
        self.stdout.write(f"{'page':40} {'CPU ms':>7} {'x ceiling':>9} {'wall ms':>8} {'queries':>7} {'KB':>6}")
        self.stdout.write("-" * 82)
        for cost in costs:
            ratio = cost.cpu_ms / base if base else 0
            self.stdout.write(
                f"{cost.label:40} {cost.cpu_ms:7.2f} {ratio:9.2f} {cost.wall_ms:8.2f} {cost.queries:7d} "
                f"{cost.size / 1024:6.1f}"
            )
