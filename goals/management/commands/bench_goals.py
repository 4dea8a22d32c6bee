"""Server time of the team goals board for a team of N reps (default 50), in-process.

Builds (once, reused on later runs) a team "Bench goals N" whose reps each have a calls goal,
a leads-contacted goal and a manual goal with check-ins, plus a team goal, over leads and
activities for the current month; then requests the board repeatedly as the team's manager
and prints the median and 95th percentile. Run it on a dedicated PostgreSQL database:

    createdb -h 127.0.0.1 -U postgres acc_goals_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_goals_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_goals_bench python manage.py bench_goals
"""

import datetime as dt
import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accountability.models import Membership, Team, User
from goals import services
from goals.forms import preset_end
from goals.models import Goal
from leads.models import Activity, Lead


class Command(BaseCommand):
    help = "Print median and p95 server time of the goals board for a team of N reps (default 50)."

    def add_arguments(self, parser):
        parser.add_argument("--reps", type=int, default=50)
        parser.add_argument("--requests", type=int, default=60)
        parser.add_argument("--leads-per-rep", type=int, default=20)

    def handle(self, *args, reps: int, requests: int, leads_per_rep: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run the benchmark on PostgreSQL (set DATABASE_URL).")
        manager, team = self._build(reps, leads_per_rep)
        client = Client()
        client.force_login(manager)
        url = f"/goals/board/?team={team.pk}"
        times = []
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        # (Django resets its query log at each request start, so count with a wrapper instead.)
        with override_settings(ALLOWED_HOSTS=["*"]), connection.execute_wrapper(count):
            response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"The board answered {response.status_code}.")
        with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
            for _ in range(requests):
                start = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        goals = Goal.objects.filter(owner__memberships__team=team).count() + Goal.objects.filter(team=team).count()
        self.stdout.write(
            f"board for {reps} reps, {goals} goals, {len(queries)} queries: "
            f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms over {requests} requests"
        )

    @transaction.atomic
    def _build(self, reps: int, leads_per_rep: int):
        name = f"Bench goals {reps}"
        team = Team.objects.filter(name=name).first()
        if team is not None:
            return team.manager, team
        manager = User.objects.create(username=f"bench-goals-{reps}-manager", role=User.Role.MANAGER)
        team = Team.objects.create(name=name, manager=manager)
        users = [User.objects.create(username=f"bench-goals-{reps}-rep{i}", role=User.Role.REP) for i in range(reps)]
        Membership.objects.bulk_create([Membership(user=u, team=team) for u in users])
        today = timezone.localdate()
        month_start = today.replace(day=1)
        month_end = preset_end(month_start, Goal.Preset.MONTHLY)
        tz = timezone.get_default_timezone()
        span = max((timezone.now() - dt.datetime.combine(month_start, dt.time.min, tzinfo=tz)).total_seconds(), 3600)
        leads, activities = [], []
        for i, user in enumerate(users):
            for j in range(leads_per_rep):
                at = dt.datetime.combine(month_start, dt.time.min, tzinfo=tz) + dt.timedelta(
                    seconds=span * (j + 0.5) / (leads_per_rep + 1)
                )
                leads.append(Lead(name=f"Bench {i}-{j}", team=team, owner=user, arrived_at=at, assigned_at=at))
        Lead.objects.bulk_create(leads)
        for lead in leads:
            activities.append(
                Activity(
                    lead=lead,
                    kind="assigned",
                    data={"from_owner": None, "to_owner": lead.owner_id},
                    occurred_at=lead.arrived_at,
                )
            )
            for k in range(3):
                activities.append(
                    Activity(
                        lead=lead,
                        kind="call",
                        actor_id=lead.owner_id,
                        outcome="connected",
                        occurred_at=lead.arrived_at + dt.timedelta(minutes=15 * (k + 1)),
                    )
                )
        Activity.objects.bulk_create(activities)
        Lead.objects.filter(team=team).update(first_contacted_at=timezone.now())

        def fields(title, metric, unit, target, direction="up"):
            return {
                "title": title,
                "description": title,
                "metric": metric,
                "unit": unit,
                "target": Decimal(target),
                "direction": direction,
                "reason": "Benchmark",
                "preset": Goal.Preset.MONTHLY,
                "start_date": month_start,
                "end_date": month_end,
            }

        for user in users:
            services.goal_assign(actor=manager, owner=user, **fields("Calls", "calls", "", 120))
            services.goal_assign(actor=manager, owner=user, **fields("Contacted", "leads_contacted", "", 25))
            manual = services.goal_assign(actor=manager, owner=user, **fields("Demos", "manual", "demos", 10))
            services.goal_check_in(actor=user, goal=manual, value=3)
        services.goal_assign(actor=manager, team=team, **fields("Team calls", "calls", "", 120 * reps))
        return manager, team
