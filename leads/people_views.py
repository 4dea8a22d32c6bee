"""The admin's deactivation of a person (leads.people): a preview of where their open leads go,
then the confirmation. Linked from the person's page in settings (accountability)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from accountability.models import User
from accountability.scoping import admin_required
from leads.people import deactivation_plan, person_deactivate


@admin_required
def person_deactivate_view(request, pk: int):
    """GET: how many open leads will move, and to whom. POST (confirm=yes): deactivate."""
    person = get_object_or_404(User, pk=pk)
    error = ""
    if request.method == "POST" and request.POST.get("confirm") == "yes":  # else: the preview again
        try:
            plan = person_deactivate(actor=request.user, person=person)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            moved = plan.lead_count - plan.queued_count
            text = f"{person} is deactivated and can no longer log in."
            if plan.lead_count:
                text += f" {plan.lead_count} open lead{'s' if plan.lead_count != 1 else ''}: {moved} reassigned"
                text += f", {plan.queued_count} to the unassigned queue." if plan.queued_count else "."
            messages.success(request, text)
            return redirect("person-edit", pk=person.pk)
    plan = deactivation_plan(person) if person.is_active else None
    managed = list(person.managed_teams.all())
    return render(
        request,
        "leads/person_deactivate.html",
        {"person": person, "plan": plan, "error": error, "managed": managed, "is_self": person.pk == request.user.pk},
    )
