"""Production smoke test (marker `production_smoke`): the process set of docker-compose.yml, for real.

`scripts/serve.sh` starts gunicorn (3 workers), the two Celery workers (sweep and notices; email and
SMS) and beat, exactly as docker-compose
runs them, with DEBUG=0 production settings, on a PostgreSQL database of their own (`smoke_<pid>`,
migrated with `manage.py migrate`, dropped at the end) and a private redis-server on a free port.
The test talks to them over HTTP as the TLS proxy would (X-Forwarded-Proto: https) and checks what
an operator and a user rely on: /healthz reporting the beat and the worker, a login through the
form, the security headers, a lead arriving through the API, its overdue reminder in the owner's
bell (beat -> sweep -> worker), the API rate limit holding across the three web processes, and the
worker reconnecting after Redis went away and came back. It stops everything it started and
prints how long each step took.

Skipped when gunicorn or redis-server is missing, unless REQUIRE_BROWSER=1 (CI), when it fails.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

pytestmark = pytest.mark.production_smoke

BASE_DIR = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
SERVE = str(BASE_DIR / "scripts" / "serve.sh")
# docker-compose.yml's long-running services (migrate is run once before them).
PROCESSES = ("web", "worker", "worker-outbound", "beat")
PASSWORD = "smoke-pass-2026"
SWEEP_SECONDS = 10  # SLA_SWEEP_SECONDS: beat sends the sweep every 10 s instead of every minute
API_RATE = 10  # LEADS_API_RATE_PER_MINUTE of the web processes
BURST = 15
REMINDER_TIMEOUT = 150  # the policy's first contact is due 1 minute after arrival

# Seeds the smoke database (`manage.py shell -c`): an admin, a team with a manager and a rep, an
# organisation SLA policy open all day every day (first contact within 1 minute, no reminder before,
# overdue at once) and two intake sources, whose tokens are printed.
SEED = f"""
from accountability.models import User
from accountability.services import team_save
from leads.services import intake_source_create
from leads.sla.demo import ALL_DAY
from leads.sla.services import sla_policy_save

admin = User.objects.create_superuser("smoke-admin", "admin@smoke.example", {PASSWORD!r}, role="admin")
manager = User.objects.create_user(
    "smoke-manager", "manager@smoke.example", {PASSWORD!r}, role="manager", first_name="Mona", last_name="Manager"
)
rep = User.objects.create_user(
    "smoke-rep", "rep@smoke.example", {PASSWORD!r}, role="rep", first_name="Reza", last_name="Rep"
)
team = team_save(actor=admin, name="Smoke team", parent=None, manager=manager, time_zone="UTC", members=[rep])
sla_policy_save(
    actor=admin, policy=None, team=None, hours=ALL_DAY, first_contact_minutes=1, reminder_before_minutes=0,
    overdue_reminder_minutes=0, no_follow_up_after_minutes=60, escalation_grace_minutes=60,
    second_level_delay_minutes=60, on_escalation="notify",
)
for slug in ("smoke-api", "smoke-burst"):
    source, token = intake_source_create(actor=admin, name=slug, slug=slug, team=team)
    print("TOKEN", slug, token)
"""


def _require_tools() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the production smoke test runs on PostgreSQL (DATABASE_URL is not postgres://)")
    missing = [name for name in ("gunicorn", "celery") if not (BIN / name).exists()]
    missing += [name for name in ("redis-server", "redis-cli") if not shutil.which(name)]
    if missing:
        reason = (
            f"the production smoke test needs {', '.join(missing)} "
            "(pip install -r requirements.txt; apt-get install redis-server)"
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.5, what: str):
    """Call `condition` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Timings:
    def __init__(self):
        self.started = self.last = time.monotonic()
        self.steps: list[tuple[str, float]] = []

    def step(self, name: str) -> None:
        now = time.monotonic()
        self.steps.append((name, now - self.last))
        self.last = now

    def report(self) -> str:
        lines = [f"  {seconds:6.1f}s  {name}" for name, seconds in self.steps]
        lines.append(f"  {time.monotonic() - self.started:6.1f}s  total")
        return "\n".join(["production smoke test timings:", *lines])


