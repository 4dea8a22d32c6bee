"""Pages reps and managers work in: My day, the lead list, the lead page and its in-page actions.

Every lead is fetched through leads.selectors (404 when not visible). Mutating views are
POST-only, call one service, and answer htmx requests with the same partial the full page
includes. Pages, and dates typed in forms, are in the user's time zone: UserTimeZoneMiddleware
activates it for every request (accountability/timezones.py has the rule).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accountability.notifications.views import etag_matches, live_response
from accountability.pagination import CappedPaginator
from accountability.scoping import can_manage_team, get_visible_or_404, member_team_ids, team_scope
from accountability.templatetags.formatting import moment
from leads.forms import (
    ActivityEditForm,
    ActivityForm,
    CorrectionForm,
    LeadEditForm,
    LeadFilterForm,
    LeadForm,
    ReassignForm,
    StageForm,
    add_service_errors,
)
from leads.importing import export_rows
from leads.models import Activity, Lead
from leads.reports.selectors import people_choices
from leads.selectors import (
    activities_visible_to,
    lead_get_claimable,
    lead_get_for_user,
    lead_open_follow_up,
    lead_writable_by,
    leads_visible_to,
    my_day_context,
    my_day_version,
)
from leads.services import (
    activity_correct,
    activity_editable_by,
    activity_log,
    edit_window,
    lead_claim,
    lead_create,
    lead_reassign,
    lead_stage_change,
    lead_update,
)

PAGE_SIZE = 25
# The lead list counts up to this many leads; beyond, it says "more than 1,000: filter to narrow
# the list" and pages up to there. Counting a head of sales' 100,000 leads cost more than the rest
# of the page (40 ms), a manager's 10,000 about 5-30 ms; up to the cap it is an index read that does
# not grow with the organisation (issue 16).
LIST_COUNT_CAP = 1_000
# --- My day ------------------------------------------------------------------------------------


@login_required
@require_GET
def my_day_view(request):
    return render(request, "leads/my_day.html", my_day_context(request.user))


@require_GET
def my_day_sections(request):
    """My day's sections for a polling tab (static/js/live.js): 304 Not Modified when nothing
    My day shows has changed (one query, my_day_version), else the sections again, so rows move
    between sections (a follow-up falls due, a lead is reassigned away) without a reload. A
    signed-out tab gets 401 (and stops) rather than the login page swapped into the day."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    version = my_day_version(request.user)
    if etag_matches(request, version):
        return live_response(HttpResponseNotModified(), version)
    response = render(request, "leads/includes/my_day_sections.html", my_day_context(request.user))
    return live_response(response, version)


@login_required
@require_GET
def quick_log_form(request, pk: int):
    """One My day row's quick-log form, fetched by htmx when the rep clicks "Log" on the row.

    My day renders only a "Log" button per row (rendering a hundred forms with their outcome
    menus was most of the page's time); the form comes here on demand and then posts to
    activity-create like before, which answers with the refreshed sections."""
    lead = lead_get_for_user(request.user, pk)
    context = {"lead": lead, "log_form": ActivityForm(auto_id=False)}
    return render(request, "leads/includes/quick_log_form.html", context)


# --- list and export ------------------------------------------------------------------------------


def _filtered(request, **choices):
    tz = timezone.get_current_timezone()  # the user's, set by UserTimeZoneMiddleware
    form = LeadFilterForm(request.GET or None, user=request.user, **choices)
    qs = form.filter(leads_visible_to(request.user), now=timezone.now(), tz=tz)
    return form, qs


@login_required
@require_GET
def lead_list(request):
    # The teams in one query that also answers the scoping questions of the rest of the request
    # (managed, member teams, the tree: three queries before), and the people of the owner
    # filters and of the action bar's "Give them to" in one (two of whole users before).
    scope = team_scope(request.user)
    people, give_to = people_choices(request.user, scope, owners=True, active_owners=True)
    form, qs = _filtered(request, people=people, teams=scope.teams)
    rows = qs.select_related("owner", "team", "source")
    page = CappedPaginator(rows, PAGE_SIZE, cap=LIST_COUNT_CAP).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "leads/lead_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now(), "give_to": give_to},
    )


