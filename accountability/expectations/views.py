from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accountability.expectations import kpis as kpi_module
from accountability.expectations import selectors, services
from accountability.expectations.forms import DocumentCreateForm, DraftForm, KpiForm, PublishForm
from accountability.expectations.models import SECTION_FIELDS, SECTIONS, Document, DocumentVersion
from accountability.expectations.rendering import SectionDiff, diff_lines
from accountability.forms import Confirmation, add_service_errors, is_confirmed
from accountability.models import Team, User
from accountability.scoping import (
    admin_required,
    descendant_team_ids,
    managed_teams,
    manager_required,
    team_picked,
)

# --- Reading ---------------------------------------------------------------------------------


def _bindings_for(version: DocumentVersion, user: User) -> list:
    """Live SLA policy values to show beside bound KPIs: the team document's team; for the
    organisation document the reader's teams, else the teams they lead, else the organisation default."""
    if not any(k.bind_to_sla for k in version.kpis.all()):
        return []
    if version.document.team_id:
        teams = [version.document.team]
    else:
        teams = list(Team.objects.filter(memberships__user=user)) or list(Team.objects.filter(manager=user)) or [None]
    cache: dict = {}
    return [b for b in (kpi_module.sla_binding(t, cache) for t in teams[:12]) if b is not None]


@login_required
@require_GET
def document_current(request):
    """Everyone's page: the current version of every document that applies to them."""
    user = request.user
    versions = selectors.current_versions_for_reader(user)
    acked = selectors.acknowledged_version_ids(user, versions) if versions else set()
    items = []
    for version in versions:
        items.append(
            {
                "version": version,
                "acknowledged": version.pk in acked,
                "must_acknowledge": selectors.document_covers(version.document, user),
                "bindings": _bindings_for(version, user),
            }
        )
    return render(request, "expectations/document_current.html", {"items": items})


@login_required
@require_GET
def version_detail(request, pk: int, number: int):
    document = selectors.document_get_for_user(request.user, pk)
    version = selectors.version_get_for_user(request.user, document, number)
    acknowledgement = version.acknowledgements.filter(user=request.user).first() if not version.is_draft else None
    return render(
        request,
        "expectations/version_detail.html",
        {
            "document": document,
            "version": version,
            "acknowledgement": acknowledgement,
            "must_acknowledge": version.is_current and selectors.document_covers(document, request.user),
            "history": selectors.published_versions(document),
            "bindings": _bindings_for(version, request.user),
        },
    )


@login_required
@require_GET
def version_print(request, pk: int, number: int):
    document = selectors.document_get_for_user(request.user, pk)
    version = selectors.version_get_for_user(request.user, document, number)
    return render(
        request,
        "expectations/version_print.html",
        {"document": document, "version": version, "bindings": _bindings_for(version, request.user)},
    )


@login_required
@require_GET
def version_diff(request, pk: int):
    document = selectors.document_get_for_user(request.user, pk)
    try:
        a, b = int(request.GET.get("from", "")), int(request.GET.get("to", ""))
    except ValueError:
        raise Http404("Choose two versions to compare.") from None
    old = selectors.version_get_for_user(request.user, document, a)
    new = selectors.version_get_for_user(request.user, document, b)
    sections = [
        SectionDiff(heading, diff_lines(getattr(old, name), getattr(new, name))) for name, heading, _ in SECTIONS
    ]
    sections.append(
        SectionDiff(
            "KPI rows",
            diff_lines("\n".join(k.line() for k in old.kpis.all()), "\n".join(k.line() for k in new.kpis.all())),
        )
    )
    return render(
        request,
        "expectations/version_diff.html",
        {
            "document": document,
            "old": old,
            "new": new,
            "sections": sections,
            "history": selectors.published_versions(document),
        },
    )