class PrivateRedis:
    """A redis-server of this test alone, on a free port, without persistence (a restart loses
    everything, the worst case for the worker)."""

    def __init__(self, directory: Path):
        self.directory, self.port = directory, _free_port()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def up(self) -> bool:
        try:
            return redis.Redis.from_url(self.url(), socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--dir", str(self.directory), "--pidfile", str(self.directory / "redis.pid"),
             "--logfile", str(self.directory / "redis.log")],
            check=True,
        )  # fmt: skip
        wait_for(self.up, timeout=10, interval=0.1, what="the private redis-server")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False, capture_output=True)
        try:
            wait_for(lambda: not self.up(), timeout=5, interval=0.1, what="redis-server to stop")
        except AssertionError:
            pid_file = self.directory / "redis.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


class SmokeDatabase:
    """`smoke_<pid>` on the test PostgreSQL server, created and dropped here."""

    def __init__(self):
        db = settings.DATABASES["default"]
        self.params = {
            "host": db["HOST"] or "127.0.0.1",
            "port": db["PORT"] or 5432,
            "user": db["USER"] or "postgres",
            "password": db["PASSWORD"] or None,
        }
        self.name = f"smoke_{os.getpid()}"

    @property
    def url(self) -> str:
        user = urllib.parse.quote(self.params["user"])
        password = f":{urllib.parse.quote(self.params['password'])}" if self.params["password"] else ""
        return f"postgres://{user}{password}@{self.params['host']}:{self.params['port']}/{self.name}"

    def _admin(self):
        return psycopg.connect(dbname="postgres", autocommit=True, **self.params)

    def create(self) -> None:
        self.drop()  # a run killed half-way left it behind
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def query(self, statement: str) -> list[tuple]:
        with psycopg.connect(dbname=self.name, **self.params) as conn:
            return conn.execute(statement).fetchall()


