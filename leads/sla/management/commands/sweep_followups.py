import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leads.sla.services import sla_sweep


class Command(BaseCommand):
    help = (
        "Run the follow-up SLA sweep once: exactly what beat runs every minute. Records due events and "
        "notices, enqueues their delivery, and prints what it created."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Pretend it is this moment (ISO-8601, e.g. 2026-11-23T09:15:00-05:00).")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be created; write nothing.")

    def handle(self, *args, now=None, dry_run=False, **options):
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None:
                try:
                    moment = dt.datetime.fromisoformat(now)
                except ValueError:
                    raise CommandError(f"--now must be an ISO-8601 date and time, got {now!r}.") from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        result = sla_sweep(now=moment, dry_run=dry_run)
        for line in result.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written or sent."))
