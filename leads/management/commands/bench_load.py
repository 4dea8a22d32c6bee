"""Pages under concurrency, against a ceiling page (issue 16). PostgreSQL bench database only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_bench100 REDIS_URL=redis://127.0.0.1:6379/2 \\
        python manage.py bench_load [--rounds 3] [--duration 5] [--only "lead list"]

On the bench data of `bench_leads` (bench_rep000, bench_mgr00 with 10 reps, bench_head over 100 reps;
password bench-pass-123), this:

1. collects the static files and starts gunicorn as production runs it (`scripts/serve.sh web`,
   2 sync workers, DEBUG=0, the production settings, the request log), with BENCH_PAGES=1 so the
   ceiling page is mounted, on a free port of 127.0.0.1;
2. logs the three people in through the login form, and checks every page answers 200 to them;
3. measures each page with wrk (10 connections, session cookie, X-Forwarded-Proto: https as the TLS
   proxy sends), each one between two measurements of the *ceiling page* (leads/bench_views.py: the
   same middleware and login, two queries on the leads table, 50 rows rendered), round after round,
   the order reversed every other round, so drifting load from other processes hits both alike;
4. prints, per page, the median over the rounds of requests/s, p50 and p99 latency, and its share of
   the ceiling (the page's requests/s over the mean of the two ceiling runs around it);
5. stops gunicorn, whatever happens (Ctrl-C and SIGTERM included).

Absolute figures depend on the machine and what else runs on it (the load average is printed); the
shares, measured in turn, are what to compare between branches and machines.
"""

import contextlib
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accountability.models import User
from leads.bench_views import CEILING_ROWS
from leads.models import Lead

CEILING_PATH = "/leads/bench/ceiling/"  # leads/urls.py, when BENCH_PAGES is on
SHELL_PATH = "/leads/bench/shell/"  # the product's page shell with no content, for reference
PASSWORD = "bench-pass-123"  # bench_leads' password for every bench user
TARGET_SHARE = 0.5  # issue 16: every main page at half the ceiling or better
PROXY_HEADER = "X-Forwarded-Proto: https"


@dataclass
class Page:
    label: str
    persona: str  # rep, manager, head
    path: str
    runs: list[dict] = field(default_factory=list)  # one wrk result per round
    shares: list[float] = field(default_factory=list)


