"""Reads of leads, always starting from what the user may see."""

from django.db.models import QuerySet

from accountability.models import User
from accountability.scoping import get_visible_or_404, scope_queryset
from leads.models import Activity, Lead


def leads_visible_to(user: User) -> QuerySet[Lead]:
    """Rep: leads they own. Manager: leads of their teams and sub-teams (and their own). Admin: all."""
    return scope_queryset(Lead.objects.all(), user, owner_field="owner", team_field="team")


def lead_get_for_user(user: User, pk, *, for_write: bool = False) -> Lead:
    """One lead, or 404 when it does not exist or is not visible (the answer never says which).

    Everyone who can see a lead may write to its timeline; finer rules (who may reassign)
    live in the services.
    """
    return get_visible_or_404(leads_visible_to(user).select_related("owner", "team", "source"), pk=pk)


def activities_visible_to(user: User) -> QuerySet[Activity]:
    return Activity.objects.filter(lead__in=leads_visible_to(user))
