"""Long imports and exports, run by a worker in chunks, with the database as the source of truth.

A job row says who asked, for what, how far it got and how it ended; the worker (leads.jobs.tasks)
carries the work and commits each chunk together with the job's counters, so a progress page reads
one row and a crashed worker's job resumes where its last chunk ended (the sweep sends it again).
Each imported CSV row is a row here under a unique (job, line): a re-run never imports a row twice.
Files live in the database (the uploaded CSV as text until the import ends, an export as chunks of
CSV text until it expires): web and worker share nothing else, under `make run` or docker-compose.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accountability.models import Team


class JobState(models.TextChoices):
    UPLOADED = "uploaded", "Waiting for your confirmation"  # imports only: the preview step
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"  # exports only: the file was removed after LEADS_EXPORT_KEEP_HOURS


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


class ImportJob(models.Model):
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="import_jobs")
    filename = models.CharField(max_length=200)
    # The decoded CSV (at most LEADS_IMPORT_MAX_BYTES); emptied when the import ends.
    content = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)  # non-blank data rows of the file
    processed_rows = models.PositiveIntegerField(default=0)  # the cursor: rows 0..processed-1 are written
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)  # joined an open lead's timeline
    rejected = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs taken over from a crashed one
    error = models.TextField(blank=True)  # why a failed job stopped
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # each chunk; the sweep's "is it alive"
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's scan: jobs that should be moving.
            models.Index(fields=["heartbeat_at"], condition=Q(state__in=ACTIVE_STATES), name="importjob_active"),
            models.Index(fields=["created_by", "-created_at"], name="importjob_user_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")), name="importjob_processed_within_total"
            ),
            models.CheckConstraint(
                condition=Q(processed_rows=models.F("imported") + models.F("duplicates") + models.F("rejected")),
                name="importjob_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.filename}"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int:
        return 100 if self.state == JobState.DONE else int(100 * self.processed_rows / max(self.total_rows, 1))


class ImportJobRow(models.Model):
    """What became of one row of the file: the lead it created or joined, or why it was rejected."""

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "Imported"
        DUPLICATE = "duplicate", "Joined an open lead"
        REJECTED = "rejected", "Rejected"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()  # line number in the file (the header is line 1)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raw = models.JSONField(default=dict, blank=True)  # the row's cells, kept for rejected rows (the report)
    errors = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="importjobrow_once_per_line")]
        indexes = [models.Index(fields=["job", "outcome"], name="importjobrow_outcome")]

    def __str__(self) -> str:
        return f"Line {self.line}: {self.get_outcome_display()}"


class ExportJob(models.Model):
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    # The lead list's filters as a query string, re-applied as created_by at each chunk.
    query = models.CharField(max_length=2000, blank=True)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)  # counted when asked; leads arriving since may add a few
    processed_rows = models.PositiveIntegerField(default=0)
    last_lead_id = models.BigIntegerField(default=0)  # the cursor: leads are written in id order
    chunks = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["heartbeat_at"], condition=Q(state__in=ACTIVE_STATES), name="exportjob_active"),
            models.Index(fields=["finished_at"], condition=Q(state="done"), name="exportjob_done"),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk}"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED, JobState.EXPIRED)

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return min(99, int(100 * self.processed_rows / max(self.total_rows, 1)))


class ExportChunk(models.Model):
    """One chunk of an export's CSV lines (no header), written in the same transaction as the cursor."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="chunk_rows")
    seq = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="exportchunk_once_per_seq")]

    def __str__(self) -> str:
        return f"Chunk {self.seq} of export {self.job_id}"
