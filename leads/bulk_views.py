"""Acting on the leads ticked in the lead list or the neglected report (one POST endpoint).

The selection is checked like one lead is (leads.bulk_selectors): an id the user may not see
refuses the whole action with a 404, one they may not change with a 403, and nothing changes.
Bad input (no selection, no reason...) comes back as a page with the selection still ticked,
the values typed and the message, so nothing is lost.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from leads.bulk_forms import BulkActionForm
from leads.bulk_selectors import NOT_MANAGED, can_reassign, leads_get_for_user_bulk
from leads.bulk_services import leads_bulk_reassign, leads_bulk_stage_change
from leads.forms import add_service_errors
from leads.importing import export_rows
from leads.models import Lead
from leads.selectors import leads_visible_to


def _next_url(request, form: BulkActionForm) -> str:
    raw = form.data.get("next") or ""
    if raw and url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()}, require_https=False):
        return raw
    return "/leads/"


def _form_page(request, form: BulkActionForm, *, status: int) -> HttpResponse:
    """The refused form, with what was selected (only leads the user may see) still ticked."""
    ids = form.cleaned_data.get("ids") if "ids" in getattr(form, "cleaned_data", {}) else []
    leads = list(leads_visible_to(request.user).filter(pk__in=ids or []).select_related("owner", "team")[:100])
    context = {"bulk_form": form, "leads": leads, "back": _next_url(request, form)}
    return render(request, "leads/lead_bulk.html", context, status=status)


def _refused(request, form: BulkActionForm, message: str, *, status: int) -> HttpResponse:
    context = {"refused": message, "back": _next_url(request, form)}
    return render(request, "leads/lead_bulk.html", context, status=status)


def _plural(n: int, word: str = "lead") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@login_required
@require_POST
def lead_bulk(request):
    user = request.user
    form = BulkActionForm(request.POST, user=user)
    if request.POST.get("action") == "reassign" and not can_reassign(user):
        # What a single reassignment answers a rep: not for their role.
        return _refused(request, form, NOT_MANAGED, status=403)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    d = form.cleaned_data
    action = d["action"]
    try:
        leads = leads_get_for_user_bulk(user, d["ids"], for_write=action != "export", for_reassign=action == "reassign")
    except Http404 as exc:
        return _refused(request, form, str(exc), status=404)
    except PermissionDenied as exc:
        return _refused(request, form, str(exc), status=403)

    if action == "export":
        rows = leads_visible_to(user).filter(pk__in=d["ids"]).select_related("owner", "team", "source")
        rows = rows.order_by("-arrived_at", "-id")  # the list's default order
        response = StreamingHttpResponse(export_rows(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="leads-selected-{timezone.localdate():%Y-%m-%d}.csv"'
        return response
    try:
        if action == "reassign":
            result = leads_bulk_reassign(actor=user, leads=leads, to_owner=d["to_owner"], reason=d["reason"])
            done = f"{_plural(len(result.changed))} reassigned to {d['to_owner']}."
            already = f" {_plural(len(result.unchanged))} already theirs, left as they were."
        else:
            result = leads_bulk_stage_change(actor=user, leads=leads, stage=d["stage"], lost_reason=d["lost_reason"])
            label = Lead.Stage(d["stage"]).label
            done = f"{_plural(len(result.changed))} moved to {label}."
            already = f" {_plural(len(result.unchanged))} already {label}, left as they were."
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _form_page(request, form, status=400)
    except PermissionDenied as exc:
        return _refused(request, form, str(exc), status=403)
    messages.success(request, done + (already if result.unchanged else ""))
    return redirect(_next_url(request, form))
