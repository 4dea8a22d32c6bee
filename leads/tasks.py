"""Thin Celery wrappers for leads. Schedules: accountability/schedules.py (leads block)."""

from celery import shared_task

from leads import rollup


@shared_task(acks_late=True)
def rollup_refresh_task() -> int:
    """Roll up the day just ended (and re-roll closed days whose rows changed since the last run).
    At-least-once is safe: every row is recomputed from the raw rows and upserted under its unique
    (person, day) / (team, day) key, so a second run writes the same rows."""
    result = rollup.rollup_refresh()
    return result.rep_rows + result.team_rows
