"""Recompute the daily rollup (leads.models.RepDay, TeamDay) for a range of days.

    python manage.py rollup_rebuild --start 2026-09-01 --end 2026-11-30

Days are local to each person's and team's zone; a day not yet over is never rolled up. Safe to
run at any time and as often as wanted: each row is recomputed from the raw rows and upserted.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leads.rollup import rollup_build


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Recompute the daily rollup of every person and team for a range of days (default: the last 90)."

    def add_arguments(self, parser):
        parser.add_argument("--start", type=_date, help="First day (YYYY-MM-DD); default 90 days ago.")
        parser.add_argument("--end", type=_date, help="Last day (YYYY-MM-DD); default yesterday.")

    def handle(self, *args, start=None, end=None, **options):
        today = timezone.now().date()
        end = end or today - timedelta(days=1)
        start = start or end - timedelta(days=89)
        if end < start:
            raise CommandError("--end is before --start.")
        result = rollup_build(start=start, end=end)
        self.stdout.write(
            f"Rolled up {start} to {end}: {result.rep_rows:,} person-days and {result.team_rows:,} team-days."
        )
