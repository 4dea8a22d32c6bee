"""Settings for Accountability, driven by environment variables.

Defaults are safe for a laptop: with no DATABASE_URL the app uses a SQLite file
under var/, with no broker configured Celery uses kombu's filesystem transport
under var/. Production (DEBUG off) refuses to start without a real SECRET_KEY and
ALLOWED_HOSTS, and turns on every setting `manage.py check --deploy` asks for.
"""

import zoneinfo
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from accountability.env import env_bool, env_float, env_int, env_list, env_str, require

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
require("SECRET_KEY", SECRET_KEY, "when DEBUG is off (set a long random value)")
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The organisation's name as visitors of the public web form read it ("someone from Acme Solar will
# be in touch"), unless an intake source has a public name of its own. Empty: "our team".
ORGANISATION_NAME = env_str("ORGANISATION_NAME", "")

# Public base URL used in emails and SMS so each message links straight to its page. Unset: the
# local server on PORT (8000). `make run` sets it from its PORT for every process it starts,
# because honcho gives each process after the web its own PORT (PORT+100, +200...).
SITE_URL = (env_str("SITE_URL") or f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "rest_framework",
    "drf_spectacular",  # the intake API's OpenAPI schema and documentation page
    "drf_spectacular_sidecar",  # Swagger UI's files served from our static files, no CDN
    "django_celery_beat",
    "csp",
    "accountability",
    "accountability.notifications",
    "accountability.expectations",
    "leads",
    "leads.sla",
    "goals",
    # recognition sits below reviews (the review packet reads its selector), and its demo
    # (kudos) comes before the reviews demo's drift flags, which look for recent recognition.
    "recognition",
    "reviews",
    "leads.jobs",  # imports and exports in the background; last, so its demo import runs after the story
]

MIDDLEWARE = [
    # First: times the whole request and logs it once, with its request id.
    "accountability.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages in the signed-in person's time zone (needs request.user).
    "accountability.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "accountability.urls"
WSGI_APPLICATION = "accountability.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accountability.context_processors.navigation",
                "accountability.expectations.context_processors.expectations",
            ],
            # The formatting filters (figure, percent, duration, money, day, moment) on every page
            # without a {% load %}: one way to write numbers and dates everywhere.
            "builtins": ["accountability.templatetags.formatting"],
        },
    },
]

# Database: PostgreSQL in production and tests; a SQLite file when DATABASE_URL is unset.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles queries whose estimated cost is high; the dashboards'
        # aggregates are such queries but run in milliseconds, and JIT added ~500 ms to them.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # Web, worker and beat share the file: wait for locks and take the
            # write lock up front instead of failing with "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
# Parallel test runs (several checkouts on one machine) each get their own test database.
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accountability.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling: 5 failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# ...and failures from one address across usernames, and password resets (accountability/auth_views.py).
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 5)  # an hour
PASSWORD_RESETS_PER_EMAIL = env_int("PASSWORD_RESETS_PER_EMAIL", 3)  # an hour
# How long the link in an invitation to set a password works (settings/people/invite/).
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE is not a known time zone: {TIME_ZONE!r}.") from None
USE_I18N = True
USE_TZ = True
# The organisation's currency (ISO 4217 code) for money on every page (the |money filter).
CURRENCY = env_str("CURRENCY", "USD").upper()
if len(CURRENCY) != 3 or not CURRENCY.isalpha():
    raise ImproperlyConfigured(f"CURRENCY must be a three-letter ISO 4217 code such as USD or EUR: {CURRENCY!r}.")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Sessions and CSRF: HTTP-only cookies, secure when served over HTTPS (production).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers), never reads the cookie
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from our own static files, no inline script and
# no inline event handler anywhere (tests/accountability/test_security_headers.py checks templates/).
# Styles allow 'unsafe-inline' because htmx injects its indicator style and Chart.js sizes canvases
# with style attributes; neither can run code. The embeddable intake form relaxes frame-ancestors.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): none of these browser features is used.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The app runs behind a TLS-terminating proxy (see docker-compose.yml).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Email: console output unless EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Accountability <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: recorded in an outbox (admins see it) unless all three Twilio variables are set.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
SMS_BACKEND = env_str("SMS_BACKEND")  # dotted path overriding the choice above (tests)
# Email/SMS deliveries: attempts before a delivery is marked failed, first backoff in seconds.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)
NOTIFICATION_BACKOFF_SECONDS = env_int("NOTIFICATION_BACKOFF_SECONDS", 30)
# Chat (Slack/Teams incoming webhooks): seconds a post may take; whether http://127.0.0.1 hooks are
# accepted (a local fake server in development and tests; never in production).
CHAT_WEBHOOK_TIMEOUT = env_float("CHAT_WEBHOOK_TIMEOUT", 5.0)
CHAT_WEBHOOK_ALLOW_LOOPBACK = env_bool("CHAT_WEBHOOK_ALLOW_LOOPBACK", DEBUG)
# Private calendar feeds: fetches per token per minute (calendar apps poll every few hours).
CALENDAR_FEED_RATE_LIMIT = env_int("CALENDAR_FEED_RATE_LIMIT", 30)

