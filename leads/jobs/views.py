"""Progress and result pages of background imports and exports, their htmx progress partials and files.

Each page polls its partial every second while the job runs (four queries: the session, the user,
their time zone, the job); the partial becomes the result when the job ends, which stops the polling.
"""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accountability.scoping import manager_required
from leads.importing import COLUMNS, csv_safe, export_header
from leads.jobs import selectors, services
from leads.jobs.models import JobState


def _partial(template: str, job) -> HttpResponse:
    """The polled partial, rendered without the request: the page's context processors (the bell's
    count, the navigation) would cost queries every second for markup the partial does not show."""
    return HttpResponse(render_to_string(template, {"job": job}))


# --- import ------------------------------------------------------------------------------------


@manager_required
@require_GET
def import_job_page(request, pk: int):
    job = selectors.import_job_get_for_user(request.user, pk)
    if job.state == JobState.UPLOADED:
        return redirect("leads:lead-import-preview", pk=job.pk)
    return render(request, "leads/import_job.html", {"job": job})


@manager_required
@require_GET
def import_job_progress(request, pk: int):
    job = selectors.import_job_get_for_user(request.user, pk)
    return _partial("leads/includes/import_job_progress.html", job)


class _Echo:
    def write(self, value):
        return value


@manager_required
@require_GET
def import_job_report(request, pk: int):
    """The rejected rows with their errors, as CSV (the file's columns, its line number first)."""
    job = selectors.import_job_get_for_user(request.user, pk)
    if not job.rejected:
        raise Http404("This import rejected no row.")
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(["line", *COLUMNS, "errors"])
        for row in selectors.import_job_rejected_rows(job).iterator(chunk_size=1000):
            yield writer.writerow([row.line, *(csv_safe(row.raw.get(c, "")) for c in COLUMNS), csv_safe(row.errors)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-import-{job.pk}.csv"'
    return response


# --- export ------------------------------------------------------------------------------------


@login_required
@require_POST
def export_job_create(request):
    """Start a large export of the lead list (the filters come as the list's query string)."""
    query = request.POST.get("query", "")
    leads = selectors.export_queryset(request.user, query, now=timezone.now())
    if leads is None:
        return HttpResponse("The filters are not valid, nothing exported.", status=400, content_type="text/plain")
    try:
        job = services.export_job_create(actor=request.user, query=query, total=leads.count())
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    messages.info(request, "Your export is being prepared: this page shows its progress.")
    return redirect("leads:export-job", pk=job.pk)


@login_required
@require_GET
def export_job_page(request, pk: int):
    job = selectors.export_job_get_for_user(request.user, pk)
    return render(request, "leads/export_job.html", {"job": job})


@login_required
@require_GET
def export_job_progress(request, pk: int):
    job = selectors.export_job_get_for_user(request.user, pk)
    return _partial("leads/includes/export_job_progress.html", job)


@login_required
@require_GET
def export_job_download(request, pk: int):
    job = selectors.export_job_get_for_user(request.user, pk)
    if job.state != JobState.DONE:
        raise Http404("This export is not ready, or its file has expired.")
    chunk_ids = selectors.export_job_chunk_ids(job)

    def lines():
        yield export_header()
        for chunk_id in chunk_ids:  # one chunk (about 1 MB) in memory at a time
            yield selectors.export_chunk_text(chunk_id)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.localtime(job.created_at):%Y-%m-%d}.csv"'
    return response
