"""Reads behind the reports, always starting from leads_visible_to / the scoping module."""

from datetime import UTC, datetime

from django.db.models import BooleanField, Case, DateTimeField, ExpressionWrapper, F, QuerySet, Value, When
from django.db.models.functions import Coalesce, Least

from accountability.models import Membership, User
from leads.metrics import neglect_condition, overdue_q, silent_q, untouched_q
from leads.models import Lead
from leads.selectors import leads_visible_to

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def team_reps(team_ids: set[int]) -> QuerySet[User]:
    """Members of the teams (a team and its sub-teams): the rows of its dashboard."""
    return User.objects.filter(id__in=Membership.objects.filter(team_id__in=team_ids).values("user_id")).order_by(
        "first_name", "last_name", "username"
    )


def neglected_leads(
    user: User,
    *,
    now: datetime,
    hours: int,
    days: int,
    team_ids: set[int] | None = None,
    owner_id: int | None = None,
    queue: bool = False,
    reason: str = "",
) -> QuerySet[Lead]:
    """Open leads the user may see that are neglected, longest-neglected first.

    Each row carries why (why_untouched, why_overdue, why_silent, any of them may be true) and
    neglected_since: the earliest of arrival (never contacted), the missed follow-up time
    (overdue) and the last activity (silent).
    """
    untouched, overdue, silent = untouched_q(now, hours), overdue_q(now), silent_q(now, days)
    qs = leads_visible_to(user).filter(neglect_condition(now, untouched_hours=hours, silent_days=days))
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    if queue:
        qs = qs.filter(owner__isnull=True)
    elif owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if reason:
        qs = qs.filter({"untouched": untouched, "overdue": overdue, "silent": silent}[reason])
    far = Value(FAR_FUTURE, output_field=DateTimeField())
    return (
        qs.annotate(
            why_untouched=ExpressionWrapper(untouched, output_field=BooleanField()),
            why_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
            why_silent=ExpressionWrapper(silent, output_field=BooleanField()),
            # SQLite's MIN() is NULL if any argument is: hence a far-future default for each part.
            neglected_since=Least(
                Case(When(untouched, then=F("arrived_at")), default=far),
                Case(When(overdue, then=F("next_follow_up_at")), default=far),
                Case(When(silent, then=Coalesce("last_activity_at", "arrived_at")), default=far),
                output_field=DateTimeField(),
            ),
        )
        .select_related("owner", "team")
        .order_by("neglected_since", "id")
    )
