"""How leads get in: the public web form, intake-source administration, and CSV import."""

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accountability import ratelimit
from accountability.forms import Confirmation, is_confirmed
from accountability.models import Team
from accountability.scoping import admin_required, managed_team_ids, manager_required
from leads.forms import (
    ImportUploadForm,
    IntakeSourceForm,
    IntakeSourcePublicNameForm,
    PublicLeadForm,
    TeamIntakeSettingsForm,
    add_service_errors,
)
from leads.importing import COLUMNS, ImportFileError, team_is_importable_by
from leads.jobs.models import JobState
from leads.jobs.selectors import import_job_get_for_user, import_job_pending, import_job_preview, import_jobs_recent
from leads.jobs.services import import_job_cancel, import_job_confirm, import_job_upload
from leads.models import IntakeSource, Lead, TeamIntakeSettings
from leads.services import (
    eligible_reps,
    intake_source_create,
    intake_source_rotate_token,
    intake_source_set_active,
    intake_source_set_public_name,
    lead_create,
    team_intake_settings_update,
)

# --- the public web form ------------------------------------------------------------------------


# The public form and its thank-you page are made to be embedded in an iframe on any site.
EMBEDDABLE = {"frame-ancestors": ["*"]}


# csrf_exempt: the form is public and embedded on other sites, where our CSRF cookie is
# not sent; there is no session to protect, and abuse is handled by the honeypot and the
# per-IP rate limit instead.
@csrf_exempt
@xframe_options_exempt
@csp_replace(EMBEDDABLE)
@require_http_methods(["GET", "POST"])
def intake_form(request, slug: str):
    source = get_object_or_404(IntakeSource.objects.select_related("team"), slug=slug, is_active=True)
    form = PublicLeadForm(request.POST or None)
    status = 200
    if request.method == "POST":
        allowed, retry_after = ratelimit.hit(
            "webform", ratelimit.client_ip(request), limit=settings.LEADS_WEB_FORM_RATE_PER_MINUTE
        )
        if not allowed:
            response = render(
                request,
                "leads/intake_form.html",
                {"form": form, "source": source, "rate_limited": True, "retry_after": retry_after},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        if form.is_valid():
            d = form.cleaned_data
            if d["website"]:  # a bot filled the honeypot: thank it and keep nothing
                return redirect("leads:intake-thanks", slug=source.slug)
            try:
                lead_create(
                    actor=None,
                    team=source.team,
                    source=source,
                    channel=Lead.Channel.WEB_FORM,
                    name=d["name"],
                    company=d["company"],
                    email=d["email"],
                    phone=d["phone"],
                    notes=d["message"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("leads:intake-thanks", slug=source.slug)
        status = 400
    return render(request, "leads/intake_form.html", {"form": form, "source": source}, status=status)


@xframe_options_exempt
@csp_replace(EMBEDDABLE)
@require_GET
def intake_thanks(request, slug: str):
    source = get_object_or_404(IntakeSource, slug=slug, is_active=True)
    return render(request, "leads/intake_thanks.html", {"source": source})


# --- intake sources (admins) ------------------------------------------------------------------


@admin_required
@require_GET
def intake_source_list(request):
    sources = IntakeSource.objects.select_related("team").order_by("name")
    return render(request, "leads/intakesource_list.html", {"sources": sources})


def _token_page(request, source: IntakeSource, token: str) -> HttpResponse:
    """The one time a token is shown. Not cached, not stored anywhere in clear."""
    form_url = request.build_absolute_uri(reverse("leads:intake-form", args=[source.slug]))
    api_url = request.build_absolute_uri("/api/v1/leads/")
    response = render(
        request, "leads/intakesource_token.html", {"source": source, "token": token, "form_url": form_url,
                                                   "api_url": api_url}
    )  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


@admin_required
@require_GET
def intake_source_api(request, pk: int):
    """How to send this source's leads through the API: its URLs, a curl example with the header to
    use (the token as the list shows it, its prefix: the token itself was shown once), and a link to
    the API's documentation page."""
    source = get_object_or_404(IntakeSource.objects.select_related("team"), pk=pk)
    context = {
        "source": source,
        "api_url": request.build_absolute_uri(reverse("api-lead-create")),
        "batch_url": request.build_absolute_uri(reverse("api-lead-batch")),
        "docs_url": reverse("api-docs"),
        "schema_url": reverse("api-schema"),
        "token_shown": f"{source.token_prefix}…" if source.token_prefix else "<token>",
        "rate_limit": source.rate_limit_per_minute or settings.LEADS_API_RATE_PER_MINUTE,
    }
    return render(request, "leads/intakesource_api.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def intake_source_create_view(request):
    form = IntakeSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            source, token = intake_source_create(
                actor=request.user, name=d["name"], slug=d["slug"], team=d["team"],
                rate_limit_per_minute=d["rate_limit_per_minute"], public_name=d["public_name"],
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _token_page(request, source, token)
    return render(request, "leads/intakesource_form.html", {"form": form}, status=400 if form.errors else 200)


@admin_required
@require_POST
def intake_source_rotate(request, pk: int):
    source = get_object_or_404(IntakeSource, pk=pk)
    if not is_confirmed(request):
        confirm = Confirmation(
            title="Rotate an API token",
            question=f"Rotate the API token of “{source.name}”?",
            consequence="The current token stops working at once: update every client that uses it.",
            action=reverse("leads:intake-source-rotate", args=[source.pk]),
            cancel_url=reverse("leads:intake-source-list"),
            button="Rotate token",
        )
        return render(request, "accountability/confirm.html", {"confirm": confirm})
    source, token = intake_source_rotate_token(actor=request.user, source=source)
    return _token_page(request, source, token)


@admin_required
@require_POST
def intake_source_toggle(request, pk: int):
    source = get_object_or_404(IntakeSource, pk=pk)
    if source.is_active and not is_confirmed(request):  # switching a source off asks first; on does not
        confirm = Confirmation(
            title="Deactivate an intake source",
            question=f"Deactivate “{source.name}”?",
            consequence="Its web form and API token stop working at once: new leads from it are refused. "
            "Its leads stay, and you can activate it again later.",
            action=reverse("leads:intake-source-toggle", args=[source.pk]),
            cancel_url=reverse("leads:intake-source-list"),
            button="Deactivate",
        )
        return render(request, "accountability/confirm.html", {"confirm": confirm})
    intake_source_set_active(actor=request.user, source=source, is_active=not source.is_active)
    messages.success(request, f"{source.name} is now {'active' if source.is_active else 'inactive'}.")
    return redirect("leads:intake-source-list")


@admin_required
@require_http_methods(["GET", "POST"])
def intake_source_public_name(request, pk: int):
    source = get_object_or_404(IntakeSource, pk=pk)
    form = IntakeSourcePublicNameForm(request.POST or None, initial={"public_name": source.public_name})
    if request.method == "POST" and form.is_valid():
        try:
            intake_source_set_public_name(actor=request.user, source=source, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Visitors of {source.name}'s web form now read “{source.visitor_name}”.")
            return redirect("leads:intake-source-list")
    context = {"form": form, "source": source}
    return render(request, "leads/intakesource_public_name.html", context, status=400 if form.errors else 200)


# --- CSV import ---------------------------------------------------------------------------------
# Upload → preview (every row checked, nothing written) → confirm → the job page, which shows the
# import's progress while a worker writes it in chunks (leads.jobs) and its result at the end.


@manager_required
@require_http_methods(["GET", "POST"])
def lead_import(request):
    """Upload a file and see its preview. Nothing is written until the confirm step.

    Managers and admins import (a file usually holds leads for several reps); reps enter leads by hand.
    """
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    context = {"form": form, "columns": COLUMNS, "max_kb": settings.LEADS_IMPORT_MAX_BYTES // 1024,
               "max_rows": settings.LEADS_IMPORT_MAX_ROWS}  # fmt: skip
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > settings.LEADS_IMPORT_MAX_BYTES:
                raise ImportFileError(
                    f"The file is too large: at most {settings.LEADS_IMPORT_MAX_BYTES // 1024} KB. "
                    "Split it into smaller files."
                )
            job = import_job_upload(
                actor=request.user, team=form.cleaned_data["team"], filename=upload.name, data=upload.read()
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("leads:lead-import-preview", pk=job.pk)
    if request.method == "GET":
        context["pending"] = import_job_pending(request.user)
        context["recent"] = import_jobs_recent(request.user)
    return render(request, "leads/lead_import.html", context, status=400 if form.errors else 200)


@manager_required
@require_GET
def lead_import_preview(request, pk: int):
    job = import_job_get_for_user(request.user, pk, with_content=True)
    if job.state != JobState.UPLOADED:
        return redirect("leads:import-job", pk=job.pk)
    if not team_is_importable_by(request.user, job.team):
        raise Http404("No such import.")
    try:
        parsed = import_job_preview(job)
    except ImportFileError as exc:  # readable at upload; only a lowered limit gets here
        messages.error(request, str(exc))
        return redirect("leads:lead-import")
    rows = parsed.rows
    bad = len(parsed.bad)
    return render(
        request,
        "leads/lead_import_preview.html",
        {"job": job, "team": job.team, "filename": job.filename, "rows": rows[:500], "total": len(rows), "bad": bad,
         "good": len(rows) - bad, "columns": [c for c in COLUMNS if rows and c in rows[0].raw],
         "ignored_columns": parsed.ignored_columns, "warned": sum(1 for r in rows if r.warnings)},
    )  # fmt: skip


@manager_required
@require_POST
def lead_import_confirm(request, pk: int):
    job = import_job_get_for_user(request.user, pk, with_content=True)
    if job.state != JobState.UPLOADED:  # confirmed already (a double click, a second tab)
        return redirect("leads:import-job", pk=job.pk)
    if not team_is_importable_by(request.user, job.team):
        raise Http404("No such import.")
    choice = request.POST.get("choice")
    if choice == "cancel":
        import_job_cancel(actor=request.user, job=job)
        messages.info(request, f"Nothing was imported from {job.filename}. Fix the file and upload it again.")
        return redirect("leads:lead-import")
    if choice != "good_rows":
        # "Import all": checked again now (a rep may have left the team since the preview).
        bad = len(import_job_preview(job).bad)
        if bad:
            messages.error(request, f"Nothing was imported: {bad} row(s) have errors.")
            return redirect("leads:lead-import-preview", pk=job.pk)
    import_job_confirm(actor=request.user, job=job)
    return redirect("leads:import-job", pk=job.pk)


# --- how each team's leads are assigned ---------------------------------------------------------


@login_required
@require_GET
def intake_settings_list(request):
    """Teams this user manages, with their assignment rule and who is eligible today."""
    teams = list(teams_managed_by(request.user).select_related("intake_settings", "intake_settings__last_assigned"))
    if not teams:
        raise PermissionDenied
    return render(request, "leads/intake_settings_list.html", {"teams": teams})


@login_required
@require_http_methods(["GET", "POST"])
def intake_settings_edit(request, team_id: int):
    team = get_object_or_404(teams_managed_by(request.user), pk=team_id)
    rule = TeamIntakeSettings.objects.filter(team=team).first()
    initial = {"mode": rule.mode if rule else TeamIntakeSettings.Mode.ROUND_ROBIN,
               "max_open_untouched": rule.max_open_untouched if rule else None}  # fmt: skip
    form = TeamIntakeSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            team_intake_settings_update(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Assignment for {team} saved.")
            return redirect("leads:intake-settings-list")
    return render(
        request,
        "leads/intake_settings_form.html",
        {"form": form, "team": team, "eligible": eligible_reps(team)},
        status=400 if form.errors else 200,
    )


def teams_managed_by(user):
    if user.is_admin:
        return Team.objects.all()
    return Team.objects.filter(id__in=managed_team_ids(user))
