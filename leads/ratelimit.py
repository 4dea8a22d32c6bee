"""A fixed-window rate limit in Django's cache (per IP for the web form, per source for the API).

Counting in the cache is enough here: an occasional extra request at a window edge, or a
lost count when the cache restarts, harms nobody. Configure a shared cache (CACHE_URL) when
running several web processes, or each process counts on its own.
"""

import time

from django.core.cache import cache


def hit(scope: str, ident: str, *, limit: int, window: int = 60) -> tuple[bool, int]:
    """Count one request; return (allowed, seconds until the window resets)."""
    now = int(time.time())
    bucket = now // window
    key = f"rl:{scope}:{ident}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    retry_after = window - (now % window)
    return count <= limit, retry_after
