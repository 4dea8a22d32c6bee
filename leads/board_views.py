"""The pipeline board: the leads the lead list would show, as one column per stage.

Filtered by the lead list's own filter form and scoped the same way (leads_visible_to). Each
column shows its count and value over every matching lead, and its first cards (in the list's
order); the rest are one link away in the list. A card moves with the lead-stage rules
(leads.services.lead_stage_change): a move to Lost needs its reason, a refused move leaves the
lead where it was and says why. Two queries for the columns whatever the number of leads.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Sum, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from leads.forms import StageForm
from leads.models import Lead
from leads.selectors import NOT_WRITABLE, lead_get_for_user
from leads.services import lead_stage_change
from leads.views import _filtered

# Cards shown per column; the column's count and value still cover every matching lead.
CARDS_PER_COLUMN = 20


def _query(request, **changes) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def _board_context(request, **extra) -> dict:
    form, qs = _filtered(request)
    totals = {
        row["stage"]: row for row in qs.order_by().values("stage").annotate(count=Count("id"), value=Sum("value"))
    }
    # The first cards of every column in one query: rank each lead within its stage in the
    # list's order, keep the first few.
    ranked = (
        qs.annotate(rank=Window(RowNumber(), partition_by=[F("stage")], order_by=list(qs.query.order_by)))
        .filter(rank__lte=CARDS_PER_COLUMN)
        .select_related("owner", "team")
        .order_by("rank")
    )
    cards: dict[str, list[Lead]] = {stage: [] for stage in Lead.Stage.values}
    for lead in ranked:
        cards[lead.stage].append(lead)
    columns = []
    for stage, label in Lead.Stage.choices:
        total = totals.get(stage, {"count": 0, "value": 0})
        columns.append(
            {
                "stage": stage,
                "label": label,
                "count": total["count"],
                "value": total["value"] or 0,
                "cards": cards[stage],
                "more": total["count"] - len(cards[stage]),
                "more_query": _query(request, stage=stage),
            }
        )
    return {
        "form": form,
        "columns": columns,
        "stages": Lead.Stage.choices,
        "query": _query(request),
        "error": "",
        "error_lead_id": None,
        "error_stage": "",
        "notice": "",
        **extra,
    }


@login_required
@require_GET
def lead_board(request):
    return render(request, "leads/lead_board.html", _board_context(request))


@login_required
@require_POST
def lead_board_move(request, pk: int):
    """Move one card (htmx: the board comes back; a refused move keeps the card in its column,
    with the message on it). The board's filters travel in the query string."""
    try:
        lead = lead_get_for_user(request.user, pk, for_write=True)
    except Http404:
        if not request.htmx:
            raise
        return HttpResponse("That lead is not one you can see.", status=404, content_type="text/plain")
    except PermissionDenied:
        if not request.htmx:
            raise
        return HttpResponse(NOT_WRITABLE, status=403, content_type="text/plain")
    form = StageForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            lead_stage_change(
                actor=request.user, lead=lead, stage=form.cleaned_data["stage"],
                lost_reason=form.cleaned_data["lost_reason"],
            )  # fmt: skip
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if error:
        extra = {"error_lead_id": lead.pk, "error": error, "error_stage": request.POST.get("stage", "")}
    else:
        extra = {"notice": f"{lead.name} moved to {Lead.Stage(form.cleaned_data['stage']).label}."}
    if request.htmx:
        # htmx swaps 2xx answers only: a refused move is a 200 whose board says why.
        return render(request, "leads/includes/board.html", _board_context(request, **extra))
    if error:
        return render(request, "leads/lead_board.html", _board_context(request, **extra), status=400)
    messages.success(request, extra["notice"])
    query = _query(request)
    return redirect(reverse("leads:lead-board") + (f"?{query}" if query else ""))
