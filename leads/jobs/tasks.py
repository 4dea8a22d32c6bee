"""Thin Celery wrappers for background imports and exports. Schedule: accountability/schedules.py."""

from celery import shared_task

from leads.jobs import services


@shared_task(acks_late=True)
def import_job_run_task(job_id: int) -> bool:
    """Import a queued CSV in chunks. At-least-once is safe: the run claims the job with a
    conditional update (a duplicate message does nothing) and each chunk starts at the cursor the
    previous chunk committed, so a re-run resumes and never imports a row twice. An error leaves
    the job running without heartbeat; the sweep sends it again, up to LEADS_JOB_MAX_ATTEMPTS."""
    return services.import_job_run(job_id=job_id)


@shared_task(acks_late=True)
def export_job_run_task(job_id: int) -> bool:
    """Write a large export in chunks. At-least-once is safe for the same reasons as the import:
    claim, then one chunk per transaction from the committed cursor (unique job and chunk number)."""
    return services.export_job_run(job_id=job_id)


@shared_task(acks_late=True)
def jobs_sweep_task() -> int:
    """Every minute: send again stopped jobs, drop stale uploads and expired exports. At-least-once
    is safe: everything it does is conditional on the rows' state, and a job sent twice runs once."""
    result = services.jobs_sweep()
    return len(result.resent)
