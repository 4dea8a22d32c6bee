"""Benchmark the leads pages and the metrics on a realistic volume (PostgreSQL only).

    createdb -h 127.0.0.1 -U postgres acc_bench
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_bench python manage.py bench_leads

Builds 100 reps in 10 teams (under one head of sales), 100,000 leads over 90 days and
1,000,000 timeline entries plus their follow-ups with set-based SQL (INSERT ... SELECT
generate_series: a few minutes on 2 cores instead of hours of ORM saves), ANALYZEs, then
times each page server-side through Django's test Client (logged in; N requests after a
warm-up) and prints median and 95th percentile milliseconds.

It deletes and rebuilds every lead, so it refuses to run on a database whose name does not
contain "bench". `--reuse` skips the build when the bench data is already there.
"""

import contextlib
import logging
import os
import statistics
import time
import uuid
from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accountability.models import Membership, Team, User
from leads.metrics import Metric, Period, closedcache, metric_value, pagecache, rep_scorecards, total_scorecard
from leads.models import Lead, RepDay
from leads.rollup import rollup_build

TEAMS = 10
REPS_PER_TEAM = 10
LEADS = 100_000
ACTIVITIES = 1_000_000
PREFIX = "bench_"
# The 500-rep organisation: DEPARTMENTS departments of TEAMS teams of REPS_PER_TEAM reps under
# one company root. Department 0 is "Bench Sales" (bench_head, 100 reps), as before; leads and
# timeline entries scale with the number of reps (--departments 1 builds the old 100-rep case).
DEPARTMENTS = 5


