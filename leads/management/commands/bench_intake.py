"""Leads per second through the intake API, in-process (Django's test client, no network).

Creates a throw-away team, reps and intake source, posts N leads a few times, prints the
median rate, and removes what it created. Run it against a real PostgreSQL database.
"""

import json
import statistics
import time
import uuid

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from accountability.models import Membership, Team, User
from leads.models import Activity, FollowUp, IdempotencyKey, IntakeSource, Lead, TeamIntakeSettings
from leads.services import hash_token


class Command(BaseCommand):
    help = "Post N leads through POST /api/v1/leads/ in-process and print leads/second (median of runs)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=200)
        parser.add_argument("--runs", type=int, default=3)

    def handle(self, *args, leads: int, runs: int, **options):
        tag = uuid.uuid4().hex[:8]
        with transaction.atomic():
            team = Team.objects.create(name=f"bench-intake-{tag}")
            reps = [User.objects.create(username=f"bench-{tag}-{i}", role=User.Role.REP) for i in range(5)]
            Membership.objects.bulk_create([Membership(user=u, team=team) for u in reps])
            token = f"acc_bench_{tag}"
            source = IntakeSource.objects.create(
                name=f"bench-{tag}", slug=f"bench-{tag}", team=team, token_hash=hash_token(token), token_prefix="bench"
            )
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        rates = []
        try:
            with override_settings(LEADS_API_RATE_PER_MINUTE=10**9, ALLOWED_HOSTS=["*"]):
                for run in range(runs):
                    start = time.perf_counter()
                    for i in range(leads):
                        body = {"name": f"Bench {run}-{i}", "email": f"b{run}-{i}-{tag}@example.com", "value": 100}
                        response = client.post(
                            "/api/v1/leads/",
                            data=json.dumps(body),
                            content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY=f"{tag}-{run}-{i}",
                        )
                        if response.status_code != 201:
                            raise RuntimeError(f"API answered {response.status_code}: {response.content[:200]!r}")
                    elapsed = time.perf_counter() - start
                    rates.append(leads / elapsed)
                    self.stdout.write(f"run {run + 1}: {leads} leads in {elapsed:.2f}s = {leads / elapsed:.0f} leads/s")
        finally:
            with transaction.atomic():
                lead_ids = Lead.objects.filter(team=team).values_list("id", flat=True)
                IdempotencyKey.objects.filter(source=source).delete()
                FollowUp.objects.filter(lead_id__in=lead_ids).delete()
                Activity.objects.filter(lead_id__in=lead_ids).delete()
                Lead.objects.filter(team=team).delete()
                source.delete()
                TeamIntakeSettings.objects.filter(team=team).delete()
                Membership.objects.filter(team=team).delete()
                User.objects.filter(pk__in=[u.pk for u in reps]).delete()
                team.delete()
        self.stdout.write(f"median: {statistics.median(rates):.0f} leads/second over {runs} runs of {leads}")
