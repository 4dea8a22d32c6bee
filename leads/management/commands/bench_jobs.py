"""Rows per second of a background CSV import and of a background lead export, in-process.

Creates a throw-away team (a manager, 5 reps), then:
- import: uploads a CSV of --import-rows rows (times the upload and the preview, which the browser
  waits for), then runs the job as the worker would (`import_job_run`, chunks of
  LEADS_IMPORT_CHUNK_ROWS) and prints rows/second;
- export: inserts --export-rows leads, times the immediate (streamed) export of them for comparison,
  then runs an export job (`export_job_run`, chunks of LEADS_EXPORT_CHUNK_ROWS) and streams its
  download, and prints rows/second.
Removes what it created. Run it against a dedicated PostgreSQL database (see the README).
"""

import time
import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accountability.models import Membership, Team, User
from leads.jobs import selectors, services
from leads.jobs.models import ExportJob, ImportJob, JobState
from leads.models import Activity, FollowUp, Lead, TeamIntakeSettings


class Command(BaseCommand):
    help = "Time a background import (default 5,000 rows) and export (default 100,000 leads); print rows/second."

    def add_arguments(self, parser):
        parser.add_argument("--import-rows", type=int, default=5000)
        parser.add_argument("--export-rows", type=int, default=100_000)

    def handle(self, *args, import_rows: int, export_rows: int, **options):
        tag = uuid.uuid4().hex[:8]
        with transaction.atomic():
            manager = User.objects.create(username=f"bench-jobs-{tag}-m", role=User.Role.MANAGER)
            team = Team.objects.create(name=f"bench-jobs-{tag}", manager=manager)
            reps = [User.objects.create(username=f"bench-jobs-{tag}-{i}", role=User.Role.REP) for i in range(5)]
            Membership.objects.bulk_create([Membership(user=u, team=team) for u in reps])
        try:
            if import_rows:
                self.bench_import(tag, manager, team, reps, import_rows)
            if export_rows:
                self.bench_export(tag, manager, team, reps, export_rows)
        finally:
            self.clean_up(team, [manager, *reps])

    def bench_import(self, tag, manager, team, reps, rows: int) -> None:
        lines = ["name,company,email,phone,value,owner"]
        for i in range(rows):
            owner = reps[i % 5].username if i % 2 else ""  # half to a named rep, half to the team's rule
            lines.append(f"Bench Buyer {i},Firm {i % 97},buyer{i}-{tag}@example.com,,{i % 5000},{owner}")
        data = ("\n".join(lines) + "\n").encode()
        with override_settings(LEADS_IMPORT_MAX_ROWS=max(rows, 5000), LEADS_IMPORT_MAX_BYTES=max(len(data), 2**21)):
            start = time.perf_counter()
            job = services.import_job_upload(actor=manager, team=team, filename="bench.csv", data=data)
            upload = time.perf_counter() - start
            start = time.perf_counter()
            parsed = selectors.import_job_preview(job)
            preview = time.perf_counter() - start
            assert len(parsed.good) == rows, parsed.bad[:3]
            # Queued as the confirm step does, without sending the task: this process runs it.
            now = timezone.now()
            ImportJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED, queued_at=now, heartbeat_at=now)
            start = time.perf_counter()
            services.import_job_run(job_id=job.pk)
            elapsed = time.perf_counter() - start
        job.refresh_from_db()
        assert job.state == JobState.DONE and job.imported == rows, (job.state, job.imported, job.error)
        self.stdout.write(
            f"import: upload {upload * 1000:.0f} ms, preview of {rows} rows {preview * 1000:.0f} ms; "
            f"job {rows} rows in {elapsed:.1f}s = {rows / elapsed:.0f} rows/s"
        )

    def bench_export(self, tag, manager, team, reps, rows: int) -> None:
        now = timezone.now()
        start = time.perf_counter()
        batch = 10_000
        for offset in range(0, rows, batch):
            Lead.objects.bulk_create(
                [self.lead(i, tag, team, reps, now) for i in range(offset, min(rows, offset + batch))], batch_size=2000
            )
        self.stdout.write(f"export: {rows} leads inserted in {time.perf_counter() - start:.1f}s")
        rows = Lead.objects.filter(team=team).count()  # with the imported ones
        client = Client()
        client.force_login(manager)
        query = f"team={team.pk}"
        with override_settings(LEADS_EXPORT_SYNC_MAX_ROWS=rows + 1, ALLOWED_HOSTS=["*"]):
            start = time.perf_counter()
            response = client.get(f"/leads/export.csv?{query}")
            if response.status_code != 200 or not response.streaming:
                raise RuntimeError(f"export answered {response.status_code}: {response.content[:300]!r}")
            size = sum(len(part) for part in response.streaming_content)
            immediate = time.perf_counter() - start
        self.stdout.write(
            f"export, immediate (streamed in the request, for comparison): {rows} rows, {size / 1e6:.1f} MB "
            f"in {immediate:.1f}s = {rows / immediate:.0f} rows/s"
        )
        job = ExportJob.objects.create(
            created_by=manager, query=query, total_rows=rows, state=JobState.QUEUED, queued_at=now, heartbeat_at=now
        )
        start = time.perf_counter()
        services.export_job_run(job_id=job.pk)
        elapsed = time.perf_counter() - start
        job.refresh_from_db()
        assert job.state == JobState.DONE and job.processed_rows == rows, (job.state, job.processed_rows)
        with override_settings(ALLOWED_HOSTS=["*"]):
            start = time.perf_counter()
            response = client.get(f"/leads/export/jobs/{job.pk}/download.csv")
            size = sum(len(part) for part in response.streaming_content)
            download = time.perf_counter() - start
        self.stdout.write(
            f"export job: {rows} rows in {elapsed:.1f}s = {rows / elapsed:.0f} rows/s "
            f"({job.chunks} chunks); download of {size / 1e6:.1f} MB in {download:.2f}s"
        )

    @staticmethod
    def lead(i: int, tag: str, team, reps, now) -> Lead:
        return Lead(
            name=f"Exported {i}", company=f"Firm {i % 97}", email=f"export{i}-{tag}@example.com", team=team,
            owner=reps[i % 5], received_by=reps[i % 5], value=Decimal(i % 5000), arrived_at=now - timedelta(minutes=i),
            channel=Lead.Channel.API,
        )  # fmt: skip

    def clean_up(self, team, users) -> None:
        with transaction.atomic():
            ImportJob.objects.filter(team=team).delete()
            ExportJob.objects.filter(created_by__in=users).delete()
            lead_ids = Lead.objects.filter(team=team).values_list("id", flat=True)
            FollowUp.objects.filter(lead_id__in=lead_ids).delete()
            Activity.objects.filter(lead_id__in=lead_ids).delete()
            Lead.objects.filter(team=team).delete()
            TeamIntakeSettings.objects.filter(team=team).delete()
            Membership.objects.filter(team=team).delete()
            team.delete()
            User.objects.filter(pk__in=[u.pk for u in users]).delete()