class Command(BaseCommand):
    help = "Build 100 reps, 100k leads and 1M activities in a dedicated PostgreSQL database and time the pages."

    def add_arguments(self, parser):
        parser.add_argument("--reuse", action="store_true", help="Keep the bench data when it is already built.")
        parser.add_argument("-n", "--requests", type=int, default=30, help="Timed requests per page (default 30).")
        parser.add_argument("--leads", type=int, default=LEADS)
        parser.add_argument("--activities", type=int, default=ACTIVITIES)
        parser.add_argument("--build-only", action="store_true", help="Build the data and stop (no timing).")
        parser.add_argument("--only", default="", help="Time only the cases whose label contains this text.")
        parser.add_argument(
            "--departments",
            type=int,
            default=DEPARTMENTS,
            help=f"Departments of {TEAMS * REPS_PER_TEAM} reps (default {DEPARTMENTS}: 500 reps); "
            "--leads and --activities are per department.",
        )

    def handle(
        self, *args, reuse=False, requests=30, leads=LEADS, activities=ACTIVITIES, departments=DEPARTMENTS, **options
    ):
        if connection.vendor != "postgresql":
            raise CommandError("bench_leads needs PostgreSQL (set DATABASE_URL to a dedicated bench database).")
        name = connection.settings_dict["NAME"]
        if "bench" not in name:
            raise CommandError(
                f"Refusing to run on database {name!r}: it deletes every lead. Use a dedicated database whose "
                "name contains 'bench' (createdb -h 127.0.0.1 -U postgres acc_bench)."
            )
        call_command("migrate", verbosity=0)
        built = Lead.objects.filter(email__endswith="@bench.example").exists()
        if reuse and built:
            self.stdout.write("Reusing the bench data already built.")
        else:
            started = time.monotonic()
            self.build(leads * departments, activities * departments, departments)
            self.stdout.write(f"Built in {time.monotonic() - started:.1f} s.")
        if reuse and built and not RepDay.objects.exists():
            self.build_rollup()
        self.report_counts()
        if not options.get("build_only"):
            self.time_everything(requests, only=options.get("only", ""))

    # --- Build ---------------------------------------------------------------------------------

    def build(self, n_leads: int, n_activities: int, departments: int = 1):
        now = timezone.now()
        with transaction.atomic():
            self.stdout.write("Clearing leads and the previous bench organisation...")
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE leads_followup, leads_activity, leads_lead RESTART IDENTITY CASCADE")
            Membership.objects.filter(user__username__startswith=PREFIX).delete()
            Team.objects.filter(name__startswith="Bench ").order_by("-parent_id").update(parent=None)
            Team.objects.filter(name__startswith="Bench ").delete()
            User.objects.filter(username__startswith=PREFIX).delete()

            password = make_password("bench-pass-123")
            head = User.objects.create(username=f"{PREFIX}head", first_name="Head", role="manager", password=password)
            vp = User.objects.create(username=f"{PREFIX}vp", first_name="VP", role="manager", password=password)
            company = Team.objects.create(name="Bench Company", manager=vp)
            roots = [Team.objects.create(name="Bench Sales", manager=head, parent=company)]
            for d in range(1, departments):
                dept_head = User.objects.create(
                    username=f"{PREFIX}head{d}", first_name=f"Head {d}", role="manager", password=password
                )
                roots.append(Team.objects.create(name=f"Bench Department {d}", manager=dept_head, parent=company))
            n_teams = TEAMS * departments
            managers = User.objects.bulk_create(
                User(username=f"{PREFIX}mgr{t:02d}", first_name=f"Manager {t:02d}", role="manager", password=password)
                for t in range(n_teams)
            )
            teams = Team.objects.bulk_create(
                Team(name=f"Bench Team {t:02d}", parent=roots[t // TEAMS], manager=managers[t]) for t in range(n_teams)
            )
            reps = User.objects.bulk_create(
                User(username=f"{PREFIX}rep{i:03d}", first_name=f"Rep {i:03d}", role="rep", password=password)
                for i in range(n_teams * REPS_PER_TEAM)
            )
            Membership.objects.bulk_create(
                Membership(user=rep, team=teams[i // REPS_PER_TEAM]) for i, rep in enumerate(reps)
            )
            rep_ids = [r.pk for r in reps]
            team_ids = [teams[i // REPS_PER_TEAM].pk for i in range(len(reps))]
            self.stdout.write(f"Inserting {n_leads:,} leads...")
            t0 = time.monotonic()
            with connection.cursor() as cursor:
                self.insert_leads(cursor, now, n_leads, rep_ids, team_ids)
                self.set_business_speed(cursor)
                self.stdout.write(f"  {time.monotonic() - t0:.1f} s. Inserting the timeline...")
                self.insert_activities(cursor, now, n_activities)
                self.stdout.write(f"  {time.monotonic() - t0:.1f} s. Inserting follow-ups...")
                self.insert_follow_ups(cursor, now)
                self.stdout.write(f"  {time.monotonic() - t0:.1f} s.")
        self.stdout.write("VACUUM ANALYZE...")
        with connection.cursor() as cursor:
            for table in ("leads_lead", "leads_activity", "leads_followup", "accountability_user"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        self.build_rollup()

    def build_rollup(self):
        """The daily rollup of the 90 days, as the nightly task would have left it."""
        started = time.monotonic()
        today = timezone.now().date()
        result = rollup_build(start=today - timedelta(days=92), end=today)
        with connection.cursor() as cursor:
            for table in ("leads_repday", "leads_teamday"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        self.stdout.write(
            f"Rolled up {result.rep_rows:,} person-days and {result.team_rows:,} team-days "
            f"in {time.monotonic() - started:.1f} s."
        )

    def insert_leads(self, cursor, now, n, rep_ids, team_ids):
        # One row per lead with its random draws, then every derived column worked out from
        # them so the row is as leads.services would have left it: 2% wait in the queue, 95% of
        # the others are contacted (3% of those by a teammate who saved it) with a skewed time
        # to first contact; the older a lead, the likelier it is closed (won or lost, and old
        # never-contacted ones lost as unreachable); open ones were touched in the last days and
        # have a next follow-up (some overdue).
        cursor.execute(
            """
            WITH draws AS (
                SELECT g, 1 + (g %% %(reps)s) AS r,
                       %(now)s - random() * interval '90 days' AS arrived,
                       random() AS u_queue, random() AS u_contact, random() AS u_speed, random() AS u_stage,
                       random() AS u_close, random() AS u_last, random() AS u_next, random() AS u_value,
                       random() AS u_saved
                FROM generate_series(1, %(n)s) AS g
            ), base AS (
                SELECT d.*, (%(team_ids)s::int[])[r] AS team_id,
                       CASE WHEN u_queue < 0.02 THEN NULL ELSE (%(rep_ids)s::int[])[r] END AS owner_id,
                       CASE WHEN u_queue >= 0.02 AND u_contact < 0.95
                            THEN LEAST(arrived + power(u_speed, 4) * interval '2 days', %(now)s) END AS fca
                FROM draws d
            ), staged AS (
                -- Older leads are mostly decided: the chance of being closed grows with age.
                SELECT b.*, LEAST(0.92, EXTRACT(EPOCH FROM (%(now)s - arrived)) / 86400.0 / 35.0) AS p_closed
                FROM base b
            ), staged2 AS (
                SELECT s.*,
                       CASE WHEN fca IS NULL THEN
                                CASE WHEN %(now)s - arrived > interval '14 days' AND u_stage < 0.85
                                     THEN 'lost' ELSE 'new' END
                            WHEN u_stage < p_closed * 0.4 THEN 'won'
                            WHEN u_stage < p_closed THEN 'lost'
                            WHEN u_stage < p_closed + (1 - p_closed) * 0.3 THEN 'qualified'
                            WHEN u_stage < p_closed + (1 - p_closed) * 0.5 THEN 'proposal'
                            ELSE 'contacted' END AS stage
                FROM staged s
            ), closed AS (
                SELECT s.*,
                       CASE WHEN stage NOT IN ('won', 'lost') THEN NULL
                            WHEN fca IS NULL THEN arrived + u_close * interval '14 days'
                            -- Spread between the first contact and now (not piled up at now, which
                            -- put 8 in 100 closings in the running day).
                            ELSE fca + u_close * LEAST(interval '40 days', %(now)s - fca) END AS closed_at
                FROM staged2 s
            ), final AS (
                -- Open leads were mostly touched in the last few days; their next follow-up is
                -- up to a week ahead, or up to a day overdue for about one in eight.
                SELECT c.*,
                       CASE WHEN fca IS NULL THEN NULL
                            WHEN closed_at IS NOT NULL THEN closed_at
                            ELSE GREATEST(fca, %(now)s - power(u_last, 2) * interval '12 days') END AS last_at
                FROM closed c
            )
            INSERT INTO leads_lead (name, company, email, phone, channel, team_id, owner_id, received_by_id, value,
                stage, lost_reason, notes, arrived_at, assigned_at, first_contacted_at, first_contacted_by_id,
                last_activity_at, next_follow_up_at, closed_at, created_at, updated_at)
            SELECT 'Bench lead ' || g, 'Company ' || (g %% 5000), 'lead' || g || '@bench.example', '', 'api',
                   team_id, owner_id, owner_id, round((u_value * 20000)::numeric, 2), stage,
                   CASE WHEN stage <> 'lost' THEN '' WHEN fca IS NULL THEN 'unreachable' ELSE 'price' END, '',
                   arrived, CASE WHEN owner_id IS NOT NULL THEN arrived + interval '1 minute' END,
                   fca,
                   CASE WHEN fca IS NULL THEN NULL
                        WHEN u_saved < 0.03 THEN (%(rep_ids)s::int[])[1 + (r %% %(reps)s)]
                        ELSE owner_id END,
                   last_at,
                   CASE WHEN fca IS NOT NULL AND stage NOT IN ('won', 'lost')
                        THEN GREATEST(last_at + interval '1 hour', %(now)s + (u_next * 8 - 1) * interval '1 day') END,
                   closed_at, %(now)s, %(now)s
            FROM final
            ORDER BY arrived
            """,
            {"n": n, "now": now, "reps": len(rep_ids), "rep_ids": rep_ids, "team_ids": team_ids},
        )

    @staticmethod
    def set_business_speed(cursor):
        """Lead.first_contact_business_minutes, as leads.services stores it at the first contact.
        The bench has no SLA policy, so its clocks run on the built-in hours (Monday to Friday
        09:00-17:00, leads.sla.selectors.FALLBACK_HOURS) in each team's zone: the business
        minutes are the overlap of [arrival, first contact] with each weekday's window, summed
        in one set-based UPDATE (no holidays are defined)."""
        cursor.execute(
            """
            UPDATE leads_lead l SET first_contact_business_minutes = (
                SELECT coalesce(sum(greatest(0, extract(epoch FROM
                           least(l.first_contacted_at, (d + interval '17 hours') AT TIME ZONE t.time_zone)
                           - greatest(l.arrived_at, (d + interval '9 hours') AT TIME ZONE t.time_zone)))), 0) / 60.0
                FROM generate_series((l.arrived_at AT TIME ZONE t.time_zone)::date::timestamp,
                                     (l.first_contacted_at AT TIME ZONE t.time_zone)::date::timestamp,
                                     interval '1 day') AS d
                WHERE extract(isodow FROM d) <= 5
            )
            FROM accountability_team t
            WHERE t.id = l.team_id AND l.first_contacted_at IS NOT NULL
            """
        )

    def insert_activities(self, cursor, now, total):
        # System entries first: arrived for every lead, the initial assignment for assigned ones,
        # and a stage entry for closed ones.
        cursor.execute(
            """
            INSERT INTO leads_activity (lead_id, kind, actor_id, outcome, body, data, occurred_at, created_at)
            SELECT id, 'arrived', NULL::bigint, '', '', '{}'::jsonb, arrived_at, arrived_at FROM leads_lead
            UNION ALL
            SELECT id, 'assigned', NULL::bigint, '', '',
                   jsonb_build_object('from_owner', NULL, 'to_owner', owner_id, 'reason', 'round robin'),
                   assigned_at, assigned_at
            FROM leads_lead WHERE owner_id IS NOT NULL
            UNION ALL
            SELECT id, 'stage', owner_id, '', '', jsonb_build_object('from', 'proposal', 'to', stage),
                   closed_at, closed_at
            FROM leads_lead WHERE closed_at IS NOT NULL
            """
        )
        cursor.execute("SELECT count(*) FROM leads_activity")
        system = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(sum(1 + id % 17), 0) FROM leads_lead WHERE first_contacted_at IS NOT NULL")
        planned = cursor.fetchone()[0]
        # Then what reps logged: the first contact (a call by first_contacted_by at
        # first_contacted_at), and more entries spread up to the last activity. The number per
        # lead is scaled so the whole timeline comes to `total` entries.
        scale = max(0.0, (total - system) / planned) if planned else 0
        cursor.execute(
            """
            INSERT INTO leads_activity (lead_id, kind, actor_id, outcome, body, data, occurred_at, created_at)
            SELECT l.id,
                   CASE WHEN k = 1 THEN 'call'
                        ELSE (ARRAY['call','call','call','call','email','email','meeting','sms','note','call'])[
                             1 + ((l.id + k) %% 10)] END,
                   CASE WHEN k = 1 THEN l.first_contacted_by_id ELSE COALESCE(l.owner_id, l.first_contacted_by_id) END,
                   (ARRAY['connected','voicemail','no_answer','sent'])[1 + ((l.id * 7 + k) %% 4)], '', '{}'::jsonb,
                   l.first_contacted_at + (l.last_activity_at - l.first_contacted_at) * ((k - 1)::float / n),
                   l.first_contacted_at
            FROM (SELECT *, GREATEST(1, round((1 + id %% 17) * %(scale)s))::int AS n
                  FROM leads_lead WHERE first_contacted_at IS NOT NULL) AS l
            CROSS JOIN LATERAL generate_series(1, l.n) AS k
            """,
            {"scale": scale},
        )
        cursor.execute("SELECT count(*) FROM leads_activity")
        have = cursor.fetchone()[0]
        if have > total:  # rounding: drop the surplus among the later, non-first entries
            cursor.execute(
                """
                DELETE FROM leads_activity WHERE id IN (
                    SELECT id FROM leads_activity WHERE kind IN ('email', 'sms', 'note')
                    ORDER BY id DESC LIMIT %(extra)s)
                """,
                {"extra": have - total},
            )
        if have < total:  # rounding: top up with notes on the most recent contacted leads
            cursor.execute(
                """
                INSERT INTO leads_activity (lead_id, kind, actor_id, outcome, body, data, occurred_at, created_at)
                SELECT id, 'note', first_contacted_by_id, '', '', '{}'::jsonb, last_activity_at, last_activity_at
                FROM leads_lead WHERE first_contacted_at IS NOT NULL ORDER BY id DESC LIMIT %(extra)s
                """,
                {"extra": total - have},
            )

    def insert_follow_ups(self, cursor, now):
        # A follow-up promised at first contact for two days later, done by the next entry:
        # three in four on time. Open leads with a next follow-up date have it as their one open row.
        cursor.execute(
            """
            INSERT INTO leads_followup (lead_id, owner_id, due_at, state, done_at, done_by_id, created_at)
            SELECT id, first_contacted_by_id, first_contacted_at + interval '2 days', 'done',
                   first_contacted_at + CASE WHEN id %% 4 = 0 THEN interval '3 days' ELSE interval '1 day' END,
                   first_contacted_by_id, first_contacted_at
            FROM leads_lead WHERE first_contacted_at IS NOT NULL AND first_contacted_at < %(now)s - interval '3 days'
            UNION ALL
            SELECT id, owner_id, next_follow_up_at, 'open', NULL, NULL, last_activity_at
            FROM leads_lead WHERE next_follow_up_at IS NOT NULL AND owner_id IS NOT NULL
            """,
            {"now": now},
        )

    def report_counts(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM leads_lead), (SELECT count(*) FROM leads_activity),"
                " (SELECT count(*) FROM leads_followup)"
            )
            leads, activities, follow_ups = cursor.fetchone()
        reps = User.objects.filter(username__startswith=f"{PREFIX}rep").count()
        teams = Team.objects.filter(name__startswith="Bench Team").count()
        self.stdout.write(
            f"Data: {reps} reps in {teams} teams, {leads:,} leads, {activities:,} activities, "
            f"{follow_ups:,} follow-ups."
        )

    # --- Timing --------------------------------------------------------------------------------

    def time_everything(self, n: int, only: str = ""):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        # Time what production runs: no per-query bookkeeping of DEBUG.
        settings.DEBUG = False
        logging.getLogger("axes").setLevel(logging.WARNING)  # one INFO line per login otherwise
        logging.getLogger("accountability.request").setLevel(logging.WARNING)  # one line per request
        rep = User.objects.get(username=f"{PREFIX}rep000")
        manager = User.objects.get(username=f"{PREFIX}mgr00")
        head = User.objects.get(username=f"{PREFIX}head")
        vp = User.objects.filter(username=f"{PREFIX}vp").first()
        team = Team.objects.get(name="Bench Team 00")
        results: list[tuple[str, list[float]]] = []

        def page(label, user, url_name, query="", cold=False, written=False):
            if only not in label or (cold and "cold" not in only and only):
                return
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                self.stdout.write(f"  skipped {label}: URL {url_name} does not exist on this branch")
                return
            client = Client()
            client.force_login(user)

            def call():
                if cold:
                    closedcache.bump(timezone.now())
                with _after_a_write(written):
                    response = client.get(url + query)
                if response.status_code != 200:
                    raise CommandError(f"{label}: HTTP {response.status_code}")

            results.append((label, self.measure(call, min(n, 10) if cold else n)))

        page("My day (rep)", rep, "leads:my-day")
        page("Lead list (rep)", rep, "leads:lead-list")
        page("Lead list (manager, 10 reps)", manager, "leads:lead-list")
        page("Team dashboard, 30 days (rep: My numbers)", rep, "leads:dashboard")
        page("Team dashboard, 30 days (manager, 10 reps)", manager, "leads:dashboard")
        page("Team dashboard, 90 days (manager, 10 reps)", manager, "leads:dashboard", "?period=90")
        page("Team dashboard, 30 days (head of sales, 100 reps)", head, "leads:dashboard")
        if vp is not None and User.objects.filter(username__startswith=f"{PREFIX}rep").count() > 100:
            page("Team dashboard, 90 days (head of 500 reps)", vp, "leads:dashboard", "?period=90")
        # Every request above after the first reads the team's figures from the page cache
        # (leads.metrics.pagecache); after any write (a lead, an activity, a follow-up) the next
        # request computes them again, the closed days still from the rollup's cache:
        page("Team dashboard, 30 days (head of sales, 100 reps), after a write", head, "leads:dashboard", written=True)
        if vp is not None and User.objects.filter(username__startswith=f"{PREFIX}rep").count() > 100:
            page(
                "Team dashboard, 90 days (head of 500 reps), after a write",
                vp,
                "leads:dashboard",
                "?period=90",
                written=True,
            )
        # The first request after a rollup build reads the closed days from the rollup and caches
        # them (leads.metrics.closedcache); every request above is a warm one. A new version per
        # request: what the first visitor after the nightly build waits.
        page("Team dashboard, 30 days (head of sales, 100 reps), cold cache", head, "leads:dashboard", cold=True)
        if vp is not None and User.objects.filter(username__startswith=f"{PREFIX}rep").count() > 100:
            page(
                "Team dashboard, 90 days (head of 500 reps), cold cache", vp, "leads:dashboard", "?period=90", cold=True
            )
        page("Neglected report (rep)", rep, "leads:neglected")
        page("Neglected report (manager, 10 reps)", manager, "leads:neglected")
        page("Neglected report (head of sales, 100 reps)", head, "leads:neglected")

        period = Period.last_days(30)
        if only:
            results.extend(self.time_review_pages(n, only))
            self.print_results(results, n)
            return
        results.extend(self.time_review_pages(n, ""))
        results.append(
            ("rep_scorecards, one rep, 30 days", self.measure(lambda: rep_scorecards(period=period, users=[rep]), n))
        )
        results.append(
            ("total_scorecard, one team, 30 days", self.measure(lambda: total_scorecard(period=period, team=team), n))
        )
        results.append(
            (
                "metric_value speed p90, one rep",
                self.measure(lambda: metric_value(Metric.SPEED_TO_LEAD_P90, period=period, user=rep), n),
            )
        )
        results.append(
            (
                "metric_value speed p90, one team",
                self.measure(lambda: metric_value(Metric.SPEED_TO_LEAD_P90, period=period, team=team), n),
            )
        )

        self.print_results(results, n)

        if "bench_intake" in get_commands():
            self.stdout.write("\nAPI intake (bench_intake):")
            call_command("bench_intake", stdout=self.stdout)
        else:
            self.stdout.write("\nbench_intake does not exist on this branch: API leads/sec not measured.")

    def time_review_pages(self, n: int, only: str) -> list:
        """The review dashboard (reviews.dashboard_views), when this branch has it."""
        try:
            url = reverse("reviews:dashboard")
        except NoReverseMatch:
            self.stdout.write("  skipped the review dashboard: not on this branch")
            return []
        results = []
        cases = [
            ("Review dashboard, 30 days, 8 weeks (manager, 10 reps)", f"{PREFIX}mgr00", "?trend=weeks"),
            ("Review dashboard, 30 days, 8 weeks (head of sales, 100 reps)", f"{PREFIX}head", "?trend=weeks"),
            (
                "Review dashboard, 90 days, 6 months (head of sales, 100 reps)",
                f"{PREFIX}head",
                "?period=90&trend=months",
            ),
            ("Review dashboard, 90 days, 8 weeks (head of 500 reps)", f"{PREFIX}vp", "?period=90&trend=weeks"),
        ]
        cases += [
            (f"{label}, after a write", username, query)
            for label, username, query in cases
            if "(manager" in label or "30 days, 8 weeks (head" in label
        ]
        for label, username, query in cases:
            user = User.objects.filter(username=username).first()
            if user is None or only not in label:
                continue
            client = Client()
            client.force_login(user)

            def call(client=client, query=query, label=label):
                with _after_a_write(label.endswith("after a write")):
                    response = client.get(url + query)
                if response.status_code != 200:
                    raise CommandError(f"{label}: HTTP {response.status_code}")

            results.append((label, self.measure(call, n)))
        return results

    def print_results(self, results, n):
        if not results:
            self.stdout.write("Nothing timed.")
            return
        width = max(len(label) for label, _ in results)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        self.stdout.write(f"\nLoad average while timing: {load} on {os.cpu_count()} CPUs (other work skews p95).")
        self.stdout.write(f"{'Server time, ms (N=' + str(n) + '; cold cases 10)':<{width}}  median     p95")
        for label, samples in results:
            self.stdout.write(f"{label:<{width}}  {statistics.median(samples):6.1f}  {p95(samples):6.1f}")

    def measure(self, fn, n: int) -> list[float]:
        for _ in range(5):  # warm-up: connection, template and URL caches, database buffers
            fn()
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@contextlib.contextmanager
def _after_a_write(written: bool):
    """As if a lead, an activity or a follow-up had just been written: the page cache's data
    version (leads.metrics.pagecache) is new for this request, so the figures are computed."""
    if not written:
        yield
        return
    original = pagecache.data_version
    with mock.patch.object(pagecache, "data_version", lambda: (*original(), uuid.uuid4().hex)):
        yield
