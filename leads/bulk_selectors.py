"""Reads for acting on many leads at once: the selection, checked like one lead is.

A selection is a list of lead ids posted by a page. Every id goes through the same rules as
`leads.selectors.lead_get_for_user`: one the user may not see (another team's, or gone) makes
the whole selection a 404, one they see but may not act on a 403, so a forged id never lets
any part of an action through and the answer never says which lead it was.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accountability.models import Team, User
from accountability.scoping import can_manage_team, managed_team_ids
from leads.models import Lead
from leads.selectors import lead_writable_by, leads_visible_to

# "Select all on this page" selects at most a page (the lead list shows 25, the neglected
# report 50); a larger selection is a forged or stale form, refused with this many in the message.
BULK_MAX = 100

NOT_VISIBLE = "Nothing was changed: the selection holds a lead you cannot see (another team's, or no longer there)."
NOT_WRITABLE = "Nothing was changed: only a lead's owner or their manager can change it, and one of them is not yours."
NOT_MANAGED = "Nothing was changed: only the team's manager or an admin can reassign its leads."


def leads_get_for_user_bulk(user: User, ids, *, for_write: bool = False, for_reassign: bool = False) -> list[Lead]:
    """The selected leads (by id), or 404 when any is not visible, 403 when any is not writable
    (`for_write`) or its team not managed by the user (`for_reassign`, what a single
    reassignment asks)."""
    wanted = set(ids)
    leads = list(leads_visible_to(user).filter(pk__in=wanted).select_related("owner", "team").order_by("pk"))
    if len(leads) != len(wanted):
        raise Http404(NOT_VISIBLE)
    if for_write and not all(lead_writable_by(user, lead) for lead in leads):
        raise PermissionDenied(NOT_WRITABLE)
    if for_reassign and not all(can_manage_team(user, lead.team) for lead in leads):
        raise PermissionDenied(NOT_MANAGED)
    return leads


def can_reassign(user: User) -> bool:
    """Whether the user may reassign any lead at all: what the single reassignment asks
    (accountability.scoping.can_manage_team), so a rep never can."""
    return user.is_authenticated and (user.is_admin or bool(managed_team_ids(user)))


def assignable_owners(user: User) -> QuerySet[User]:
    """Whom this user may give leads to: the active members of the teams they manage (an admin:
    of any team); nobody for a rep. Each lead still asks its own team (leads.services)."""
    if not can_reassign(user):
        return User.objects.none()
    teams = Team.objects.all() if user.is_admin else Team.objects.filter(id__in=managed_team_ids(user))
    return (
        User.objects.filter(is_active=True, memberships__team__in=teams)
        .distinct()
        .order_by("first_name", "last_name", "id")
    )