# Follow-up SLAs (leads.sla): how far ahead the minute sweep records steps, and how old a breach
# may be when first found and still be notified (older ones are recorded without notices).
SLA_SWEEP_LOOKAHEAD_SECONDS = env_int("SLA_SWEEP_LOOKAHEAD_SECONDS", 60)
SLA_BACKFILL_HOURS = max(0.0, env_float("SLA_BACKFILL_HOURS", 24.0))

# Expectations: remind a person who has not acknowledged a version this many days after it was published.
EXPECTATIONS_ACK_REMINDER_DAYS = env_int("EXPECTATIONS_ACK_REMINDER_DAYS", 3)

# Celery: Redis in production and tests; kombu's filesystem transport when no broker is set,
# so the demo's reminders really flow through a worker without any server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
if CELERY_BROKER_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # else kombu writes ./control/ in the checkout
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes each entry's last_run_at after every task it sends (one small UPDATE a minute) instead of
# every 3 minutes: /healthz reads it, and otherwise showed the beat as "starting" for 3 minutes after a
# start and its last run up to 3 minutes old (found by tests/test_production_smoke.py).
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that goes away (Redis restart) is waited for, for ever, instead of the worker exiting: under
# `make run` honcho would stop web and beat with it, and nothing would send reminders.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# ...and does not crash on the way there when it held messages or ran tasks (accountability/broker.py).
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "accountability.broker:Transport"

# Three queues, so a burst of one kind of work never holds back another (issue 14, the Monday-morning
# wave: with one queue the sweep waited four minutes behind 26,000 email and SMS tasks, and its
# lateness turned into skipped notices). `sla-sweep`: the minute sweep, alone so it is never behind
# anything; `notices`: in-app SLA notice deliveries (seconds matter); `outbound`: email and SMS
# (slow providers, retries). Everything else stays on Celery's default queue `celery`.
# scripts/serve.sh starts `worker` on sla-sweep,notices,celery and `worker-outbound` on outbound.
# Declared here only: tasks and services name tasks, never queues.
CELERY_TASK_ROUTES = {
    "leads.sla.tasks.sla_sweep_task": {"queue": "sla-sweep"},
    "leads.sla.tasks.notice_deliver_task": {"queue": "notices"},
    "accountability.notifications.tasks.delivery_send": {"queue": "outbound"},
    "accountability.notifications.tasks.deliveries_send": {"queue": "outbound"},
    "accountability.tasks.invitation_send": {"queue": "outbound"},
}

# Every periodic schedule, in one place: accountability/schedules.py.
# SLA_SWEEP_SECONDS (default 60): how often beat sends the SLA sweep; read in schedules.py.
from accountability.schedules import BEAT_SCHEDULE as CELERY_BEAT_SCHEDULE  # noqa: E402, F401
from accountability.schedules import SLA_SWEEP_SECONDS  # noqa: E402

# Each sweep records the steps due before the next sweep and enqueues them with a countdown to their
# time (leads.sla.services.lookahead): at least the sweep interval, so a longer interval is not late.
SLA_SWEEP_LOOKAHEAD_SECONDS = max(60, SLA_SWEEP_SECONDS)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The intake API's schema (/api/v1/schema/) and documentation page (/api/v1/docs/): public like the
# API they describe (no token or source in them); Swagger UI from drf-spectacular-sidecar's static
# files, its start-up script a separate file (SpectacularSwaggerSplitView), so the strict CSP holds.
SPECTACULAR_SETTINGS = {
    "TITLE": "Accountability intake API",
    "DESCRIPTION": "Send leads from your website, ads or partner systems into a team's pipeline. "
    "Authenticate with your intake source's token: `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "APPEND_COMPONENTS": {"securitySchemes": {"intakeToken": {"type": "http", "scheme": "bearer"}}},
    "SECURITY": [{"intakeToken": []}],
    "COMPONENT_SPLIT_REQUEST": True,
}

