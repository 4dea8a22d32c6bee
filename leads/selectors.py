"""Reads of leads, always starting from what the user may see."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from accountability.models import Membership, User
from accountability.scoping import can_manage_team, get_visible_or_404, member_team_ids, scope_queryset
from accountability.timezones import user_time_zone  # the one rule, used by my_day below
from leads.models import Activity, FollowUp, Lead

NOT_WRITABLE = "Only the lead's owner or their manager can do this."


def leads_visible_to(user: User) -> QuerySet[Lead]:
    """Rep: leads they own. Manager: leads of their teams and sub-teams (and their own). Admin: all."""
    return scope_queryset(Lead.objects.all(), user, owner_field="owner", team_field="team")


def lead_writable_by(user: User | None, lead: Lead) -> bool:
    """THE rule for acting on a lead (its details, stage and timeline): its owner, a manager of
    its team (or one above), an admin, or the system (None). Reassigning needs a manager
    (accountability.scoping.can_manage_team)."""
    return user is None or user.is_admin or lead.owner_id == user.pk or can_manage_team(user, lead.team)


def lead_get_for_user(user: User, pk, *, for_write: bool = False) -> Lead:
    """One lead for a view: 404 when it does not exist or is not visible (the answer never says
    which); with `for_write`, 403 when it is visible but the user may not act on it."""
    lead = get_visible_or_404(leads_visible_to(user).select_related("owner", "team", "source"), pk=pk)
    if for_write and not lead_writable_by(user, lead):
        raise PermissionDenied(NOT_WRITABLE)
    return lead


def lead_open_follow_up(lead: Lead) -> FollowUp | None:
    """The lead's open follow-up (at most one), read once per lead object: the lead page and its
    SLA panel both show it (it was fetched twice a page). Views re-read the lead after a change."""
    if not hasattr(lead, "_open_follow_up"):
        lead._open_follow_up = FollowUp.objects.filter(lead=lead, state=FollowUp.State.OPEN).first()
    return lead._open_follow_up


def activities_visible_to(user: User) -> QuerySet[Activity]:
    return Activity.objects.filter(lead__in=leads_visible_to(user))


def lead_queue_for(user: User) -> QuerySet[Lead]:
    """Open leads waiting unassigned in the teams this user is a member of (what they may claim)."""
    return Lead.objects.filter(
        owner__isnull=True, team_id__in=member_team_ids(user), stage__in=Lead.OPEN_STAGES
    ).select_related("team", "source")


def lead_get_claimable(user: User, pk) -> Lead:
    return get_visible_or_404(lead_queue_for(user), pk=pk)


# My day shows at most this many rows per section, most urgent first; the rest are one click
# away in the lead list (the section's count and link say how many).
MY_DAY_SECTION_CAP = 25
# The team's unassigned queue: up to this many counted, the section cap shown (oldest first), each
# with its Claim form; rendering 50 claim rows was a fifth of the page's time (issue 16).
MY_DAY_QUEUE_CAP = 50


# What a My day row shows (my_day_section.html, quick_log_form.html): a lead has 28 columns, nine
# of them dates, and building 100 full rows with their team and source was 5 of the rep's home
# page's 24 ms (issue 16). A template reading another field costs a query a row: the query-count
# tests of My day and the home page would fail.
MY_DAY_FIELDS = (
    "id", "name", "company", "phone", "email", "stage", "owner_id", "team_id",
    "arrived_at", "first_contacted_at", "next_follow_up_at",
)  # fmt: skip
QUEUE_FIELDS = ("id", "name", "company", "stage", "arrived_at", "owner_id", "team__name")


@dataclass
class MyDay:
    untouched: list[Lead]
    overdue: list[Lead]
    due_today: list[Lead]
    queue: list[Lead]

    @property
    def total(self) -> int:
        return len(self.untouched) + len(self.overdue) + len(self.due_today)


def my_day(user: User, *, now: datetime | None = None, tz: zoneinfo.ZoneInfo | None = None) -> MyDay:
    """A rep's day in two queries: their open leads needing action today, and their team's queue.

    Sections, each most urgent first: never contacted (oldest arrival first), follow-up
    overdue (longest overdue first), follow-up due later today (soonest first). A lead
    appears once, in the first section that fits it.
    """
    now = now or timezone.now()
    tz = tz or user_time_zone(user)
    local = now.astimezone(tz)
    end_of_today = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=tz)
    rows = list(
        Lead.objects.filter(owner=user, stage__in=Lead.OPEN_STAGES)
        .filter(Q(first_contacted_at__isnull=True) | Q(next_follow_up_at__lt=end_of_today))
        .only(*MY_DAY_FIELDS)
        .order_by("arrived_at", "id")[:500]
    )
    untouched = [lead for lead in rows if lead.first_contacted_at is None]
    rest = [lead for lead in rows if lead.first_contacted_at is not None and lead.next_follow_up_at is not None]
    overdue = sorted((x for x in rest if x.next_follow_up_at < now), key=lambda x: x.next_follow_up_at)
    due_today = sorted((x for x in rest if x.next_follow_up_at >= now), key=lambda x: x.next_follow_up_at)
    queue = list(
        lead_queue_for(user).select_related(None).select_related("team").only(*QUEUE_FIELDS)
        .order_by("arrived_at", "id")[:MY_DAY_QUEUE_CAP]
    )  # fmt: skip
    return MyDay(untouched=untouched, overdue=overdue, due_today=due_today, queue=queue)


def my_day_context(user: User, **extra) -> dict:
    """My day's page context, also used by the rep's home panel. The page is already in the
    rep's zone (UserTimeZoneMiddleware); "today" is computed in the same zone."""
    tz = user_time_zone(user)
    day = my_day(user, tz=tz)
    # error_lead_id is always set (None: no row has a refused form): each row compares it, and a
    # variable missing from the context costs an exception in the template engine, twice a row.
    return {
        "day": day,
        "day_tz": tz,
        "now": timezone.now(),
        "section_cap": MY_DAY_SECTION_CAP,
        "queue_cap": MY_DAY_QUEUE_CAP,
        "error_lead_id": None,
        **extra,
    }


