#!/bin/sh
# The production processes, one command each: docker-compose.yml runs these, and so does the
# production smoke test (tests/test_production_smoke.py), so what is tested is what is deployed.
#
#   scripts/serve.sh web       gunicorn: WEB_WORKERS processes (default 3) on BIND (default 0.0.0.0:8000)
#   scripts/serve.sh worker    the Celery worker: WORKER_CONCURRENCY pool processes (default 4)
#   scripts/serve.sh beat      the Celery beat (django-celery-beat's database scheduler, see settings)
#   scripts/serve.sh migrate   apply migrations (docker-compose's one-shot `migrate` service)
#
# Extra arguments go to the command (e.g. `scripts/serve.sh worker -Q sla`). Each command replaces
# the shell (exec), so signals from docker or the test reach gunicorn and Celery directly.
set -eu
cd "$(dirname "$0")/.."

process="${1:-}"
[ $# -gt 0 ] && shift
case "$process" in
  web)
    # No gunicorn access log: the app writes one structured line per request (accountability/logging.py).
    exec gunicorn accountability.wsgi:application \
      --bind "${BIND:-0.0.0.0:8000}" --workers "${WEB_WORKERS:-3}" \
      --timeout "${WEB_TIMEOUT:-30}" --graceful-timeout 10 "$@"
    ;;
  worker)
    # Without gossip and mingle (worker-to-worker chatter this app does not use): on a lost broker,
    # restarting the Gossip step is what failed with "AttributeError: 'NoneType' object has no
    # attribute ..." (issue 14; kombu#582). `celery inspect ping`, docker's health check, still works.
    exec celery -A accountability worker --loglevel="${LOG_LEVEL:-INFO}" \
      --concurrency="${WORKER_CONCURRENCY:-4}" --without-gossip --without-mingle "$@"
    ;;
  beat)
    exec celery -A accountability beat --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  *)
    echo "usage: scripts/serve.sh web|worker|beat|migrate [extra arguments]" >&2
    exit 2
    ;;
esac
