"""A cache of a team's computed figures (and a page's rows), shared by every reader of the team.

The department dashboard (100 reps) costs about 80 ms of SQL and Python per request even with the
closed days cached (leads.metrics.closedcache): today's raw figures, the neglected counts and 100
rows to write. Its figures depend only on the team set, the period, the zone and the data, never
on who reads them (a rep's manager and the head of sales see the same numbers). So the page's
figures (`team_figures`: the rep cards, the team total and the sub-teams' totals, the same entry
for the team dashboard and the review dashboard) and the dashboard's written rows are kept in
Django's cache (Redis, shared by the web processes) under
a key of:

- the team set, its reps (id, name, team: the rows' labels) and the period and zone;
- a **data version** read with one query of three index-only look-ups: the latest
  `Lead.updated_at` (every write of a lead through the services saves it: a new lead, a stage
  change, a reassignment, a first contact), the latest timeline entry id (an activity logged) and
  the latest follow-up id (a follow-up set);
- the rollup version (leads.metrics.closedcache: any rollup build);
- the current minute, so that what time alone changes (a follow-up falling overdue, a lead
  becoming neglected, today's running period) rolls over at the next minute at the latest.

The review dashboard keeps its whole row set here too (reviews.dashboard.cached_dashboard), also
keyed by the write counters of the tables its rows read (accountability.dataversion).

A repeated view costs the data-version query, the team and reps queries it already ran and one
cache read. What this does not see within the minute: a write that changes none of the three
(an activity's text edited; a queryset `update()` outside the services), and a transaction that
commits after a later one has been read (the version moved past it): both show at the next minute.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from leads.metrics import closedcache
from leads.metrics.neglect import neglect_silent_days, neglect_untouched_hours

FORMAT = 1
TIMEOUT = 120  # an entry is keyed by its minute: it is never read after the next one


def data_version() -> tuple:
    """(latest lead update, latest timeline entry id, latest follow-up id): one query, each an
    index-only look-up (lead_updated and the primary keys)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT MAX(updated_at) FROM leads_lead), (SELECT MAX(id) FROM leads_activity),"
            " (SELECT MAX(id) FROM leads_followup)"
        )
        return tuple(cursor.fetchone())


# The version read by the entry being filled: an entry filled inside another (the dashboard's rows
# around the team's figures) is keyed by the same reading, without a second query.
_filling: ContextVar[tuple | None] = ContextVar("pagecache_filling", default=None)


def cached(kind: str, parts, fill, *, rollup: bool = True):
    """The entry for `kind` and `parts` at the current data, rollup version and minute; computed
    by `fill()` at most once per such key. `rollup=False`: an entry that reads no rollup row (the
    neglected report) is keyed without the rollup version (one cache read less)."""
    current = _filling.get()
    if current is None:
        minute = timezone.now().replace(second=0, microsecond=0)
        current = (data_version(), closedcache.version()[0] if rollup else None, minute.isoformat())
    digest = hashlib.sha256(repr((FORMAT, kind, parts, current)).encode()).hexdigest()
    key = f"leads:page:{kind}:{digest}"
    entry = cache.get(key)
    if entry is None:
        reset = _filling.set(current)
        try:
            entry = fill()
        finally:
            _filling.reset(reset)
        cache.set(key, entry, TIMEOUT)
    return entry


def team_figures(*, period, team_ids, reps, groups, compute) -> tuple:
    """(cards by rep id, team total, totals by sub-team id or {}) of a team, cached: `compute()`
    returns them. `groups` (leads.reports.selectors.SubTeamGroups or None) gives the sub-teams'
    trees and members. Keyed by everything they depend on besides the data."""
    sub = ()
    if groups is not None and groups.sub_teams:
        sub = tuple(
            (child.pk, tuple(sorted(groups.trees[child.pk])), tuple(sorted(groups.members[child.pk])))
            for child in groups.sub_teams
        )
    parts = (
        tuple(sorted(team_ids)),
        tuple(r.pk for r in reps),
        period.start.isoformat(),
        period.end.isoformat(),
        str(period.start.tzinfo),
        sub,
        neglect_untouched_hours(),
        neglect_silent_days(),
    )
    return cached("team_figures", parts, compute)
