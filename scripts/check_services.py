"""Stop a test run at once, with one clear message, when PostgreSQL or Redis is down."""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "DATABASE_URL": ("postgres://postgres@127.0.0.1:5432/accountability", 5432),
    "REDIS_URL": ("redis://127.0.0.1:6379/15", 6379),
}
HOW = {
    "DATABASE_URL": "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "REDIS_URL": "start it with: redis-server --daemonize yes --port 6379 --save '' --appendonly no",
}
NAMES = {"DATABASE_URL": "PostgreSQL", "REDIS_URL": "Redis"}

failed = False
for var, (default, port) in DEFAULTS.items():
    url = urlparse(os.environ.get(var) or default)
    host, port = url.hostname or "127.0.0.1", url.port or port
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        failed = True
        print(f"{NAMES[var]} is not reachable at {host}:{port} ({var}): {exc.strerror or exc}. {HOW[var]}")
if failed:
    sys.exit(1)
