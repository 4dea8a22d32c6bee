"""Writes for background imports and exports: create a job, run it chunk by chunk, sweep.

How a run stays correct whatever the queue does (the database is the source of truth):
- A run claims its job with a conditional UPDATE (queued, or running but silent for
  LEADS_JOB_STALE_SECONDS): a duplicate message finds the job claimed and does nothing.
- Each chunk is one transaction that locks the job row, starts at the job's cursor, writes its
  rows and moves the cursor and counters: a crash loses at most the chunk in flight, which rolls
  back whole, and the next run starts after the last committed chunk. Two runs at once (a stale
  claim taken over while the first was only slow) serialise on the lock and never write a chunk
  twice; unique (job, line) and (job, seq) say so in the database as well.
- A run works for LEADS_JOB_SLICE_SECONDS at most, then queues the rest as a new message: the
  worker slot is free for the SLA sweep and notices between slices.
- The sweep sends again what stopped moving and fails a job after LEADS_JOB_MAX_ATTEMPTS crashes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accountability.models import Team, User
from accountability.tasking import task_send_on_commit
from accountability.timezones import user_time_zone
from leads.importing import (
    COLUMNS,
    ImportFileError,
    decode_csv,
    export_text,
    read_csv,
    team_is_importable_by,
    team_lookups,
    validate_records,
    write_row,
)
from leads.jobs.models import ACTIVE_STATES, ExportChunk, ExportJob, ImportJob, ImportJobRow, JobState
from leads.jobs.selectors import export_queryset

logger = logging.getLogger(__name__)

IMPORT_TASK = "leads.jobs.tasks.import_job_run_task"
EXPORT_TASK = "leads.jobs.tasks.export_job_run_task"


# --- import ------------------------------------------------------------------------------------


def import_job_upload(*, actor: User, team: Team, filename: str, data: bytes) -> ImportJob:
    """Keep an uploaded file for its preview. A file that cannot be read (size, encoding, header,
    no rows, too many rows) raises ImportFileError and nothing is saved. A newer upload replaces
    the person's previous unconfirmed one."""
    if not team_is_importable_by(actor, team):
        raise PermissionDenied("You cannot import into this team.")
    text = decode_csv(data)
    csv_file = read_csv(text)
    with transaction.atomic():
        ImportJob.objects.filter(created_by=actor, state=JobState.UPLOADED).delete()
        return ImportJob.objects.create(
            created_by=actor,
            team=team,
            filename=filename[:200],
            content=text,
            total_rows=len(csv_file.records),
            state=JobState.UPLOADED,
        )


def import_job_cancel(*, actor: User, job: ImportJob) -> None:
    """Drop an upload that was not confirmed (the preview's "Import nothing")."""
    ImportJob.objects.filter(pk=job.pk, created_by=actor, state=JobState.UPLOADED).delete()


def import_job_confirm(*, actor: User, job: ImportJob) -> bool:
    """Queue the import of an uploaded file. False when it was already confirmed (a double click
    or a second tab): the conditional update lets one confirmation through."""
    if job.created_by_id != actor.pk or not team_is_importable_by(actor, job.team):
        raise PermissionDenied("You cannot import into this team.")
    now = timezone.now()
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, state=JobState.UPLOADED).update(
            state=JobState.QUEUED, queued_at=now, heartbeat_at=now
        )
        if claimed:
            task_send_on_commit(IMPORT_TASK, job.pk)
    return bool(claimed)


def _claim(model, job_id: int, now: datetime) -> bool:
    """Take a job for this run: queued (a first run, or the next slice of a long one), or running
    with no chunk for LEADS_JOB_STALE_SECONDS (its worker died: that counts as an attempt)."""
    stale = now - timedelta(seconds=settings.LEADS_JOB_STALE_SECONDS)
    started = Coalesce(F("started_at"), now)
    jobs = model.objects.filter(pk=job_id)
    if jobs.filter(state=JobState.QUEUED).update(state=JobState.RUNNING, heartbeat_at=now, started_at=started):
        return True
    return bool(
        jobs.filter(state=JobState.RUNNING, heartbeat_at__lt=stale).update(
            heartbeat_at=now, attempts=F("attempts") + 1, started_at=started
        )
    )


def _run_chunks(model, task: str, job_id: int, chunk, max_chunks: int | None) -> None:
    """Run chunks until the job is done; after LEADS_JOB_SLICE_SECONDS, queue the rest as a new
    message instead, so that a long import never holds a worker slot that the minute's SLA sweep
    and the notices are waiting for (make run's worker has one)."""
    deadline = time.monotonic() + settings.LEADS_JOB_SLICE_SECONDS
    done = 0
    while not chunk():
        done += 1
        if max_chunks is not None and done >= max_chunks:
            return
        if time.monotonic() >= deadline:
            with transaction.atomic():
                if model.objects.filter(pk=job_id, state=JobState.RUNNING).update(
                    state=JobState.QUEUED, heartbeat_at=timezone.now()
                ):
                    task_send_on_commit(task, job_id)
            return


