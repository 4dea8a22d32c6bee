"""Reads for background jobs. A job is private to the person who started it: 404 for anyone else."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone

from accountability.models import User
from leads.forms import LeadFilterForm
from leads.importing import ParsedImport, read_csv, validate_records
from leads.jobs.models import ExportChunk, ExportJob, ImportJob, ImportJobRow, JobState
from leads.models import Lead
from leads.selectors import leads_visible_to


def import_job_get_for_user(user: User, pk, *, with_content: bool = False) -> ImportJob:
    """The user's own import job, or 404 (whether it does not exist or is someone else's)."""
    qs = ImportJob.objects.select_related("team")
    if not with_content:
        qs = qs.defer("content")  # up to 2 MB of CSV the progress page never needs
    job = qs.filter(pk=pk, created_by=user).first()
    if job is None:
        raise Http404("No such import.")
    return job


def export_job_get_for_user(user: User, pk) -> ExportJob:
    job = ExportJob.objects.filter(pk=pk, created_by=user).first()
    if job is None:
        raise Http404("No such export.")
    return job


def import_job_pending(user: User) -> ImportJob | None:
    """The user's upload waiting for confirmation, if any (the import page links to its preview)."""
    return ImportJob.objects.defer("content").filter(created_by=user, state=JobState.UPLOADED).first()


def import_jobs_recent(user: User, limit: int = 10) -> list[ImportJob]:
    return list(
        ImportJob.objects.defer("content")
        .select_related("team")
        .filter(created_by=user)
        .exclude(state=JobState.UPLOADED)[:limit]
    )


def import_job_preview(job: ImportJob) -> ParsedImport:
    """Every row of an uploaded file, validated against the team as it is now (no write).
    5,000 rows take about a quarter of a second (README, "CSV import")."""
    csv_file = read_csv(job.content)
    rows = validate_records(csv_file, csv_file.records, team=job.team)
    return ParsedImport(rows=rows, ignored_columns=csv_file.ignored_columns)


def import_job_rejected_rows(job: ImportJob) -> QuerySet[ImportJobRow]:
    return job.rows.filter(outcome=ImportJobRow.Outcome.REJECTED).order_by("line")


def import_job_lead_ids(user: User, job_id: int, outcomes: list[str] | None = None) -> QuerySet:
    """Ids of the leads an import of this user's created or joined (the lead list's `import_job` filter)."""
    rows = ImportJobRow.objects.filter(job_id=job_id, job__created_by=user, lead__isnull=False)
    if outcomes:
        rows = rows.filter(outcome__in=outcomes)
    return rows.values("lead_id")


def export_job_chunk_ids(job: ExportJob) -> list[int]:
    return list(ExportChunk.objects.filter(job=job).order_by("seq").values_list("pk", flat=True))


def export_chunk_text(pk: int) -> str:
    return ExportChunk.objects.filter(pk=pk).values_list("text", flat=True).first() or ""


def export_queryset(user: User, query: str, *, now: datetime) -> QuerySet[Lead] | None:
    """The lead list's leads for these filters (a query string) as `user` sees them, in the current
    time zone; None when the filters are not valid for them (never "every lead" instead)."""
    form = LeadFilterForm(QueryDict(query) if query else None, user=user)
    if form.is_bound and not form.is_valid():
        return None
    return form.filter(leads_visible_to(user), now=now, tz=timezone.get_current_timezone())