@login_required
@require_POST
def version_acknowledge(request, pk: int, number: int):
    document = selectors.document_get_for_user(request.user, pk)
    version = selectors.version_get_for_user(request.user, document, number)
    try:
        services.acknowledgement_create(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("expectations:version-detail", pk=document.pk, number=version.number)
    messages.success(request, f"Thank you: you acknowledged “{document.title}”, version {version.number}.")
    if selectors.pending_versions_for(request.user):
        return redirect("expectations:document-current")
    return redirect("home")


# --- Authoring (admins) ------------------------------------------------------------------------


@admin_required
@require_GET
def document_list(request):
    documents = selectors.documents_for_admin()
    has_org = any(d.team_id is None for d in documents)
    form = DocumentCreateForm(initial={"title": "" if has_org else "Sales team expectations"})
    taken = [d.team_id for d in documents if d.team_id]
    form.fields["team"].queryset = Team.objects.exclude(id__in=taken)
    return render(
        request,
        "expectations/document_list.html",
        {"documents": documents, "form": form, "progress": _ack_progress()},
    )


def _ack_progress() -> dict[int, tuple[int, int]]:
    """current version id -> (acknowledged, required), from the same five status queries."""
    _, rows = selectors.acknowledgement_status(User.objects.all())
    progress: dict[int, list[int]] = {}
    for row in rows:
        for cell in row.cells:
            counts = progress.setdefault(cell.version.pk, [0, 0])
            counts[0] += cell.done
            counts[1] += 1
    return {pk: (done, required) for pk, (done, required) in progress.items()}


@admin_required
@require_POST
def document_create(request):
    form = DocumentCreateForm(request.POST)
    if form.is_valid():
        try:
            document = services.document_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{document.title}” created: write version 1, then publish it.")
            return redirect("expectations:draft-edit", pk=document.pk)
    documents = selectors.documents_for_admin()
    return render(
        request,
        "expectations/document_list.html",
        {"documents": documents, "form": form, "progress": _ack_progress()},
        status=400,
    )


def _admin_document(pk: int) -> Document:
    try:
        return Document.objects.select_related("team").get(pk=pk)
    except Document.DoesNotExist:
        raise Http404("No such document.") from None


@admin_required
@require_POST
def draft_start(request, pk: int):
    document = _admin_document(pk)
    services.draft_start(actor=request.user, document=document)
    return redirect("expectations:draft-edit", pk=document.pk)


def _draft_context(document, draft, form=None, kpi_form=None, publish_form=None):
    return {
        "document": document,
        "draft": draft,
        "form": form or DraftForm(initial={name: getattr(draft, name) for name in SECTION_FIELDS}),
        "kpi_form": kpi_form or KpiForm(),
        "publish_form": publish_form or PublishForm(initial={"change_summary": draft.change_summary}),
        "problems": services.publish_problems(draft),
        "current": selectors.current_version(document),
        "sla_available": kpi_module.sla_available(),
    }


@admin_required
def draft_edit(request, pk: int):
    document = _admin_document(pk)
    draft = selectors.draft_version(document)
    if draft is None:
        messages.info(request, "There is no draft: press “Edit” to start one from the current version.")
        return redirect("expectations:document-list")
    if request.method == "POST":
        form = DraftForm(request.POST)
        if form.is_valid():
            services.draft_update(
                actor=request.user,
                version=draft,
                change_summary=request.POST.get("change_summary"),  # typed beside the Publish button
                **form.cleaned_data,
            )
            messages.success(request, f"Draft version {draft.number} saved.")
            return redirect("expectations:draft-edit", pk=document.pk)
        return render(request, "expectations/draft_edit.html", _draft_context(document, draft, form=form), status=400)
    return render(request, "expectations/draft_edit.html", _draft_context(document, draft))


def _kpi_partial(request, document, draft, kpi_form=None, error: str = "", confirm=None):
    """The KPI editor for an htmx request. Always 200, errors included: htmx 2 does not swap a
    4xx answer by default, so a 400 would leave the admin looking at an unchanged form."""
    return render(
        request,
        "expectations/includes/kpi_editor.html",
        {
            "document": document,
            "draft": draft,
            "kpi_form": kpi_form or KpiForm(),
            "sla_available": kpi_module.sla_available(),
            "kpi_error": error,
            "confirm": confirm,
        },
    )


@admin_required
@require_POST
def kpi_create(request, pk: int):
    document = _admin_document(pk)
    draft = selectors.draft_version(document)
    if draft is None:
        raise Http404("There is no draft to add a KPI to.")
    form = KpiForm(request.POST)
    if form.is_valid():
        try:
            services.kpi_add(actor=request.user, version=draft, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            draft = selectors.draft_version(document)
            if request.htmx:
                return _kpi_partial(request, document, draft)
            messages.success(request, "KPI added.")
            return redirect("expectations:draft-edit", pk=document.pk)
    if request.htmx:
        return _kpi_partial(request, document, draft, kpi_form=form)
    return render(request, "expectations/draft_edit.html", _draft_context(document, draft, kpi_form=form), status=400)


@admin_required
@require_POST
def kpi_delete(request, kpi_pk: int):
    kpi = selectors.kpi_get_for_admin(kpi_pk)
    document = kpi.version.document
    if kpi.version.is_draft and not is_confirmed(request):
        # Ask first, in the editor itself (a published version's KPI goes on to the service's refusal).
        confirm = Confirmation(
            question=f"Remove “{kpi.line()}”?",
            consequence="People are held to this number until you publish the draft without it.",
            action=reverse("expectations:kpi-delete", args=[kpi.pk]),
            cancel_url=reverse("expectations:draft-edit", args=[document.pk]),
            hx_target="#kpi-editor",
        )
        if request.htmx:
            return _kpi_partial(request, document, kpi.version, confirm=confirm)
        context = {**_draft_context(document, kpi.version), "confirm": confirm}
        return render(request, "expectations/draft_edit.html", context)
    try:
        services.kpi_delete(actor=request.user, kpi=kpi)
    except ValidationError as exc:
        draft = selectors.draft_version(document)
        if request.htmx and draft is not None:
            return _kpi_partial(request, document, draft, error=" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
        if request.htmx:  # no editor left to swap into: send the whole page to the list
            return HttpResponse(headers={"HX-Redirect": reverse("expectations:document-list")})
        return redirect("expectations:document-list")
    draft = selectors.draft_version(document)
    if request.htmx:
        return _kpi_partial(request, document, draft)
    return redirect("expectations:draft-edit", pk=document.pk)


@admin_required
@require_POST
def version_publish(request, pk: int):
    document = _admin_document(pk)
    draft = selectors.draft_version(document)
    if draft is None:
        raise Http404("There is no draft to publish.")
    # The editor's Publish button submits the sections form too: publish exactly what it holds.
    # Only the sections present in the POST are written, so a bare publish keeps the saved draft.
    draft_form = DraftForm(request.POST)
    form = PublishForm(request.POST)
    if draft_form.is_valid() and form.is_valid():
        sections = {name: text for name, text in draft_form.cleaned_data.items() if name in request.POST}
        try:
            version = services.version_publish(
                actor=request.user,
                version=draft,
                change_summary=form.cleaned_data["change_summary"],
                sections=sections,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Version {version.number} published: everyone it covers is asked to acknowledge it."
            )
            return redirect("expectations:version-detail", pk=document.pk, number=version.number)
    if not any(name in request.POST for name in SECTION_FIELDS):
        draft_form = None  # nothing typed to give back: show the saved draft
    return render(
        request,
        "expectations/draft_edit.html",
        _draft_context(document, draft, form=draft_form, publish_form=form),
        status=400,
    )


# --- Status and scorecard ----------------------------------------------------------------------


def _scoped_teams(request) -> tuple[list[Team], Team | None]:
    """The teams a manager (their teams and sub-teams) or an admin (all) may look at, and the one
    chosen with ?team= (404 when it is outside their scope)."""
    teams = list(managed_teams(request.user).order_by("name"))
    return teams, team_picked(teams, request.GET.get("team"))


@manager_required
@require_GET
def acknowledgement_status(request):
    """Managers: each person in their teams. Admins: a line per team, and per person for one team."""
    user = request.user
    teams, chosen = _scoped_teams(request)
    if chosen is not None:
        people = selectors.people_in_teams(descendant_team_ids([chosen.pk]), exclude=user)
    elif user.is_admin:
        people = User.objects.all()
    else:
        people = selectors.people_in_teams([t.pk for t in teams], exclude=user)
    versions, rows = selectors.acknowledgement_status(people)
    by_team = selectors.status_by_team(rows, teams) if user.is_admin and chosen is None else None
    return render(
        request,
        "expectations/acknowledgement_status.html",
        {"versions": versions, "rows": rows, "by_team": by_team, "teams": teams, "chosen": chosen},
    )


@login_required
@require_GET
def kpi_scorecard(request):
    """Each rep against the current KPIs: a rep sees themselves, a manager each rep of their teams."""
    user = request.user
    if user.is_rep:
        teams, chosen = [], None
        people_qs = User.objects.filter(pk=user.pk)
    else:
        teams, chosen = _scoped_teams(request)
        scope = descendant_team_ids([chosen.pk]) if chosen else [t.pk for t in teams]
        people_qs = selectors.people_in_teams(scope).filter(role=User.Role.REP)
    versions, rows = selectors.acknowledgement_status(people_qs)
    version_ids = [v.pk for v in versions]
    versions = list(
        DocumentVersion.objects.filter(pk__in=version_ids).select_related("document__team").prefetch_related("kpis")
    )
    versions.sort(key=lambda v: (v.document.team_id is not None, v.document.team.name if v.document.team else ""))
    team_by_id = {t.pk: t for t in Team.objects.filter(memberships__user__in=[r.user for r in rows]).distinct()}
    people = []
    for row in rows:
        primary = team_by_id.get(row.user._expectations_first_team_id)  # their first team (scoping)
        people.append((row.user, primary, {cell.version.pk for cell in row.cells}))
    cards = kpi_module.scorecards(versions, people)
    return render(
        request,
        "expectations/kpi_scorecard.html",
        {
            "cards": cards,
            "teams": teams,
            "chosen": chosen,
            "metrics_available": kpi_module.metrics_available(),
            "reverse_base": reverse("expectations:kpi-scorecard"),
        },
    )


def first_view_redirect(request) -> str | None:
    """Where to send someone arriving on the home page with a current version they have not
    acknowledged and have not yet been shown in this session (so: at login). Afterwards the banner
    reminds them instead; they are never locked out of their work."""
    pending = selectors.pending_versions_for(request.user)
    if not pending:
        return None
    shown = set(request.session.get("expectations_shown", []))
    unseen = [v for v in pending if v.pk not in shown]
    if not unseen:
        return None
    request.session["expectations_shown"] = sorted(shown | {v.pk for v in pending})
    return reverse("expectations:version-detail", args=[unseen[0].document_id, unseen[0].number])