def _fail_if_out_of_attempts(model, job_id: int, now: datetime) -> bool:
    failed = model.objects.filter(
        pk=job_id, state=JobState.RUNNING, attempts__gte=settings.LEADS_JOB_MAX_ATTEMPTS
    ).update(
        state=JobState.FAILED,
        finished_at=now,
        error=f"Stopped after {settings.LEADS_JOB_MAX_ATTEMPTS} attempts: the server hit an error it could not "
        "get past. What was done before stays; ask an admin to look at the worker's log.",
    )
    return bool(failed)


def import_job_run(*, job_id: int, chunk_rows: int | None = None, max_chunks: int | None = None) -> bool:
    """Import a queued job's rows, chunk by chunk, until the file is done. Returns True when this
    run claimed the job. `max_chunks` stops early (tests look at the job between chunks)."""
    now = timezone.now()
    if not _claim(ImportJob, job_id, now):
        return False
    if _fail_if_out_of_attempts(ImportJob, job_id, now):
        return True
    job = ImportJob.objects.select_related("team", "created_by").get(pk=job_id)
    try:
        csv_file = read_csv(job.content)
    except ImportFileError as exc:  # it was read at upload; only a changed limit gets here
        ImportJob.objects.filter(pk=job_id).update(state=JobState.FAILED, finished_at=timezone.now(), error=str(exc))
        return True
    chunk_rows = chunk_rows or settings.LEADS_IMPORT_CHUNK_ROWS
    _run_chunks(ImportJob, IMPORT_TASK, job_id, lambda: _import_chunk(job_id, csv_file, chunk_rows), max_chunks)
    return True


def _import_chunk(job_id: int, csv_file, chunk_rows: int) -> bool:
    """Write the next chunk in one transaction. Returns True when the job is finished (or gone)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("team", "created_by").defer("content")
        job = job.filter(pk=job_id).first()
        if job is None or job.state != JobState.RUNNING:
            return True
        start = job.processed_rows
        records = csv_file.records[start : start + chunk_rows]
        lookups = team_lookups(job.team)
        owners, sources = lookups
        outcomes: list[ImportJobRow] = []
        for row in validate_records(csv_file, records, team=job.team, lookups=lookups):
            if row.ok:
                try:
                    result = write_row(row, actor=job.created_by, team=job.team, owners=owners, sources=sources)
                except ValidationError as exc:
                    row.errors.extend(exc.messages)
                else:
                    outcome = ImportJobRow.Outcome.DUPLICATE if result.duplicate else ImportJobRow.Outcome.IMPORTED
                    outcomes.append(ImportJobRow(job=job, line=row.line, outcome=outcome, lead=result.lead))
                    continue
            raw = {c: row.raw.get(c, "") for c in COLUMNS if c in row.raw}
            outcomes.append(
                ImportJobRow(
                    job=job, line=row.line, outcome=ImportJobRow.Outcome.REJECTED, raw=raw, errors="; ".join(row.errors)
                )
            )
        ImportJobRow.objects.bulk_create(outcomes)  # unique (job, line): a row written twice fails the chunk
        counts = {o: sum(1 for r in outcomes if r.outcome == o) for o in ImportJobRow.Outcome.values}
        job.processed_rows = start + len(records)
        job.imported += counts[ImportJobRow.Outcome.IMPORTED]
        job.duplicates += counts[ImportJobRow.Outcome.DUPLICATE]
        job.rejected += counts[ImportJobRow.Outcome.REJECTED]
        now = timezone.now()
        job.heartbeat_at = now
        fields = ["processed_rows", "imported", "duplicates", "rejected", "heartbeat_at"]
        finished = job.processed_rows >= len(csv_file.records)
        if finished:
            job.state, job.finished_at, job.content, job.total_rows = JobState.DONE, now, "", job.processed_rows
            fields += ["state", "finished_at", "content", "total_rows"]
        job.save(update_fields=fields)
    return finished


# --- export ------------------------------------------------------------------------------------


def export_job_create(*, actor: User, query: str, total: int) -> ExportJob:
    """Queue an export of the lead list with these filters (a query string), as `actor` sees it."""
    now = timezone.now()
    if len(query) > 2000:  # never cut: a shorter query string would be other filters
        raise ValidationError("The filters are too long to export in the background.")
    if export_queryset(actor, query, now=now) is None:
        raise ValidationError("The filters are not valid, nothing exported.")
    with transaction.atomic():
        job = ExportJob.objects.create(
            created_by=actor, query=query, total_rows=total, state=JobState.QUEUED, queued_at=now,
            heartbeat_at=now,
        )  # fmt: skip
        task_send_on_commit(EXPORT_TASK, job.pk)
    return job


def export_job_run(*, job_id: int, chunk_rows: int | None = None, max_chunks: int | None = None) -> bool:
    """Write a queued export's CSV, chunk by chunk in lead id order. True when this run claimed it."""
    now = timezone.now()
    if not _claim(ExportJob, job_id, now):
        return False
    if _fail_if_out_of_attempts(ExportJob, job_id, now):
        return True
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    user = job.created_by
    # Times in the exporter's zone, as the immediate export writes them; "overdue" as of the request.
    with timezone.override(user_time_zone(user)):
        leads = export_queryset(user, job.query, now=job.created_at)
        if leads is None:  # a team or owner no longer visible to them
            ExportJob.objects.filter(pk=job_id).update(
                state=JobState.FAILED, finished_at=timezone.now(),
                error="The filters are no longer valid for you (a team or person you no longer see). Nothing exported.",
            )  # fmt: skip
            return True
        leads = leads.select_related("owner", "team", "source").order_by("pk")
        chunk_rows = chunk_rows or settings.LEADS_EXPORT_CHUNK_ROWS
        _run_chunks(ExportJob, EXPORT_TASK, job_id, lambda: _export_chunk(job_id, leads, chunk_rows), max_chunks)
    return True


