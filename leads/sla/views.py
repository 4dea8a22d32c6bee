from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accountability.forms import Confirmation, add_service_errors, is_confirmed
from accountability.models import User
from accountability.scoping import admin_required, get_visible_or_404, manager_required
from leads.sla import services
from leads.sla.forms import HolidayForm, ReassignForm, SlaPolicyForm
from leads.sla.models import BusinessHours, Holiday, SlaPolicy
from leads.sla.selectors import (
    claimable_for,
    claims_for_action,
    escalation_rows,
    escalations_for_action,
    escalations_visible_to,
    reassign_candidates,
)


def _policy_field(name: str) -> str:
    """The policy service names a weekday's error `day_<n>`; the form shows it under its closing time."""
    return f"day{name[4:]}_closes" if name.startswith("day_") else name


def _back(request, default: str):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


# --- policies (admins) ------------------------------------------------------------------


@admin_required
def policy_list(request):
    policies = SlaPolicy.objects.select_related("team", "updated_by").prefetch_related(
        Prefetch("hours", queryset=BusinessHours.objects.all())
    )
    holidays = Holiday.objects.select_related("team").order_by("date")
    return render(
        request,
        "sla/policy_list.html",
        {"policies": policies, "holidays": holidays, "holiday_form": HolidayForm()},
    )


@admin_required
def policy_edit(request, pk: int | None = None):
    policy = get_object_or_404(SlaPolicy.objects.prefetch_related("hours"), pk=pk) if pk else None
    if request.method == "POST":
        form = SlaPolicyForm(request.POST, policy=policy)
        if form.is_valid():
            data = dict(form.cleaned_data)
            team, hours = data.pop("team"), data.pop("hours")
            values = {name: data[name] for name in services.POLICY_FIELDS}
            try:
                policy = services.sla_policy_save(actor=request.user, policy=policy, team=team, hours=hours, **values)
            except ValidationError as exc:
                add_service_errors(form, exc, field_for=_policy_field)
            else:
                messages.success(request, f"{policy.scope_label}: policy saved (version {policy.version}).")
                return redirect("sla:policy-list")
    elif policy is not None:
        form = SlaPolicyForm(initial={"team": policy.team, **policy.values()}, policy=policy)
    else:
        defaults = SlaPolicy().values()
        initial = {**defaults, "team": request.GET.get("team") or None}
        for day in range(5):
            initial[f"day{day}_opens"], initial[f"day{day}_closes"] = "09:00", "17:00"
        form = SlaPolicyForm(initial=initial)
    return render(request, "sla/policy_form.html", {"form": form, "policy": policy})


@admin_required
@require_POST
def policy_delete(request, pk: int):
    policy = get_object_or_404(SlaPolicy, pk=pk)
    try:
        services.sla_policy_delete(actor=request.user, policy=policy)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Policy deleted: the team now follows its parent's or the default policy.")
    return redirect("sla:policy-list")


@admin_required
@require_POST
def holiday_create(request):
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            holiday = services.holiday_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, field_for=_policy_field)
        else:
            messages.success(request, f"Holiday {holiday} added.")
            return redirect("sla:policy-list")
    policies = SlaPolicy.objects.select_related("team", "updated_by").prefetch_related("hours")
    holidays = Holiday.objects.select_related("team").order_by("date")
    return render(
        request,
        "sla/policy_list.html",
        {"policies": policies, "holidays": holidays, "holiday_form": form},
        status=400,
    )


@admin_required
@require_POST
def holiday_delete(request, pk: int):
    holiday = get_object_or_404(Holiday.objects.select_related("team"), pk=pk)
    if not is_confirmed(request):
        confirm = Confirmation(
            title="Remove a holiday",
            question=f"Remove the holiday “{holiday.name}” ({holiday.date:%a %d %b %Y}, "
            f"{holiday.team or 'whole organisation'})?",
            consequence="SLA clocks then run on that day as on any other working day.",
            action=reverse("sla:holiday-delete", args=[holiday.pk]),
            cancel_url=reverse("sla:policy-list"),
        )
        return render(request, "accountability/confirm.html", {"confirm": confirm})
    services.holiday_delete(actor=request.user, holiday=holiday)
    messages.success(request, "Holiday removed.")
    return redirect("sla:policy-list")


# --- escalations (managers) -------------------------------------------------------------


@manager_required
def escalation_list(request):
    return render(request, "sla/escalation_list.html", {"rows": escalation_rows(request.user)})


@manager_required
@require_POST
def escalation_reassign(request, pk: int):
    """One-click reassign. 404 only for an escalation the manager may not see; one another
    manager already handled, or bad input, answers 200 (htmx swaps only 2xx) with the row
    saying why."""
    clock = get_visible_or_404(escalations_for_action(request.user), pk=pk)
    handled = clock.actioned_at is not None or not escalations_visible_to(request.user).filter(pk=clock.pk).exists()
    form = ReassignForm(request.POST)
    to_owner = None
    error = ""
    if handled:
        error = "already handled"
    elif form.is_valid():
        to_owner = User.objects.filter(pk=form.cleaned_data["to_owner"], is_active=True).first()
        if to_owner is None:
            error = "Choose who takes the lead."
    else:
        error = "Choose who takes the lead."
    if not error:
        try:
            services.escalation_reassign(actor=request.user, clock=clock, to_owner=to_owner)
        except ValidationError as exc:
            error = " ".join(exc.messages)
            clock.refresh_from_db()
            handled = clock.actioned_at is not None
    if request.htmx:
        candidates = reassign_candidates({clock.lead.team_id}).get(clock.lead.team_id, [])
        return render(
            request,
            "sla/includes/escalation_row.html",
            {
                "clock": clock,
                "candidates": [u for u in candidates if u.pk != clock.lead.owner_id],
                "error": "" if handled else error,
                "handled": handled,
                "done_to": None if error else to_owner,
            },
        )
    if handled:
        who = f" by {clock.actioned_by}" if clock.actioned_by else ""
        messages.info(request, f"{clock.lead}: already handled{who}.")
    elif error:
        messages.error(request, error)
    else:
        messages.success(request, f"{clock.lead} reassigned to {to_owner}.")
    return _back(request, "sla:escalation-list")


# --- claims (teammates) -----------------------------------------------------------------


@login_required
def claim_list(request):
    return render(request, "sla/claim_list.html", {"clocks": list(claimable_for(request.user))})


@login_required
@require_POST
def escalation_claim(request, pk: int):
    """404 only for a lead outside the user's teams; one a teammate claimed first says so."""
    clock = get_visible_or_404(claims_for_action(request.user), pk=pk)
    if not claimable_for(request.user).filter(pk=clock.pk).exists():
        who = f" by {clock.actioned_by}" if clock.actioned_by_id else ""
        messages.info(request, f"{clock.lead} was already handled{who}: nothing to claim.")
        return redirect("sla:claim-list")
    try:
        lead = services.escalated_lead_claim(actor=request.user, clock=clock)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{lead} is yours now: call them back.")
    return redirect("sla:claim-list")