class Stack:
    """The production processes, each started by scripts/serve.sh in a process group of its own."""

    def __init__(self, tmp_path: Path, database: SmokeDatabase, broker: PrivateRedis):
        self.tmp_path, self.database, self.broker = tmp_path, database, broker
        self.port = _free_port()
        self.secret_key = secrets.token_urlsafe(45)  # 60 characters
        self.processes: dict[str, subprocess.Popen] = {}

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "PGPASSWORD")}
        env.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE="accountability.settings",
            DEBUG="0",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1",
            # Plain http between this test and gunicorn: the cookies must not be Secure-only.
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            DATABASE_URL=self.database.url,
            REDIS_URL=self.broker.url(0),
            CACHE_URL=self.broker.url(1),  # as docker-compose.yml
            SITE_URL="https://127.0.0.1",
            SLA_SWEEP_SECONDS=str(SWEEP_SECONDS),
            STATIC_ROOT=str(self.tmp_path / "static"),
            VAR_DIR=str(self.tmp_path / "var"),
            BIND=f"127.0.0.1:{self.port}",
            WEB_WORKERS="3",
        )
        env.update(extra)
        return env

    def run(self, *command: str, timeout: float = 120) -> str:
        done = subprocess.run(
            command, cwd=BASE_DIR, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{' '.join(command[:4])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def start(self, name: str, *command: str, **extra) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process
        process = subprocess.Popen(
            list(command), cwd=BASE_DIR, env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def stop_all(self) -> None:
        """As `docker compose stop` does: SIGTERM to each main process, 10 s of grace, then SIGKILL to
        the whole group (gunicorn's and Celery's pool processes too), so nothing is left behind."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@dataclass
class Response:
    status: int
    headers: dict
    text: str

    def json(self):
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the test looks at each 302 itself


class Client:
    """A cookie-keeping HTTP client behind an imaginary TLS proxy (X-Forwarded-Proto: https)."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.origin = f"https://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, method: str, path: str, *, form=None, body=None, headers=None, https=True) -> Response:
        headers = {"User-Agent": "production-smoke-test", **(headers or {})}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers.setdefault("Origin", self.origin)  # what a browser sends; Django's CSRF check over https
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Response(response.status, dict(response.headers), response.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read().decode(errors="replace"))

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request("POST", path, **kwargs)


def healthz(client: Client) -> dict | None:
    try:
        response = client.get("/healthz")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None  # not listening yet
    try:
        return {"http_status": response.status, **response.json()}
    except ValueError:
        return None


def post_lead(client: Client, token: str, name: str) -> Response:
    email = re.sub(r"\W+", "-", name.lower()) + "@smoke.example"
    return client.post(
        "/api/v1/leads/", body={"name": name, "email": email}, headers={"Authorization": f"Bearer {token}"}
    )


def wait_for_overdue_notice(client: Client, lead_name: str, *, since: float) -> float:
    """Poll the rep's bell (/notifications/) until the lead's overdue notice is there; seconds taken."""

    def shown():
        page = client.get("/notifications/")
        assert page.status == 200, page.status
        return f"Overdue: {lead_name}" in page.text

    wait_for(shown, timeout=REMINDER_TIMEOUT - (time.monotonic() - since), interval=3, what=f"{lead_name}'s reminder")
    return time.monotonic() - since


def log_lines(text: str, logger: str = "accountability.request") -> list[dict]:
    """The JSON log lines of one logger."""
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("logger") == logger:
                lines.append(record)
    return lines


def test_production_process_set(tmp_path, capsys):
    _require_tools()
    timings = Timings()
    database, broker = SmokeDatabase(), PrivateRedis(tmp_path)
    stack = Stack(tmp_path, database, broker)
    try:
        # --- the database, the private Redis, migrations and static files (the image build's step)
        broker.start()
        database.create()
        collect = stack.processes["collectstatic"] = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=BASE_DIR, env=stack.env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        stack.run(SERVE, "migrate", timeout=180)
        assert collect.wait(timeout=120) == 0, collect.stdout.read().decode()[-3000:]
        timings.step("create the database, migrate, collectstatic")
        seeded = stack.run(sys.executable, "manage.py", "shell", "-c", SEED)
        tokens = dict(re.findall(r"^TOKEN (\S+) (\S+)$", seeded, re.M))
        assert set(tokens) == {"smoke-api", "smoke-burst"}
        timings.step("seed")

        # --- the process set of docker-compose.yml
        stack.start("web", SERVE, "web", LEADS_API_RATE_PER_MINUTE=str(API_RATE))
        stack.start("worker", SERVE, "worker")
        stack.start("worker-outbound", SERVE, "worker-outbound")
        stack.start("beat", SERVE, "beat")
        client = Client(stack.port)

        def healthy():
            for name in PROCESSES:
                assert stack.alive(name), f"{name} exited:\n{stack.log(name)[-3000:]}"
            state = healthz(client)
            return state if state and state["http_status"] == 200 and state.get("worker") == "ok" else None

        state = wait_for(healthy, timeout=90, interval=1, what="/healthz to report the beat and the worker")
        assert state["database"] == state["broker"] == state["beat"] == "ok", state
        assert state["beat_last_run"] and state["worker_last_sweep"], state
        timings.step("start web (3 workers), worker, beat until /healthz reports both")
        # The interval of SLA_SWEEP_SECONDS reached django-celery-beat's table when beat started.
        assert database.query(
            "SELECT i.every, i.period, t.expire_seconds FROM django_celery_beat_periodictask t "
            "JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id WHERE t.name = 'sla-sweep'"
        ) == [(SWEEP_SECONDS, "seconds", round(SWEEP_SECONDS * 0.92))]

        # --- security headers behind the TLS proxy, and a real login through the form
        assert client.get("/accounts/login/", https=False).status == 301  # plain http is sent to https
        login_page = client.get("/accounts/login/")
        assert login_page.status == 200
        assert "max-age=31536000" in login_page.headers["Strict-Transport-Security"]
        csp = login_page.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1).split()
        assert script_src == ["'self'"], csp
        assert "frame-ancestors 'none'" in csp
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
        logged_in = client.post(
            "/accounts/login/", form={"csrfmiddlewaretoken": token, "username": "smoke-rep", "password": PASSWORD}
        )
        assert logged_in.status == 302, logged_in.text[:2000]
        home = client.get(logged_in.headers["Location"])
        assert home.status == 200 and "Reza" in home.text
        assert "script-src 'self'" in home.headers["Content-Security-Policy"]
        timings.step("headers and login")

        # --- a lead arrives through the API; its owner is the rep
        arrived = time.monotonic()
        first = post_lead(client, tokens["smoke-api"], "Smoke Lead One")
        assert first.status == 201, first.text
        assert first.json()["owner"]["name"] == "Reza Rep"

        # --- the shared rate limit: 15 posts at once, spread over the 3 gunicorn workers, in one window
        if time.time() % 60 > 45:  # start early in a minute window so the burst cannot straddle two
            time.sleep(61 - time.time() % 60)
        window = int(time.time() // 60)
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            burst = list(pool.map(lambda i: post_lead(client, tokens["smoke-burst"], f"Burst Lead {i}"), range(BURST)))
        assert int(time.time() // 60) == window, "the burst straddled two rate-limit windows"
        statuses = sorted(r.status for r in burst)
        assert statuses == [201] * API_RATE + [429] * (BURST - API_RATE), statuses
        refused = next(r for r in burst if r.status == 429)
        assert int(refused.headers["Retry-After"]) > 0 and "Too many requests" in refused.json()["detail"]
        burst_lines = [line for line in log_lines(stack.log("web")) if line.get("path") == "/api/v1/leads/"]
        assert len({line["pid"] for line in burst_lines}) >= 2, "the burst was served by one process only"
        timings.step("the API lead and a burst of 15 (10 allowed) across the web workers")

        # A lead whose reminder the worker will be holding (enqueued ahead, with a countdown) when
        # Redis goes away below: the case that made the worker exit instead of reconnecting.
        time.sleep(max(0.0, 40 - (time.monotonic() - arrived)))
        assert post_lead(client, tokens["smoke-api"], "Smoke Lead Held").status == 201

        # --- the sweep reminds the owner through the worker: the overdue notice is in the rep's bell
        seconds = wait_for_overdue_notice(client, "Smoke Lead One", since=arrived)
        timings.step(f"the first lead's overdue notice in the bell ({seconds:.0f}s after it arrived, due at 60s)")

        # --- Redis goes away and comes back empty: the worker reconnects instead of exiting
        held = database.query(
            "SELECT n.state FROM sla_slanotice n JOIN leads_lead l ON l.id = n.lead_id "
            "WHERE l.name = 'Smoke Lead Held' AND n.step = 'overdue'"
        )
        assert held, "the sweep did not record the held lead's overdue notice"
        if seconds < 90:  # on a slow run it may have been delivered already: the case is then not exercised
            assert held == [("pending",)], held  # recorded and enqueued ahead, held by the worker
        broker.stop()
        down = wait_for(
            lambda: (s := healthz(client)) and s["http_status"] == 503 and s, timeout=20, what="/healthz to see it"
        )
        assert down["broker"] == "down" and "broker" in down["down"], down
        time.sleep(5)
        broker.start()
        for name in PROCESSES:
            assert stack.alive(name), f"{name} exited when Redis went away:\n{stack.log(name)[-3000:]}"
        timings.step("Redis stopped, /healthz 503, restarted after 5s")
        arrived = time.monotonic()
        second = post_lead(client, tokens["smoke-api"], "Smoke Lead Two")
        assert second.status == 201, second.text
        seconds = wait_for_overdue_notice(client, "Smoke Lead Two", since=arrived)
        timings.step(f"after the restart, a new lead's overdue notice in the bell ({seconds:.0f}s)")
        # Each once. (The reminder the worker held when Redis went away, lost with Redis's data, comes
        # later: the sweep enqueues again what stayed undelivered 2 minutes after its due time.)
        bell = client.get("/notifications/").text
        for name in ("Smoke Lead One", "Smoke Lead Two"):
            assert bell.count(f"Overdue: {name} ") == 1, name
        for name in PROCESSES:
            assert stack.alive(name), f"{name} exited:\n{stack.log(name)[-3000:]}"
        state = wait_for(healthy, timeout=30, interval=1, what="/healthz to be 200 again")
        assert state["broker"] == state["beat"] == state["worker"] == "ok", state

        # --- one JSON line per request (request id, user, duration) and per task, worker side too
        lines = log_lines(stack.log("web"))
        assert all({"request_id", "user_id", "duration_ms", "status", "pid"} <= line.keys() for line in lines)
        assert any(line["path"] == "/notifications/" and line["user_id"] for line in lines)
        tasks = log_lines(stack.log("worker"), "accountability.task")
        assert any(t["task"] == "leads.sla.tasks.sla_sweep_task" and t["state"] == "SUCCESS" for t in tasks)
        assert all(isinstance(t["duration_ms"], float) for t in tasks)
    finally:
        stack.stop_all()
        broker.stop()
        database.drop()
        timings.step("stop everything")
        with capsys.disabled():
            print("\n" + timings.report())
