"""Test settings: the real settings module, with the environment a test run needs.

Tests run against PostgreSQL and Redis (`make test` checks both are up first).
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/accountability")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("AXES_ENABLED", "1")

from accountability.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test process counts rate limits in its own memory (tests clear it); the shared Redis cache is
# exercised on purpose in tests/accountability/test_ratelimit.py and the production smoke test.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
