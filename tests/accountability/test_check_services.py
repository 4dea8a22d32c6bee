"""`make test` stops at once with one clear message when PostgreSQL or Redis is down."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_services.py"


def run(env_overrides):
    env = {**os.environ, **env_overrides}
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_passes_silently_when_both_services_answer():
    result = run({})
    assert result.returncode == 0
    assert result.stdout == ""


def test_names_redis_and_how_to_start_it_when_it_is_down():
    result = run({"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Redis is not reachable at 127.0.0.1:1")
    assert "redis-server" in lines[0]


def test_names_postgresql_when_it_is_down():
    result = run({"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in result.stdout
    assert "pg_ctlcluster" in result.stdout