class Command(BaseCommand):
    help = "Measure the main pages under 10 concurrent connections on gunicorn, as shares of a ceiling page."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=3, help="Measurements of each page (default 3).")
        parser.add_argument("--duration", type=int, default=5, help="Seconds per wrk run (default 5).")
        parser.add_argument("--connections", type=int, default=10, help="Concurrent connections (default 10).")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2).")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2).")
        parser.add_argument(
            "--only",
            default="",
            help="Measure only the pages whose label contains this text (several: a|b).",
        )
        parser.add_argument("--rep", default="bench_rep000")
        parser.add_argument("--manager", default="bench_mgr00")
        parser.add_argument("--head", default="bench_head")
        parser.add_argument("--password", default=PASSWORD)

    def handle(self, *args, **options):
        self.check_ready(options)
        work = Path(settings.VAR_DIR) / "bench_load"
        work.mkdir(parents=True, exist_ok=True)
        self.server = Server(work, workers=options["workers"], stdout=self.stdout)
        previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self.server.start()
            self.run_benchmark(options)
        except KeyboardInterrupt:
            self.stderr.write("\nInterrupted: stopping gunicorn.")
            raise SystemExit(130) from None
        except BaseException:
            self.stderr.write(f"gunicorn's log ({self.server.log_path}), last lines:\n{self.server.log_tail()}")
            raise
        finally:
            self.server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- before anything starts ------------------------------------------------------------------

    def check_ready(self, options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_load needs PostgreSQL: set DATABASE_URL to the bench database.")
        name = connection.settings_dict["NAME"]
        if "bench" not in name:
            raise CommandError(
                f"Refusing to run on database {name!r}: bench_load measures the bench data of bench_leads "
                "(a database whose name contains 'bench') and writes sessions there."
            )
        if not os.environ.get("DATABASE_URL"):
            raise CommandError("Set DATABASE_URL: gunicorn is started with the same one.")
        if shutil.which("wrk") is None:
            raise CommandError("wrk is missing: apt-get install wrk (Debian's package).")
        if not (Path(sys.executable).parent / "gunicorn").exists():
            raise CommandError("gunicorn is missing from this virtualenv: pip install -r requirements.txt.")
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(f"{name} has unapplied migrations: run `manage.py migrate` on it first.")
        usernames = [options["rep"], options["manager"], options["head"]]
        found = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        if missing := [u for u in usernames if u not in found]:
            raise CommandError(f"No bench users {', '.join(missing)}: build the data with `manage.py bench_leads`.")

    def pages(self, options) -> list[Page]:
        rep = User.objects.get(username=options["rep"])
        lead = (
            Lead.objects.filter(owner=rep, first_contacted_at__isnull=False).order_by("-arrived_at", "-id").first()
            or Lead.objects.filter(owner=rep).order_by("-arrived_at", "-id").first()
        )
        if lead is None:
            raise CommandError(f"{rep.username} owns no lead: build the data with `manage.py bench_leads`.")
        self.lead_note = f"lead page: lead {lead.pk} ({lead.activities.count()} timeline entries)"
        candidates = [
            ("home, rep", "rep", "home", ""),
            ("home, manager", "manager", "home", ""),
            ("My day, rep", "rep", "leads:my-day", ""),
            ("lead list, rep", "rep", "leads:lead-list", ""),
            ("lead list, manager of 10 reps", "manager", "leads:lead-list", ""),
            ("lead list, head of sales (100 reps)", "head", "leads:lead-list", ""),
            ("lead page, rep", "rep", "leads:lead-detail", lead.pk),
            ("team dashboard, manager, 30 days", "manager", "leads:dashboard", "?period=30"),
            ("department dashboard, head of sales", "head", "leads:dashboard", "?period=30"),
            ("neglected report, manager", "manager", "leads:neglected", ""),
            ("goals board, manager", "manager", "goals:board", ""),
            ("review dashboard, manager", "manager", "reviews:dashboard", ""),
            ("recognition feed, rep", "rep", "recognition:feed", ""),
            # Not a page of the product: what every page pays before its content (navigation,
            # bell, expectations banner, footer), to read the pages' shares against.
            ("page shell, rep (no content)", "rep", None, SHELL_PATH),
        ]
        pages = []
        wanted = [part.strip().lower() for part in options["only"].split("|")]
        for label, persona, url_name, extra in candidates:
            if not any(part in label.lower() for part in wanted):
                continue
            if url_name is None:
                path = extra
            elif isinstance(extra, int):
                path = reverse(url_name, args=[extra])
            else:
                path = reverse(url_name) + extra
            pages.append(Page(label, persona, path))
        if not pages:
            raise CommandError(f"No page matches --only {options['only']!r}.")
        return pages

    # --- the measurements ------------------------------------------------------------------------

    def run_benchmark(self, options):
        pages = self.pages(options)
        personas = {"rep": options["rep"], "manager": options["manager"], "head": options["head"]}
        cookies = {p: self.server.login(u, options["password"]) for p, u in personas.items()}
        ceiling = Page(f"ceiling page ({CEILING_ROWS} rows, rep)", "rep", CEILING_PATH)
        for page in [ceiling, *pages]:
            self.server.check_page(page.path, cookies[page.persona], page.label)
        wrk = Wrk(self.server.base, options["connections"], options["threads"])
        # Warm-up: each URL once on every worker (templates compiled, connections open, buffers warm).
        for page in [ceiling, *pages]:
            wrk.run(page.path, cookies[page.persona], seconds=1)

        started = time.monotonic()
        loads = [os.getloadavg()]
        self.stdout.write(
            f"Measuring {len(pages)} page(s), {options['rounds']} round(s) of {options['duration']} s each, "
            f"between ceiling runs; {options['connections']} connections, {options['workers']} gunicorn workers."
        )
        for round_no in range(options["rounds"]):
            order = pages if round_no % 2 == 0 else list(reversed(pages))
            before = wrk.run(ceiling.path, cookies["rep"], seconds=options["duration"])
            ceiling.runs.append(before)
            for page in order:
                result = wrk.run(page.path, cookies[page.persona], seconds=options["duration"])
                after = wrk.run(ceiling.path, cookies["rep"], seconds=options["duration"])
                ceiling.runs.append(after)
                page.runs.append(result)
                page.shares.append(result["rps"] / ((before["rps"] + after["rps"]) / 2))
                before = after
            loads.append(os.getloadavg())
            self.stdout.write(f"  round {round_no + 1} done ({time.monotonic() - started:.0f} s)")
        self.report(ceiling, pages, loads, options)

    def report(self, ceiling: Page, pages: list[Page], loads: list[tuple], options):
        width = max(len(p.label) for p in [ceiling, *pages])
        load_1min = [x[0] for x in loads]
        self.stdout.write("")
        self.stdout.write(
            f"gunicorn {options['workers']} sync workers, DEBUG=0; wrk {options['connections']} connections, "
            f"{options['duration']} s a run, {options['rounds']} round(s); {os.cpu_count()} CPUs; "
            f"load average (1 min) {min(load_1min):.1f} to {max(load_1min):.1f}."
        )
        self.stdout.write(f"Database {connection.settings_dict['NAME']}; {self.lead_note}.")
        self.stdout.write("Medians over the rounds. Share: the page's requests/s over the ceiling's around it.\n")
        header = f"{'page':<{width}}  {'req/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  {'share':>5}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        rows = [(ceiling, 1.0), *((p, statistics.median(p.shares)) for p in pages)]
        for page, share in rows:
            rps = statistics.median(r["rps"] for r in page.runs)
            p50 = statistics.median(r["p50"] for r in page.runs)
            p99 = statistics.median(r["p99"] for r in page.runs)
            flag = "" if share >= TARGET_SHARE else f"  below {TARGET_SHARE}"
            self.stdout.write(f"{page.label:<{width}}  {rps:7.1f}  {p50:7.1f}  {p99:7.1f}  {share:5.2f}{flag}")
        if timeouts := sum(r["timeouts"] for p in [ceiling, *pages] for r in p.runs):
            self.stdout.write(f"\n{timeouts} request(s) timed out (over 30 s): the figures above undercount them.")
        if options["rounds"] > 1:
            self.stdout.write("\nShares per round (spread = noise):")
            for page in pages:
                self.stdout.write(f"  {page.label:<{width}}  " + "  ".join(f"{s:.2f}" for s in page.shares))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Server:
    """gunicorn as production runs it (scripts/serve.sh web), in a process group of its own."""

    def __init__(self, work: Path, *, workers: int, stdout):
        self.work, self.workers, self.stdout = work, workers, stdout
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "PGPASSWORD")}
        cache_url = (
            settings.CACHES["default"].get("LOCATION") if "redis" in settings.CACHES["default"]["BACKEND"] else ""
        )
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            DJANGO_SETTINGS_MODULE="accountability.settings",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(45),
            ALLOWED_HOSTS="127.0.0.1",
            # Plain http between wrk and gunicorn, as between a TLS proxy and gunicorn: the cookies
            # must not be Secure-only for this client; every request says X-Forwarded-Proto: https.
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            DATABASE_URL=os.environ["DATABASE_URL"],
            SITE_URL=f"https://127.0.0.1:{self.port}",
            STATIC_ROOT=str(self.work / "static"),
            VAR_DIR=str(self.work / "var"),
            BIND=f"127.0.0.1:{self.port}",
            WEB_WORKERS=str(self.workers),
            BENCH_PAGES="1",
        )
        for name in ("DB_CONN_MAX_AGE", "TIME_ZONE", "CURRENCY", "REDIS_URL"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        if cache_url:
            env["CACHE_URL"] = cache_url
        else:
            env["ALLOW_PER_PROCESS_CACHE"] = "1"  # no Redis: each worker counts rate limits alone
        return env

    def start(self):
        base_dir = Path(settings.BASE_DIR)
        env = self.env()
        self.stdout.write("Collecting static files for the production storage (manifest)...")
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=base_dir, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise CommandError(f"collectstatic failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        log = open(self.log_path, "wb")  # noqa: SIM115 - kept open for the process
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [str(base_dir / "scripts" / "serve.sh"), "web"],
            cwd=base_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while not self.up():
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise CommandError(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")
            time.sleep(0.3)
        self.stdout.write(f"gunicorn up on {self.base} (pid {self.process.pid}, log {self.log_path}).")

    def up(self) -> bool:
        try:
            return self.get("/accounts/login/", opener=urllib.request.build_opener(_NoRedirect()))[0] == 200
        except OSError:
            return False

    def stop(self):
        """SIGTERM to gunicorn's master (it stops its workers), then SIGKILL to the whole group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.stdout.write("gunicorn stopped.")
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def get(self, path, *, opener, data=None, headers=None) -> tuple[int, str, dict]:
        headers = {"X-Forwarded-Proto": "https", "User-Agent": "bench_load", **(headers or {})}
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path, data=data, headers=headers
        )
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(errors="replace"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), dict(error.headers)

    def login(self, username: str, password: str) -> str:
        """Log in through the form, as a person does; the Cookie header wrk then sends."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        status, body, _ = self.get("/accounts/login/", opener=opener)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or token is None:
            raise CommandError(f"The login page answered {status} without a CSRF token.")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        )
        origin = f"https://127.0.0.1:{self.port}"
        status, body, _ = self.get(
            "/accounts/login/", opener=opener, data=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Referer": origin + "/"},
        )  # fmt: skip
        cookies = {c.name: c.value for c in jar}
        if status != 302 or "sessionid" not in cookies:
            raise CommandError(f"Logging in as {username} failed (HTTP {status}): is the password {password!r}?")
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    def check_page(self, path: str, cookie: str, label: str):
        opener = urllib.request.build_opener(_NoRedirect())
        status, _, headers = self.get(path, opener=opener, headers={"Cookie": cookie})
        if status != 200:
            where = f" to {headers.get('Location')}" if 300 <= status < 400 else ""
            raise CommandError(f"{label} ({path}) answered HTTP {status}{where}, not 200: nothing measured.")


class Wrk:
    """One wrk run: requests/s and the latency percentiles it prints with --latency."""

    LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
    UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def __init__(self, base: str, connections: int, threads: int):
        self.base, self.connections, self.threads = base, connections, threads

    def run(self, path: str, cookie: str, *, seconds: int) -> dict:
        command = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
            "-H", f"Cookie: {cookie}", "-H", PROXY_HEADER, self.base + path,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - wrk, our URL
        out = done.stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        latencies = {m.group(1): float(m.group(2)) * self.UNIT_MS[m.group(3)] for m in self.LATENCY.finditer(out)}
        if done.returncode != 0 or rps is None or set(latencies) != {"50", "99"}:
            raise CommandError(f"wrk failed on {path}:\n{out}\n{done.stderr}")
        if bad := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
            raise CommandError(f"{path}: {bad.group(1)} responses were errors (4xx/5xx) under load:\n{out}")
        timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
        return {
            "rps": float(rps.group(1)),
            "p50": latencies["50"],
            "p99": latencies["99"],
            "timeouts": int(timeouts.group(1)) if timeouts else 0,
        }