def follow_ups_open_for(user: User) -> QuerySet[FollowUp]:
    """The open follow-ups `user` promised on leads they still own (their calendar feed), each with
    its lead, earliest first. A follow-up on a lead that changed hands is the new owner's."""
    return (
        FollowUp.objects.filter(owner=user, state=FollowUp.State.OPEN, lead__owner=user)
        .select_related("lead")
        .order_by("due_at", "id")
    )


def my_day_version(user: User, *, now: datetime | None = None, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """My day's version for a polling tab (its ETag), in one query: what My day would show only
    changes when one of these figures does, so an unchanged day is answered 304 Not Modified.

    Over the rep's open leads needing action today and their teams' queue: how many, which
    (the sum of ids: a lead reassigned away and another in changes it), the latest change to
    any (updated_at: a log, a stage, a new follow-up time), how many are overdue (a follow-up
    becoming due moves its row without any write), and the day itself (midnight moves rows)."""
    now = now or timezone.now()
    tz = tz or user_time_zone(user)
    local = now.astimezone(tz)
    end_of_today = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=tz)
    mine = Q(owner=user) & (Q(first_contacted_at__isnull=True) | Q(next_follow_up_at__lt=end_of_today))
    queue = Q(owner__isnull=True, team_id__in=Membership.objects.filter(user=user).values("team_id"))
    row = (
        Lead.objects.filter(stage__in=Lead.OPEN_STAGES)
        .filter(mine | queue)
        .order_by()
        .aggregate(
            n=Count("id"),
            ids=Sum("id"),
            last=Max("updated_at"),
            overdue=Count("id", filter=Q(owner=user, next_follow_up_at__lt=now)),
        )
    )
    last = int(row["last"].timestamp() * 1000) if row["last"] else 0
    return f'"day-{user.pk}-{local.date():%Y%m%d}-{row["n"]}-{row["ids"] or 0}-{last}-{row["overdue"]}"'
