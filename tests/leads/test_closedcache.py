"""The cache of the rollup's closed days: exact percentiles from cached ranks, and invalidation."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from leads.metrics import Period, closedcache, rep_scorecards
from leads.metrics.queries import percentile
from leads.models import RepDay
from leads.rollup import rollup_build
from tests.leads.factories_metrics import received_lead


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentiles_from_cached_ranks_equal_percentile_cont_over_everything(seed):
    rng = random.Random(seed)
    decided = 0
    for _ in range(3000):
        n = rng.choice([0, 1, 2, 7, 100, 900, 5000])
        closed_days = sorted(round(rng.expovariate(0.01), 1) for _ in range(n))
        m = rng.choice([0, 1, 5, 60, 400, 3000])
        where = rng.choice(["below", "above", "among", "ties"])
        if where == "below":
            today = [rng.uniform(-50, 0) for _ in range(m)]
        elif where == "above":
            today = [rng.uniform(5000, 9000) for _ in range(m)]
        elif where == "ties" and closed_days:
            today = [rng.choice(closed_days) for _ in range(m)]
        else:
            today = [round(rng.expovariate(0.01), 1) for _ in range(m)]
        today.sort()
        ranked = closedcache.Ranked.of(closed_days)
        for fraction in closedcache.FRACTIONS:
            expected = percentile(sorted(closed_days + today), fraction)
            try:
                got = closedcache.union_percentile(ranked, today, fraction)
            except closedcache.Miss:
                # Only when today's values outnumber the cached window: the caller asks SQL.
                assert m > closedcache.window_width(n)  # 4 days: Ranked.of's default
                continue
            decided += 1
            assert got == expected, (n, m, where, fraction)
    assert decided > 1000


NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def test_a_rollup_build_invalidates_what_was_cached(org):
    alice = org["alice"]
    for days in range(1, 20):
        received_lead(alice, arrived_at=NOW - timedelta(days=days), contacted_after=timedelta(minutes=days))
    rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    period = Period.last_days(30, tz="UTC", now=NOW)
    before = rep_scorecards(period=period, users=[alice], now=NOW)[alice.pk]
    assert before.leads_received == 19
    # A late contact re-rolled by the nightly build: the next read sees the new rows at once.
    received_lead(alice, arrived_at=NOW - timedelta(days=3, hours=2), contacted_after=timedelta(hours=5))
    assert rep_scorecards(period=period, users=[alice], now=NOW)[alice.pk] == before  # cached until a build
    rollup_build(start=date(2026, 11, 1), end=date(2026, 11, 30), now=NOW)
    after = rep_scorecards(period=period, users=[alice], now=NOW)[alice.pk]
    assert after.leads_received == 20
    assert after.speed_to_lead_wall_p90 != before.speed_to_lead_wall_p90
    assert RepDay.objects.filter(user=alice).exists()


def test_a_lost_version_is_found_again_from_the_rows(org):
    received_lead(org["alice"], arrived_at=NOW - timedelta(days=2), contacted_after=timedelta(minutes=5))
    rollup_build(start=date(2026, 11, 1), end=date(2026, 11, 30), now=NOW)
    from django.core.cache import cache

    cache.delete(closedcache.VERSION_KEY)
    token, built = closedcache.version()
    assert built == NOW and token
    assert closedcache.version() == (token, built)


def test_when_the_cached_ranks_cannot_decide_sql_answers_the_same(org, monkeypatch):
    alice = org["alice"]
    for i in range(30):
        # Closed days, and today (NOW's day) with more values than a window of one rank.
        arrived = NOW - timedelta(days=i % 10, minutes=7 * i) if i % 3 else NOW - timedelta(hours=1 + i % 5)
        received_lead(alice, arrived_at=arrived, contacted_after=timedelta(minutes=3 + 11 * i % 97))
    period = Period.last_days(30, tz="UTC", now=NOW)
    raw = rep_scorecards(period=period, users=[alice], now=NOW)
    rollup_build(start=date(2026, 10, 1), end=date(2026, 11, 30), now=NOW)
    monkeypatch.setattr(closedcache, "MIN_WINDOW", 0)
    monkeypatch.setattr(closedcache, "DAYS_OF_MARGIN", 0)
    misses = []
    real = closedcache.union_percentile

    def spy(*args):
        try:
            return real(*args)
        except closedcache.Miss:
            misses.append(args)
            raise

    monkeypatch.setattr(closedcache, "union_percentile", spy)
    assert rep_scorecards(period=period, users=[alice], now=NOW) == raw
    assert misses  # the figures came from the SQL fallback
