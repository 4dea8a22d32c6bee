"""A cache of what the daily rollup says about closed days, and exact percentiles merged from it.

The rollup's rows (leads.models.RepDay / TeamDay) change only when leads.rollup writes them (the
nightly run, `rollup_rebuild`). Everything leads.metrics derives from them alone (the sums of a
period's closed days, the interval they cover, the ranked minute values behind the speed-to-lead
percentiles, the weekly trends) is kept in Django's cache (Redis in production, shared by every
web process) under a *rollup version*: leads.rollup calls `bump()` whenever it writes rows, so a
new build is never read through an old entry. Only the raw remainder (today, mostly) is read on
each request.

Rows never end after the moment they were built (a running day is never rolled up), so the rows
a period takes (those ending by min(period end, now)) are the same for every `now` after the
latest build: the version records that moment (`built`), and an entry is keyed by the period and,
only for a period that ends before it, by that end.

Percentiles stay exact. A median or 90th percentile over the closed days' values plus today's is
an order statistic of the union of two sorted lists; the cache keeps, per key, the count of the
closed days' values and the ranked values around each percentile's rank (`window_width`: three
days' worth, 64 to 20,000 ranks each side), which decide it as long as the remainder holds fewer
values than the window is wide. `union_percentile` raises `Miss` otherwise, and the caller reads the exact
figure from SQL instead (leads.metrics.rollup._speed_union).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

VERSION_KEY = "leads:rollup:version"
# Bump when the shape of a cached entry changes (a deploy then never reads an older shape).
FORMAT = 2
# Entries outlive a night's build by a margin; the version makes older ones unreachable anyway.
TIMEOUT = 36 * 3600
FRACTIONS = (0.5, 0.9)
# Ranks kept each side of a percentile's: three days' worth of the closed days' values (what
# today, and a period's edges, can add), at least 64, at most 20,000 (beyond, SQL answers).
MIN_WINDOW = 64
MAX_WINDOW = 20_000
DAYS_OF_MARGIN = 3


def window_width(n: int, days: int = 4) -> int:
    """Ranks kept each side for `n` values over `days` closed days."""
    return min(max(MIN_WINDOW, math.ceil(DAYS_OF_MARGIN * n / max(days, 1))), MAX_WINDOW)


class Miss(Exception):
    """The cached ranks do not decide this percentile (a large remainder): read it from SQL."""


def _latest_build() -> datetime | None:
    """The latest moment any rollup row was built at (one query, only when the cache lost the
    version). Portable SQL (no GREATEST): `make run`'s SQLite reads it too, as a string there."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT MAX(computed_at) FROM leads_repday), (SELECT MAX(computed_at) FROM leads_teamday)"
        )
        built = [_aware(value) for value in cursor.fetchone() if value is not None]
    return max(built, default=None)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite's raw cursor returns the stored text
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _process_local() -> bool:
    """A cache only this process sees (make run without Redis): a build in another process (the
    worker) cannot bump it, so the version is read from the rows again every minute."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return "locmem" in backend or "dummy" in backend


def version() -> tuple[str, datetime | None]:
    """(token, built): the current rollup version and the latest moment a row was built at.
    One cache read; when the cache lost it, one small query finds it again from the rows (the
    same token while no build ran since, so entries cached meanwhile stay valid)."""
    current = cache.get(VERSION_KEY)
    if current is None:
        built = _latest_build()
        current = (f"rows-{built.isoformat() if built else 'none'}", built)
        # add(): never overwrite a version a concurrent build has just set.
        if not cache.add(VERSION_KEY, current, 60 if _process_local() else None):
            current = cache.get(VERSION_KEY) or current
    return current


def bump(built: datetime) -> None:
    """leads.rollup wrote rows built at `built`: every entry read before is unreachable now."""
    previous = cache.get(VERSION_KEY)
    if previous is not None and previous[1] is not None and previous[1] > built:
        built = previous[1]
    cache.set(VERSION_KEY, (uuid.uuid4().hex, built), 60 if _process_local() else None)


def cached(
    kind: str,
    parts: Sequence,
    fill: Callable[[], object],
    *,
    period_end: datetime | None = None,
    cutoff: datetime | None = None,
):
    """The entry for `kind` and `parts` under the current version, computed by `fill()` once.

    `cutoff` is min(period end, now): it is part of the key only when it falls before the latest
    build (a period ending in the past); after it, every existing row qualifies whatever `now` is.
    Without one, `fill` reads rows by day only (the trends)."""
    token, built = version()
    marker = cutoff.isoformat() if cutoff is not None and built is not None and cutoff < built else "all"
    end = period_end.isoformat() if period_end is not None else ""
    digest = hashlib.sha256(repr((FORMAT, kind, tuple(parts), end, marker)).encode()).hexdigest()
    key = f"leads:rollup:{token}:{kind}:{digest}"
    entry = cache.get(key)
    if entry is None:
        entry = fill()
        cache.set(key, entry, TIMEOUT)
    return entry


# --- Exact percentiles from ranked windows -----------------------------------------------------


@dataclass
class Ranked:
    """The sorted values of a set (its count `n`), kept only around the percentiles' ranks:
    `parts` are (first rank, values from that rank on) windows, in rank order."""

    n: int
    parts: list[tuple[int, array]]

    @classmethod
    def of(cls, ordered: Sequence[float], days: int = 4) -> Ranked:
        """The windows of `ordered` (sorted) values of `days` closed days."""
        n = len(ordered)
        spans: list[list[int]] = []
        width = window_width(n, days)
        for fraction in FRACTIONS:
            position = fraction * (n - 1) if n else 0
            lo, hi = max(0, math.floor(position) - width), min(n, math.ceil(position) + width + 1)
            if spans and lo <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], hi)
            else:
                spans.append([lo, hi])
        return cls(n, [(lo, array("d", ordered[lo:hi])) for lo, hi in spans if hi > lo])

    def kth(self, k: int, extra: Sequence[float]) -> float:
        """The k-th smallest (0-based) of these values and the sorted `extra` together."""
        for lo, window in self.parts:
            hi = lo + len(window)
            below = bisect_left(extra, window[0]) if lo > 0 else 0
            rest = extra[below:]
            index = k - lo - below
            # The window decides rank k when everything under it lies below the answer (the ranks
            # before `lo`, and the extra values below its first) and, unless it runs to the last
            # rank, the answer is one of the window's own ranks' worth of positions.
            limit = len(window) if hi < self.n else len(window) + len(rest)
            if 0 <= index < limit:
                return _kth_of_two(window, rest, index)
        raise Miss


def _kth_of_two(a: Sequence[float], b: Sequence[float], k: int) -> float:
    """The k-th smallest (0-based) of two sorted sequences, by bisection on how many come from a."""
    lo, hi = max(0, k + 1 - len(b)), min(k + 1, len(a))
    while lo < hi:
        i = (lo + hi) // 2
        j = k + 1 - i
        if j > 0 and a[i] < b[j - 1]:
            lo = i + 1
        else:
            hi = i
    i, j = lo, k + 1 - lo
    candidates = ([a[i - 1]] if i > 0 else []) + ([b[j - 1]] if j > 0 else [])
    return max(candidates)


def union_percentile(ranked: Ranked | None, extra: Sequence[float], fraction: float) -> float | None:
    """percentile_cont(fraction) over the ranked values and `extra` (sorted), exactly as
    PostgreSQL computes it (linear interpolation between the two nearest ranks)."""
    n_ranked = ranked.n if ranked is not None else 0
    n = n_ranked + len(extra)
    if n == 0:
        return None
    position = fraction * (n - 1)
    low, high = math.floor(position), math.ceil(position)
    if ranked is None or n_ranked == 0:
        first, second = extra[low], extra[high]
    else:
        first, second = ranked.kth(low, extra), ranked.kth(high, extra)
    return first + (second - first) * (position - low)