def _export_chunk(job_id: int, leads, chunk_rows: int) -> bool:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != JobState.RUNNING:
            return True
        batch = list(leads.filter(pk__gt=job.last_lead_id)[:chunk_rows])
        now = timezone.now()
        if batch:
            ExportChunk.objects.create(job=job, seq=job.chunks, text=export_text(batch))
            job.chunks += 1
            job.last_lead_id = batch[-1].pk
            job.processed_rows += len(batch)
        job.heartbeat_at = now
        finished = len(batch) < chunk_rows
        if finished:
            job.state, job.finished_at, job.total_rows = JobState.DONE, now, job.processed_rows
        job.save()
    return finished


# --- the sweep ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    resent: list[str] = field(default_factory=list)  # "import 12", "export 3"
    uploads_dropped: int = 0
    exports_expired: int = 0


def jobs_sweep(*, now: datetime | None = None) -> SweepResult:
    """Send again the jobs that stopped moving; drop old unconfirmed uploads and expired export files.

    A job is "stopped" when it is queued or running with no chunk for LEADS_JOB_STALE_SECONDS: its
    message was lost (Redis emptied) or its worker died. Sending it again is safe (a run claims the
    job first, see import_job_run); the sweep moves heartbeat_at with a conditional update, so two
    sweeps at once send each job once, and a queue that is merely long gets one extra message per
    stale period, which finds the job claimed and does nothing."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.LEADS_JOB_STALE_SECONDS)
    result = SweepResult()
    for model, task, label in ((ImportJob, IMPORT_TASK, "import"), (ExportJob, EXPORT_TASK, "export")):
        stuck = model.objects.filter(state__in=ACTIVE_STATES, heartbeat_at__lt=stale).values_list("pk", "heartbeat_at")
        for pk, beat in stuck[:500]:
            with transaction.atomic():
                # Running jobs keep their old heartbeat, so that the next run may claim them as stale.
                touched = model.objects.filter(pk=pk, heartbeat_at=beat, state=JobState.QUEUED).update(heartbeat_at=now)
                if not touched and not model.objects.filter(pk=pk, heartbeat_at=beat, state=JobState.RUNNING).exists():
                    continue
                task_send_on_commit(task, pk)
            result.resent.append(f"{label} {pk}")
    result.uploads_dropped, _ = ImportJob.objects.filter(
        state=JobState.UPLOADED, created_at__lt=now - timedelta(days=1)
    ).delete()
    expired = list(
        ExportJob.objects.filter(
            state=JobState.DONE, finished_at__lt=now - timedelta(hours=settings.LEADS_EXPORT_KEEP_HOURS)
        ).values_list("pk", flat=True)[:500]
    )
    if expired:
        with transaction.atomic():
            ExportChunk.objects.filter(job_id__in=expired).delete()
            result.exports_expired = ExportJob.objects.filter(pk__in=expired, state=JobState.DONE).update(
                state=JobState.EXPIRED
            )
    if result.resent:
        logger.info("jobs sweep sent again: %s", ", ".join(result.resent))
    return result
