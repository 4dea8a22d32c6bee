"""Time and queries of one bulk action (leads.bulk_services) at a few selection sizes.

Creates a throw-away team (a manager, two reps) and N never-contacted leads, reassigns them all
from one rep to the other (each lead's SLA clock handed over), then moves them all to Lost, and
prints milliseconds and SQL queries per action. Everything runs in one transaction that is
rolled back at the end: nothing is left behind and no notice is ever sent.
"""

import time
import uuid

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accountability.models import Membership, Team, User
from leads.bulk_services import leads_bulk_reassign, leads_bulk_stage_change
from leads.models import Lead


class Command(BaseCommand):
    help = "Print time and SQL queries of a bulk reassignment and a bulk stage change at several sizes."

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default="10,50,100", help="Selection sizes, comma-separated.")

    def handle(self, *args, sizes: str, **options):
        for size in [int(s) for s in sizes.split(",")]:
            with transaction.atomic():
                self._one(size)
                transaction.set_rollback(True)

    def _one(self, size: int) -> None:
        tag = uuid.uuid4().hex[:8]
        manager = User.objects.create(username=f"bench-bulk-m-{tag}", first_name="Bench", role=User.Role.MANAGER)
        team = Team.objects.create(name=f"bench-bulk-{tag}", manager=manager)
        reps = [User.objects.create(username=f"bench-bulk-{tag}-{i}", role=User.Role.REP) for i in range(2)]
        Membership.objects.bulk_create([Membership(user=u, team=team) for u in reps])
        leads = Lead.objects.bulk_create(
            [Lead(name=f"Bench {i}", email=f"b{i}-{tag}@example.com", team=team, owner=reps[0]) for i in range(size)]
        )
        leads = list(Lead.objects.filter(pk__in=[x.pk for x in leads]).select_related("owner", "team"))
        for label, act in (
            ("reassign", lambda: leads_bulk_reassign(actor=manager, leads=leads, to_owner=reps[1], reason="Bench")),
            ("to Lost", lambda: leads_bulk_stage_change(actor=manager, leads=leads, stage="lost", lost_reason="Bench")),
        ):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                result = act()
                elapsed = time.perf_counter() - start
            assert len(result.changed) == size
            self.stdout.write(
                f"{label:>8} {size:>4} leads: {elapsed * 1000:7.0f} ms, {len(queries):>5} queries "
                f"({len(queries) / size:.1f} per lead)"
            )