@login_required
@require_GET
def lead_export(request):
    """The list's leads as CSV with the same filters; scoped like the list (a rep: own leads only)."""
    form, qs = _filtered(request)
    if form.is_bound and not form.is_valid():
        # Exporting every lead instead of the filtered ones would be a silent surprise.
        errors = "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items())
        message = f"The filters are not valid, nothing exported. {errors}"
        return HttpResponse(message, status=400, content_type="text/plain")
    total = qs.count()
    if total > settings.LEADS_EXPORT_SYNC_MAX_ROWS:
        # Too many to stream within a request: a background export (leads.jobs), asked for by a POST.
        context = {"total": total, "query": request.GET.urlencode(), "limit": settings.LEADS_EXPORT_SYNC_MAX_ROWS}
        return render(request, "leads/export_job_confirm.html", context)
    qs = qs.select_related("owner", "team", "source")
    response = StreamingHttpResponse(export_rows(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


# --- create and edit -------------------------------------------------------------------------------


@login_required
def lead_create_view(request):
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        owner = d.get("owner") if not request.user.is_rep else request.user
        try:
            result = lead_create(
                actor=request.user,
                team=d["team"],
                name=d["name"],
                company=d["company"],
                email=d["email"],
                phone=d["phone"],
                value=d.get("value") or 0,
                notes=d["notes"],
                source=d.get("source"),
                owner=owner,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            lead = result.lead
            if result.duplicate:
                messages.info(request, f"{lead.name} is already an open lead: the inquiry was added to its timeline.")
            else:
                messages.success(request, f"Lead “{lead.name}” created.")
            if leads_visible_to(request.user).filter(pk=lead.pk).exists():
                return redirect("leads:lead-detail", pk=lead.pk)
            return redirect("leads:lead-list")
    return render(request, "leads/lead_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def lead_edit(request, pk: int):
    lead = lead_get_for_user(request.user, pk, for_write=True)
    fields = ["name", "company", "email", "phone", "value", "notes"]
    form = LeadEditForm(request.POST or None, initial={f: getattr(lead, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        try:
            lead_update(actor=request.user, lead=lead, **{f: form.cleaned_data[f] for f in fields})
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Contact details saved.")
            return redirect("leads:lead-detail", pk=lead.pk)
    return render(request, "leads/lead_edit.html", {"form": form, "lead": lead}, status=400 if form.errors else 200)


# --- lead page ----------------------------------------------------------------------------------------


def _detail_context(request, lead: Lead, **forms) -> dict:
    user = request.user
    now = timezone.now()
    can_manage = can_manage_team(user, lead.team)
    timeline = list(lead.activities.select_related("actor"))
    # A correction is a note on the same lead (activity_log refuses another lead's entry), so the
    # entry it corrects and the corrections of each entry are in this list: linked here, in the
    # list's order (the corrections' own), rather than by a join and a prefetch query.
    by_id = {entry.pk: entry for entry in timeline}
    for entry in timeline:
        entry.correction_list = []
    for entry in timeline:
        if entry.corrects_id is not None and entry.corrects_id in by_id:
            entry.corrects = by_id[entry.corrects_id]
            entry.corrects.correction_list.append(entry)
    # A refused edit or correction comes back bound: its entry shows what was typed and why it
    # was refused. An edit refused because the window closed meanwhile moves to the correction box.
    edit_form, correction_form = forms.get("edit_form"), forms.get("correction_form")
    for entry in timeline:
        entry.editable = activity_editable_by(entry, user, now=now)
        # Set on every entry: the template engine answers a missing attribute with an exception
        # and a dir() of the instance (three per entry: 1.5 ms of a lead page of 11 entries).
        entry.correction_form, entry.correction_errors = None, ()
        if edit_form is not None and edit_form.activity.pk == entry.pk:
            if entry.editable:
                entry.edit_form = edit_form
            else:
                entry.correction_form = CorrectionForm(initial={"body": edit_form["body"].value()}, activity=entry)
                entry.correction_errors = [e for errors in edit_form.errors.values() for e in errors]
        elif entry.editable:
            entry.edit_form = ActivityEditForm(activity=entry)
        if correction_form is not None and correction_form.activity.pk == entry.pk:
            entry.correction_form = correction_form
            entry.correction_errors = [e for errors in correction_form.errors.values() for e in errors]
    return {
        "lead": lead,
        "timeline": timeline,
        "follow_up": lead_open_follow_up(lead),
        "can_edit": lead_writable_by(user, lead),
        "can_claim": lead.owner_id is None and lead.is_open and lead.team_id in member_team_ids(user),
        "can_manage": can_manage,
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "stage_form": forms.get("stage_form") or StageForm(initial={"stage": lead.stage}),
        "reassign_form": forms.get("reassign_form") or (ReassignForm(lead=lead) if can_manage else None),
        "edit_minutes": int(edit_window().total_seconds() // 60),
        "now": now,
    }


@login_required
@require_GET
def lead_detail(request, pk: int):
    team_scope(request.user)  # who manages what and the team tree, in one query (two before)
    try:
        lead = lead_get_for_user(request.user, pk)
    except Http404:
        # A rep may open a lead waiting in their team's queue, to read it and claim it.
        lead = lead_get_claimable(request.user, pk)
        return render(request, "leads/lead_detail.html", {**_detail_context(request, lead), "queued_view": True})
    return render(request, "leads/lead_detail.html", _detail_context(request, lead))


def _lead_main(request, lead: Lead, *, status: int = 200, **forms) -> HttpResponse:
    """After an in-page action: htmx gets the lead's main panel; a plain POST goes back to the page."""
    lead = lead_get_for_user(request.user, lead.pk)  # re-read the columns the service changed
    if request.htmx:
        return render(request, "leads/includes/lead_main.html", _detail_context(request, lead, **forms))
    if forms:
        return render(request, "leads/lead_detail.html", _detail_context(request, lead, **forms), status=status)
    return redirect("leads:lead-detail", pk=lead.pk)


@login_required
@require_POST
def activity_create(request, pk: int):
    lead = lead_get_for_user(request.user, pk, for_write=True)
    from_my_day = request.POST.get("from") == "my-day"
    # My day has one form per row: no ids there, so they do not clash.
    form = ActivityForm(request.POST, auto_id=False) if from_my_day else ActivityForm(request.POST)
    logged = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            logged = activity_log(
                actor=request.user,
                lead=lead,
                kind=d["kind"],
                outcome=d["outcome"],
                body=d["body"],
                next_follow_up_at=d["next_follow_up_at"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if from_my_day:
        # The row with the error gets the bound form back (what was typed, and the message);
        # htmx swaps only 2xx answers, so its answer is a 200.
        extra = {} if form.is_valid() and not form.errors else {"error_lead_id": lead.pk, "error_form": form}
        if logged is not None:
            # The answer says what was logged (a toast, with the edit link) and keeps the lead in
            # view in its new state, even when it has left every section.
            extra = {
                "logged": logged,
                "logged_summary": logged_summary(logged),
                "logged_edit_url": f"{reverse('leads:lead-detail', args=[lead.pk])}#activity-{logged.pk}",
                "edit_until": logged.created_at + edit_window(),
            }
        if request.htmx:
            return render(request, "leads/includes/my_day_sections.html", my_day_context(request.user, **extra))
        if not extra:
            messages.success(request, f"Logged on {lead.name}.")
            return redirect("leads:my-day")
        return render(request, "leads/my_day.html", my_day_context(request.user, **extra), status=400)
    if form.errors:
        return _lead_main(request, lead, activity_form=form, status=400)
    if not request.htmx:
        messages.success(request, "Logged.")
    return _lead_main(request, lead)


def logged_summary(activity: Activity) -> str:
    """ "Call logged for Priya Raman, next follow-up Thu 3 Dec 10:00", in the reader's zone."""
    lead = activity.lead
    text = f"{activity.get_kind_display()} logged for {lead.name}"
    if lead.next_follow_up_at:
        return f"{text}, next follow-up {moment(lead.next_follow_up_at, 'weekday-short')}"
    return f"{text}, no follow-up planned"


@login_required
@require_POST
def activity_edit(request, pk: int):
    """The author fixes their own entry within the edit window."""
    activity = _activity_for(request, pk)
    form = ActivityEditForm(request.POST, activity=activity)
    if form.is_valid():
        try:
            activity_correct(
                actor=request.user,
                activity=activity,
                outcome=form.cleaned_data["outcome"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _lead_main(request, activity.lead, edit_form=form, status=400)
    return _lead_main(request, activity.lead)


@login_required
@require_POST
def activity_correction_create(request, pk: int):
    """After the window: a new note linked to the entry it corrects."""
    activity = _activity_for(request, pk)
    form = CorrectionForm(request.POST, activity=activity)
    if form.is_valid():
        try:
            activity_log(
                actor=request.user, lead=activity.lead, kind=Activity.Kind.NOTE, body=form.cleaned_data["body"],
                corrects=activity,
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _lead_main(request, activity.lead, correction_form=form, status=400)
    return _lead_main(request, activity.lead)


def _activity_for(request, pk: int) -> Activity:
    return get_visible_or_404(activities_visible_to(request.user).select_related("lead"), pk=pk)


@login_required
@require_POST
def lead_stage(request, pk: int):
    lead = lead_get_for_user(request.user, pk, for_write=True)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            lead_stage_change(
                actor=request.user, lead=lead, stage=form.cleaned_data["stage"],
                lost_reason=form.cleaned_data["lost_reason"],
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _lead_main(request, lead, stage_form=form, status=400)
    return _lead_main(request, lead)


@login_required
@require_POST
def lead_reassign_view(request, pk: int):
    lead = lead_get_for_user(request.user, pk)
    if not can_manage_team(request.user, lead.team):
        raise PermissionDenied
    form = ReassignForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            lead_reassign(
                actor=request.user,
                lead=lead,
                to_owner=form.cleaned_data["to_owner"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return _lead_main(request, lead, reassign_form=form, status=400)
    return _lead_main(request, lead)


@login_required
@require_POST
def lead_claim_view(request, pk: int):
    """A rep takes a lead from their team's queue (My day's "Claim")."""
    lead = lead_get_claimable(request.user, pk)
    try:
        lead_claim(actor=request.user, lead=lead)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{lead.name} is yours now.")
    if request.htmx:
        return render(request, "leads/includes/my_day_sections.html", my_day_context(request.user))
    if request.POST.get("next") == "detail":
        return redirect("leads:lead-detail", pk=lead.pk)
    return redirect("leads:my-day")
