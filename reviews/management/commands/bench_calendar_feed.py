"""Time one person's private calendar feed (PostgreSQL only, on a database whose name has "bench").

    createdb -h 127.0.0.1 -U postgres acc_calendar_bench
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_calendar_bench python manage.py migrate
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_calendar_bench python manage.py bench_calendar_feed

Builds (once) a rep with `--follow-ups` open follow-ups and a weekly 1:1 for the next half year,
then fetches their feed through Django's test client as a calendar app does: N full fetches
(200, the whole document) and N revalidations with the ETag (304). Prints median and 95th
percentile milliseconds, the document's size and the query count of each.
"""

import datetime as dt
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from accountability.models import Membership, Team, User
from accountability.services import calendar_feed_token_get_or_create
from leads.models import FollowUp, Lead
from reviews.models import Meeting, OneOnOneSeries


def _percentiles(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


class Command(BaseCommand):
    help = "Print the time to serve one person's calendar feed (full and 304)."

    def add_arguments(self, parser):
        parser.add_argument("-n", "--runs", type=int, default=30)
        parser.add_argument("--follow-ups", type=int, default=300)

    def handle(self, *args, runs=30, follow_ups=300, **options):
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("Run on a dedicated PostgreSQL database whose name contains 'bench'.")
        rep = self.build(follow_ups)
        url = f"/calendar/feed/{calendar_feed_token_get_or_create(user=rep).token}.ics"
        client = Client(HTTP_HOST="127.0.0.1")
        with override_settings(CALENDAR_FEED_RATE_LIMIT=10**9):
            client.get(url)  # warm-up
            for label, headers in (("full", {}), ("304", None)):
                if headers is None:
                    headers = {"HTTP_IF_NONE_MATCH": client.get(url)["ETag"]}
                queries: list[str] = []

                def count(execute, sql, params, many, context, queries=queries):
                    queries.append(sql)
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(count):
                    response = client.get(url, **headers)
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    client.get(url, **headers)
                    times.append((time.perf_counter() - t0) * 1000)
                size = len(response.content)
                self.stdout.write(
                    f"{label}: {response.status_code}, {size:,} bytes, {len(queries)} queries: "
                    f"{_percentiles(times)} over {runs} runs"
                )

    def build(self, follow_ups: int) -> User:
        rep, created = User.objects.get_or_create(username="bench_cal_rep", defaults={"first_name": "Bench"})
        if not created and FollowUp.objects.filter(owner=rep).count() == follow_ups:
            return rep
        manager, _ = User.objects.get_or_create(username="bench_cal_mgr", defaults={"role": User.Role.MANAGER})
        team, _ = Team.objects.get_or_create(name="Bench calendar", defaults={"manager": manager})
        Membership.objects.get_or_create(user=rep, team=team)
        FollowUp.objects.filter(owner=rep).delete()
        Lead.objects.filter(owner=rep).delete()
        now = timezone.now()
        leads = Lead.objects.bulk_create(
            Lead(name=f"Lead {i}, Inc; bench", team=team, owner=rep, arrived_at=now) for i in range(follow_ups)
        )
        FollowUp.objects.bulk_create(
            FollowUp(lead=lead, owner=rep, due_at=now + dt.timedelta(hours=i + 1)) for i, lead in enumerate(leads)
        )
        series, _ = OneOnOneSeries.objects.get_or_create(
            manager=manager, rep=rep, team=team, defaults={"weekday": 3, "time": dt.time(10)}
        )
        for week in range(26):
            at = (now + dt.timedelta(weeks=week)).replace(minute=0, second=0, microsecond=0)
            Meeting.objects.get_or_create(series=series, scheduled_at=at, defaults={"since": at})
        self.stdout.write(f"Built {follow_ups} follow-ups and 26 1:1s for {rep.username}.")
        return rep
