"""Who may see which reviews, cycles, action items and 1:1s. Every reviews view starts here.

A rep: their own. A manager: those of their teams (and sub-teams), plus any they review.
An admin: all. Anything else is a 404 (get_visible_or_404), never a hint.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accountability.models import User
from accountability.scoping import get_visible_or_404, managed_team_ids, scope_queryset
from reviews.models import ActionItem, AgendaItem, Meeting, OneOnOneSeries, Review, ReviewCycle, ReviewTemplate


def reviews_visible_to(user: User) -> QuerySet[Review]:
    qs = Review.objects.select_related("cycle__template", "rep", "reviewer", "team")
    if not user.is_authenticated:
        return qs.none()
    scoped = scope_queryset(qs, user, owner_field="rep", team_field="team")
    if user.is_admin:
        return scoped
    return qs.filter(Q(pk__in=scoped.values("pk")) | Q(reviewer=user))


def review_get_for_user(user: User, pk) -> Review:
    return get_visible_or_404(reviews_visible_to(user), pk=pk)


def cycles_visible_to(user: User) -> QuerySet[ReviewCycle]:
    """Admins: all. A manager: cycles covering a team they manage (or reviews they write)."""
    qs = ReviewCycle.objects.select_related("template")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    managed = managed_team_ids(user)
    return qs.filter(Q(teams__in=managed) | Q(reviews__reviewer=user)).distinct()


def cycle_get_for_user(user: User, pk) -> ReviewCycle:
    return get_visible_or_404(cycles_visible_to(user), pk=pk)


def cycle_progress(user: User, cycle: ReviewCycle) -> list[Review]:
    """The cycle's reviews this user sees, with who has submitted what."""
    return list(reviews_visible_to(user).filter(cycle=cycle).order_by("team__name", "rep__first_name", "rep__username"))


def templates_current() -> QuerySet[ReviewTemplate]:
    return ReviewTemplate.objects.filter(is_current=True).annotate(n_criteria=Count("criteria"))


def action_items_visible_to(user: User) -> QuerySet[ActionItem]:
    qs = ActionItem.objects.select_related("owner", "rep", "review__cycle", "meeting")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    condition = Q(rep=user) | Q(owner=user)
    managed = managed_team_ids(user)
    if managed:
        condition |= Q(team_id__in=managed)
    return qs.filter(condition)


def action_items_open_for_owner(user: User) -> QuerySet[ActionItem]:
    """The owner's open items (an owner always sees their own: no team lookup, one query)."""
    if not user.is_authenticated:
        return ActionItem.objects.none()
    return ActionItem.objects.filter(owner=user, status=ActionItem.Status.OPEN).order_by("due_date", "pk")


def series_visible_to(user: User) -> QuerySet[OneOnOneSeries]:
    qs = OneOnOneSeries.objects.select_related("manager", "rep", "team")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    condition = Q(rep=user) | Q(manager=user)
    managed = managed_team_ids(user)
    if managed:
        condition |= Q(team_id__in=managed)
    return qs.filter(condition)


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    return Meeting.objects.select_related("series__manager", "series__rep", "series__team").filter(
        series__in=series_visible_to(user)
    )


def meeting_get_for_user(user: User, pk) -> Meeting:
    return get_visible_or_404(meetings_visible_to(user), pk=pk)


def agenda_item_get_for_user(user: User, pk) -> AgendaItem:
    return get_visible_or_404(
        AgendaItem.objects.select_related("meeting__series").filter(meeting__in=meetings_visible_to(user)), pk=pk
    )


def action_item_get_for_user(user: User, pk) -> ActionItem:
    return get_visible_or_404(action_items_visible_to(user), pk=pk)
