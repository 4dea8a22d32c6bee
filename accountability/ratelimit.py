"""Fixed-window rate limits counted in Django's cache: the intake web form (per client address),
the intake API (per source), failed logins (per address) and password resets (per address and per
email).

The cache is Redis whenever the app runs with a broker (settings: CACHE_URL, else REDIS_URL), so
every web process counts into the same atomic counter (`INCR` on one key per window); production
settings refuse to start without a shared cache. An extra request at a window edge, or a count
lost when Redis restarts, harms nobody.
"""

import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def client_ip(request) -> str:
    """The client's address. Behind a reverse proxy REMOTE_ADDR is the proxy; CLIENT_IP_HEADER
    (e.g. HTTP_X_REAL_IP) names the header that proxy sets. Off by default: a client could forge it."""
    header = settings.CLIENT_IP_HEADER
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _key(scope: str, ident: str, window: int, now: int) -> str:
    return f"rl:{scope}:{ident}:{now // window}"


def hit(scope: str, ident: str, *, limit: int, window: int = 60) -> tuple[bool, int]:
    """Count one request; return (allowed, seconds until the window resets)."""
    now = int(time.time())
    key = _key(scope, ident, window, now)
    retry_after = window - (now % window)
    backend = caches["default"]
    if isinstance(backend, RedisCache):  # one round trip (Django's add + incr take three)
        redis_key = backend.make_and_validate_key(key)
        pipe = backend._cache.get_client(redis_key, write=True).pipeline()
        pipe.set(redis_key, 0, ex=window + 5, nx=True)
        pipe.incr(redis_key)
        _created, count = pipe.execute()
        return count <= limit, retry_after
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return count <= limit, retry_after


def exceeded(scope: str, ident: str, *, limit: int, window: int = 60) -> tuple[bool, int]:
    """Whether the window already holds `limit` hits, without counting one; and the seconds left."""
    now = int(time.time())
    count = cache.get(_key(scope, ident, window, now)) or 0
    return count >= limit, window - (now % window)