# Cache: Redis (CACHE_URL, else the broker's REDIS_URL under its own key prefix), so the rate limits
# (accountability/ratelimit.py) count across every web process. Per-process memory only when there is
# no Redis at all (make run's no-setup default, one process); production refuses that.
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "acc-cache",
        }
    }
elif not DEBUG and not env_bool("ALLOW_PER_PROCESS_CACHE", False):
    raise ImproperlyConfigured(
        "CACHE_URL (or REDIS_URL) is required in production: rate limits and login throttles must be "
        "counted in a cache shared by every web process. Set ALLOW_PER_PROCESS_CACHE=1 only for a single process."
    )

# Leads: intake limits and the timeline's edit window.
LEADS_API_RATE_PER_MINUTE = env_int("LEADS_API_RATE_PER_MINUTE", 120)  # per intake source token
LEADS_WEB_FORM_RATE_PER_MINUTE = env_int("LEADS_WEB_FORM_RATE_PER_MINUTE", 5)  # per client IP
LEADS_API_MAX_BODY_BYTES = env_int("LEADS_API_MAX_BODY_BYTES", 64 * 1024)  # a lead is a few hundred bytes
# POST /api/v1/leads/batch/ (up to 500 leads): a larger body, still under DATA_UPLOAD_MAX_MEMORY_SIZE.
LEADS_API_BATCH_MAX_BODY_BYTES = env_int("LEADS_API_BATCH_MAX_BODY_BYTES", 2 * 1024 * 1024)
LEADS_ACTIVITY_EDIT_MINUTES = env_int("LEADS_ACTIVITY_EDIT_MINUTES", 10)
LEADS_IMPORT_MAX_BYTES = env_int("LEADS_IMPORT_MAX_BYTES", 2 * 1024 * 1024)
LEADS_IMPORT_MAX_ROWS = env_int("LEADS_IMPORT_MAX_ROWS", 5000)
# Imports and large exports run in the background (leads.jobs): rows per committed chunk (each
# chunk is one transaction holding the team's assignment lock, about a second for 100 rows), the
# lead-list export size above which the export becomes a job, how long a finished export's file
# is kept, when a job that stopped moving is sent again, and how many crashed runs it gets.
LEADS_IMPORT_CHUNK_ROWS = env_int("LEADS_IMPORT_CHUNK_ROWS", 100)
LEADS_EXPORT_SYNC_MAX_ROWS = env_int("LEADS_EXPORT_SYNC_MAX_ROWS", 5000)
LEADS_EXPORT_CHUNK_ROWS = env_int("LEADS_EXPORT_CHUNK_ROWS", 5000)
LEADS_EXPORT_KEEP_HOURS = env_int("LEADS_EXPORT_KEEP_HOURS", 24)
LEADS_JOB_STALE_SECONDS = env_int("LEADS_JOB_STALE_SECONDS", 120)
LEADS_JOB_MAX_ATTEMPTS = env_int("LEADS_JOB_MAX_ATTEMPTS", 3)
# A run gives its worker slot back after this long and queues the rest of the job (the SLA sweep
# shares the worker: make run's has one slot).
LEADS_JOB_SLICE_SECONDS = env_int("LEADS_JOB_SLICE_SECONDS", 20)
# The request header (Django META name, e.g. HTTP_X_REAL_IP) a trusted reverse proxy sets with
# the client's address; empty: REMOTE_ADDR. Used by per-IP rate limits.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")

# BENCH_PAGES=1 mounts the ceiling page of `manage.py bench_load` (leads/bench_views.py), which starts
# its gunicorn with it; off everywhere else.
BENCH_PAGES = env_bool("BENCH_PAGES", False)

# Logs: one JSON object a line in production (LOG_FORMAT=json, the default with DEBUG off), with
# request_id, user_id and duration_ms on request and task lines (accountability/logging.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            # pid: which gunicorn worker or Celery process wrote the line.
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The request middleware's line replaces Django's own "GET /x 200" lines of runserver.
        "accountability.request": {"level": env_str("REQUEST_LOG_LEVEL", "INFO")},
    },
}
# /healthz: the beat and the worker count as down when their last sign of life is older than this.
HEALTHZ_STALE_SECONDS = env_int("HEALTHZ_STALE_SECONDS", 300)
