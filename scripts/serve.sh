#!/bin/sh
# The production processes, one command each: docker-compose.yml runs these, and so does the
# production smoke test (tests/test_production_smoke.py), so what is tested is what is deployed.
#
#   scripts/serve.sh web       gunicorn: WEB_WORKERS processes (default 3) on BIND (default 0.0.0.0:8000)
#   scripts/serve.sh worker    the Celery worker for the SLA sweep, in-app notices and everything else
#                              (queues sla-sweep, notices, celery): WORKER_CONCURRENCY processes (default 2)
#   scripts/serve.sh worker-outbound  the Celery worker for email and SMS (queue outbound):
#                              OUTBOUND_CONCURRENCY processes (default 2)
#   scripts/serve.sh beat      the Celery beat (django-celery-beat's database scheduler, see settings)
#   scripts/serve.sh migrate   apply migrations (docker-compose's one-shot `migrate` service)
#
# Extra arguments go to the command (e.g. `scripts/serve.sh worker --concurrency=1`). Each command replaces
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
  worker|worker-outbound)
    # Two worker processes, one per group of queues (routes: CELERY_TASK_ROUTES in settings.py), so
    # the minute sweep and the in-app notices never wait behind a burst of email and SMS, whose
    # providers are slow and retried: a Monday-morning wave of 10,000 due leads queues tens of thousands of
    # them. Separate processes rather than one worker with a split --concurrency: Celery's prefork
    # pool has no per-queue slots, a slot taken by an email is taken. Within `worker`, the sweep has
    # its own queue, polled in turn with the notices, so it starts as soon as a slot frees.
    # Without gossip and mingle (worker-to-worker chatter this app does not use): on a lost broker,
    # restarting the Gossip step is what failed with "AttributeError: 'NoneType' object has no
    # attribute ..." (issue 14; kombu#582). `celery inspect ping`, docker's health check, still works.
    if [ "$process" = worker ]; then
      set -- -n "worker@%h" -Q sla-sweep,notices,celery --concurrency="${WORKER_CONCURRENCY:-2}" "$@"
    else
      set -- -n "outbound@%h" -Q outbound --concurrency="${OUTBOUND_CONCURRENCY:-2}" "$@"
    fi
    exec celery -A accountability worker --loglevel="${LOG_LEVEL:-INFO}" --without-gossip --without-mingle "$@"
    ;;
  beat)
    exec celery -A accountability beat --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  *)
    echo "usage: scripts/serve.sh web|worker|worker-outbound|beat|migrate [extra arguments]" >&2
    exit 2
    ;;
esac
