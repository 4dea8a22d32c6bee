"""Reads for follow-up SLAs: which policy applies, due times and why, escalation lists."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet

from accountability import dataversion
from accountability.models import Membership, Team, User, available_reps_q
from accountability.scoping import managed_team_ids, member_team_ids
from leads.models import FollowUp, Lead
from leads.selectors import lead_open_follow_up
from leads.sla.business_time import Calendar, add_business_minutes, business_minutes_between
from leads.sla.models import BusinessHours, Holiday, SlaClock, SlaNotice, SlaPolicy
from leads.sla.wording import FALLBACK_HOURS, duration_text, hours_summary, local_text

# --- which policy applies ---------------------------------------------------------------


@dataclass
class TeamInfo:
    id: int
    name: str
    parent_id: int | None
    manager_id: int | None
    time_zone: str


# PolicyBook.for_page's last book and its key (one per process).
_page_books: dict[str, tuple[tuple, PolicyBook]] = {}


@dataclass
class PolicyBook:
    """Every policy, team and holiday, loaded once (a handful of rows) for a sweep or a page."""

    policies: dict[int | None, SlaPolicy]
    teams: dict[int, TeamInfo]
    _holidays: dict[int | None, set[dt.date]] | None = None
    _calendars: dict[int, Calendar] = field(default_factory=dict)

    @classmethod
    def load(cls) -> PolicyBook:
        policies = {
            p.team_id: p
            for p in SlaPolicy.objects.prefetch_related(Prefetch("hours", queryset=BusinessHours.objects.all()))
        }
        teams = {
            t["id"]: TeamInfo(t["id"], t["name"], t["parent_id"], t["manager_id"], t["time_zone"])
            for t in Team.objects.values("id", "name", "parent_id", "manager_id", "time_zone")
        }
        return cls(policies=policies, teams=teams)

    @classmethod
    def for_page(cls) -> PolicyBook:
        """The book for a page (the lead's SLA panel): this process's last one while no policy,
        business hours, holiday or team was written since (their write counters) and within the
        minute (a write the counters cannot see: raw SQL, or another process's with a
        per-process cache). Three queries less a lead page. The sweeps read the database (load)."""
        labels = [m._meta.label_lower for m in (SlaPolicy, BusinessHours, Holiday, Team)]
        try:
            counters = dataversion.versions(labels)
            if None in counters:
                # No counter yet (a fresh or flushed cache): start them from the clock, so a book
                # kept from before the flush can never match again.
                dataversion.seed(labels)
                counters = dataversion.versions(labels)
        except Exception:  # the cache is unreachable: the page still shows, from the database
            return cls.load()
        key = (counters, int(time.time() // 60))
        kept = _page_books.get("book")
        if None not in counters and kept is not None and kept[0] == key:
            return kept[1]
        book = cls.load()
        _page_books["book"] = (key, book)
        return book

    @property
    def holidays(self) -> dict[int | None, set[dt.date]]:
        """Loaded on first use: pages that only read stored due times never need them."""
        if self._holidays is None:
            self._holidays = {}
            for team_id, day in Holiday.objects.values_list("team_id", "date"):
                self._holidays.setdefault(team_id, set()).add(day)
        return self._holidays

    def policy_for(self, team_id: int | None) -> SlaPolicy:
        seen = set()
        current = team_id
        while current is not None and current not in seen:
            seen.add(current)
            if current in self.policies:
                return self.policies[current]
            info = self.teams.get(current)
            current = info.parent_id if info else None
        if None in self.policies:
            return self.policies[None]
        return _fallback_policy()

    def hours_for(self, policy: SlaPolicy) -> list[tuple[int, int, int]]:
        if policy.pk is None:
            return FALLBACK_HOURS
        return [(h.weekday, h.opens, h.closes) for h in policy.hours.all()]

    def calendar_for(self, team_id: int) -> Calendar:
        if team_id not in self._calendars:
            policy = self.policy_for(team_id)
            info = self.teams.get(team_id)
            self._calendars[team_id] = Calendar.build(
                time_zone=info.time_zone if info else "UTC",
                windows=self.hours_for(policy),
                holidays=self.holidays.get(None, set()) | self.holidays.get(team_id, set()),
            )
        return self._calendars[team_id]

    def managers_above(self, team_id: int) -> list[int]:
        """Managers up the chain from the team itself, nearest first, each once."""
        result: list[int] = []
        current, seen = team_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            info = self.teams.get(current)
            if info is None:
                break
            if info.manager_id and info.manager_id not in result:
                result.append(info.manager_id)
            current = info.parent_id
        return result

    def lower_bounds(self) -> dict[str, dt.timedelta]:
        """How long after its anchor an event can first need a step, at the earliest, over every
        policy: business time never runs faster than the wall clock, so the sweep only has to
        look at leads older than this (an index range, not every open lead)."""
        policies = list(self.policies.values()) or [_fallback_policy()]

        def minimum(expr) -> dt.timedelta:
            return dt.timedelta(minutes=max(0, min(expr(p) for p in policies)))

        return {
            "first_contact": minimum(lambda p: p.first_contact_minutes - p.reminder_before_minutes),
            "follow_up_ahead": dt.timedelta(minutes=max(p.reminder_before_minutes for p in policies)),
            "no_follow_up": minimum(lambda p: p.no_follow_up_after_minutes - p.reminder_before_minutes),
        }


def _fallback_policy() -> SlaPolicy:
    return SlaPolicy(team=None, version=0)


def policy_for_team(team: Team | None) -> SlaPolicy:
    """The policy that applies to a team: its own, else its nearest ancestor's, else the
    organisation default (else the built-in defaults, unsaved)."""
    book = PolicyBook.load()
    return book.policy_for(team.pk if team else None)


@dataclass(frozen=True)
class PolicyVersionText:
    """One policy version as the lead page names it: "organisation default v1" and its hours."""

    label: str
    hours: str


def _policy_label(book: PolicyBook, policy_id: int | None, version: int) -> str:
    if policy_id is None:
        return "built-in defaults" if version == 0 else f"a policy since deleted, v{version}"
    policy = next((p for p in book.policies.values() if p.pk == policy_id), None)
    if policy is None:
        return f"a policy since deleted, v{version}"
    scope = book.teams[policy.team_id].name if policy.team_id in book.teams else "organisation default"
    return f"{scope} v{version}"


def policy_versions_for_panel(
    book: PolicyBook, clock: SlaClock | None, live: SlaPolicy
) -> tuple[PolicyVersionText, PolicyVersionText | None]:
    """The version that applies to the lead's due time (the one its clock was computed with; the
    live one when nothing is timed yet) and, when a newer one applies to new due times, that one.
    Read from the book and the clock's stored values: no query."""
    live_text = PolicyVersionText(_policy_label(book, live.pk, live.version), hours_summary(book.hours_for(live)))
    if clock is None:
        return live_text, None
    current = clock.policy_id == live.pk and clock.policy_version == live.version
    if "hours" in clock.policy_values:
        hours = hours_summary([tuple(w) for w in clock.policy_values["hours"]])
    elif current:
        hours = live_text.hours  # a clock from before hours were stored, of the version still live
    else:
        hours = "not recorded for this version"
    applied = PolicyVersionText(_policy_label(book, clock.policy_id, clock.policy_version), hours)
    return applied, None if current else live_text


# --- due events -------------------------------------------------------------------------


@dataclass
class ClockPlan:
    """A due event and every step of its ladder, computed with one policy."""

    kind: str
    key: str
    anchor_at: dt.datetime
    due_at: dt.datetime
    remind_at: dt.datetime | None
    overdue_at: dt.datetime
    escalation_due_at: dt.datetime
    escalation2_due_at: dt.datetime
    policy: SlaPolicy
    explanation: str
    follow_up_id: int | None = None
    policy_values: dict = field(default_factory=dict)

    def steps(self) -> list[tuple[str, dt.datetime]]:
        steps = [(SlaNotice.Step.REMINDER.value, self.remind_at)] if self.remind_at else []
        return [
            *steps,
            (SlaNotice.Step.OVERDUE.value, self.overdue_at),
            (SlaNotice.Step.ESCALATION_1.value, self.escalation_due_at),
            (SlaNotice.Step.ESCALATION_2.value, self.escalation2_due_at),
        ]


def policy_snapshot(book: PolicyBook, policy: SlaPolicy) -> dict:
    """What a clock stores of the policy it was computed with: the values and the version's
    business hours. Versions are not kept elsewhere, so this is how the lead page can describe
    the version that applies and speed to lead can be counted in the same hours later."""
    return {**policy.values(), "hours": [list(window) for window in book.hours_for(policy)]}


def calendar_of_clock(book: PolicyBook, clock: SlaClock | None, team_id: int) -> Calendar:
    """The business calendar a clock was computed with: its version's hours (stored on the clock)
    in the team's zone, with today's holidays. A clock from before the hours were stored, or no
    clock at all, uses the team's live policy (what a clock computed now would use)."""
    hours = clock.policy_values.get("hours") if clock is not None else None
    if hours is None:
        return book.calendar_for(team_id)
    info = book.teams.get(team_id)
    return Calendar.build(
        time_zone=info.time_zone if info else "UTC",
        windows=[tuple(window) for window in hours],
        holidays=book.holidays.get(None, set()) | book.holidays.get(team_id, set()),
    )


def first_contact_business_minutes(lead: Lead, contacted_at: dt.datetime) -> float:
    """Speed to lead in the team's business time: business minutes from arrival to the first
    contact, counted with the hours of the policy version the lead's first-contact clock used
    (its first one, anchored at arrival; a reassignment's later clock does not move the
    arrival), else the team's live policy. Stored on the lead when the first contact is logged
    (`Lead.first_contact_business_minutes`), so medians stay plain SQL in leads.metrics."""
    clock = (
        SlaClock.objects.filter(lead_id=lead.pk, kind=SlaClock.Kind.FIRST_CONTACT)
        .order_by("created_at", "id")
        .only("id", "policy_values")
        .first()
    )
    return business_minutes_to_first_contact(PolicyBook.load(), lead, contacted_at, clock=clock)


def business_minutes_to_first_contact(
    book: PolicyBook, lead: Lead, contacted_at: dt.datetime, *, clock: SlaClock | None = None
) -> float:
    """The computation of `first_contact_business_minutes` with a book already loaded (the demo
    fills hundreds of leads with one book)."""
    calendar = calendar_of_clock(book, clock, lead.team_id)
    return round(business_minutes_between(lead.arrived_at, contacted_at, calendar), 3)


def plan_clock(
    book: PolicyBook,
    *,
    lead: Lead,
    kind: str,
    anchor_at: dt.datetime,
    follow_up_id: int | None = None,
    set_at: dt.datetime | None = None,
    handed_over_to: str | None = None,
) -> ClockPlan:
    """The due time and ladder of one due event under the team's live policy.

    With `handed_over_to` (the new owner's name) the event is one the lead brought along when it
    changed hands (still uncontacted, or a follow-up already overdue): `anchor_at` is the moment
    of the hand-over and the new owner gets the first-contact time, in business time, from then.
    """
    policy = book.policy_for(lead.team_id)
    calendar = book.calendar_for(lead.team_id)
    tz = calendar.time_zone
    hours = hours_summary(book.hours_for(policy))
    if handed_over_to is not None:
        due = add_business_minutes(anchor_at, policy.first_contact_minutes, calendar)
        what = {
            SlaClock.Kind.FIRST_CONTACT: "First contact due",
            SlaClock.Kind.FOLLOW_UP: "Overdue follow-up due again",
        }.get(kind, "Next follow-up date needed by")
        why = (
            f"{what} {local_text(due, tz)}: handed over to {handed_over_to} "
            f"{local_text(anchor_at, tz, with_zone=False)}, {duration_text(policy.first_contact_minutes)} of "
            f"business time, team hours {hours}"
        )
        key = {
            SlaClock.Kind.FIRST_CONTACT: "first_contact",
            SlaClock.Kind.FOLLOW_UP: f"follow_up:{follow_up_id}",
        }.get(kind, "no_follow_up")
        key = f"{key}@{anchor_at.astimezone(dt.UTC).isoformat()}"
        earliest_reminder = anchor_at
    elif kind == SlaClock.Kind.FIRST_CONTACT:
        key = "first_contact"
        due = add_business_minutes(anchor_at, policy.first_contact_minutes, calendar)
        why = (
            f"First contact due {local_text(due, tz)}: arrived {local_text(anchor_at, tz, with_zone=False)}, "
            f"{duration_text(policy.first_contact_minutes)} of business time, team hours {hours}"
        )
        earliest_reminder = anchor_at
    elif kind == SlaClock.Kind.FOLLOW_UP:
        key = f"follow_up:{follow_up_id}"
        due = anchor_at
        why = f"Follow-up due {local_text(due, tz)}: the date the owner set"
        earliest_reminder = set_at or anchor_at
    else:
        key = f"no_follow_up:{anchor_at.astimezone(dt.UTC).isoformat()}"
        due = add_business_minutes(anchor_at, policy.no_follow_up_after_minutes, calendar)
        why = (
            f"Next follow-up date needed by {local_text(due, tz)}: last contact "
            f"{local_text(anchor_at, tz, with_zone=False)}, no follow-up date set, "
            f"{duration_text(policy.no_follow_up_after_minutes)} of business time, team hours {hours}"
        )
        earliest_reminder = anchor_at
    remind_at = None
    if policy.reminder_before_minutes:
        candidate = due - dt.timedelta(minutes=policy.reminder_before_minutes)
        if candidate > earliest_reminder:
            remind_at = candidate
    overdue_at = due + dt.timedelta(minutes=policy.overdue_reminder_minutes)
    escalation_due_at = add_business_minutes(due, policy.escalation_grace_minutes, calendar)
    escalation2_due_at = add_business_minutes(escalation_due_at, policy.second_level_delay_minutes, calendar)
    return ClockPlan(
        kind=kind,
        key=key,
        anchor_at=anchor_at,
        due_at=due,
        remind_at=remind_at,
        overdue_at=overdue_at,
        escalation_due_at=escalation_due_at,
        escalation2_due_at=escalation2_due_at,
        policy=policy,
        explanation=why[:300],
        follow_up_id=follow_up_id,
        policy_values=policy_snapshot(book, policy),
    )


def current_plan(book: PolicyBook, lead: Lead) -> ClockPlan | None:
    """The due event a lead is under right now, computed with today's policy (None when closed)."""
    if not lead.is_open:
        return None
    if lead.first_contacted_at is None:
        return plan_clock(book, lead=lead, kind=SlaClock.Kind.FIRST_CONTACT, anchor_at=lead.arrived_at)
    follow_up = lead_open_follow_up(lead)
    if follow_up is not None:
        return plan_clock(
            book,
            lead=lead,
            kind=SlaClock.Kind.FOLLOW_UP,
            anchor_at=follow_up.due_at,
            follow_up_id=follow_up.pk,
            set_at=follow_up.created_at,
        )
    if lead.next_follow_up_at is None:
        anchor = lead.last_activity_at or lead.first_contacted_at
        return plan_clock(book, lead=lead, kind=SlaClock.Kind.NO_FOLLOW_UP, anchor_at=anchor)
    return None


# --- is a due event still breached? -----------------------------------------------------

OPEN = list(Lead.OPEN_STAGES)


def still_pending_q(prefix: str = "") -> Q:
    """Clocks whose due event has not been handled, read from the lead's live columns:
    first contact still missing, the follow-up still open, no follow-up date set since the
    same last contact. Used by the delivery re-check and the escalation lists."""
    p = prefix
    lead_open = Q(**{f"{p}lead__stage__in": OPEN})
    first = Q(**{f"{p}kind": SlaClock.Kind.FIRST_CONTACT, f"{p}lead__first_contacted_at__isnull": True})
    follow_up = Q(**{f"{p}kind": SlaClock.Kind.FOLLOW_UP, f"{p}follow_up__state": FollowUp.State.OPEN})
    no_follow_up = Q(
        **{
            f"{p}kind": SlaClock.Kind.NO_FOLLOW_UP,
            f"{p}lead__next_follow_up_at__isnull": True,
            f"{p}lead__last_activity_at__lte": F(f"{p}anchor_at"),
        }
    )
    return lead_open & (first | follow_up | no_follow_up)


def clock_is_pending(clock: SlaClock, lead: Lead, follow_up_state: str | None = None) -> bool:
    """The same test in Python, on rows just re-read (and locked) by the delivery."""
    if not lead.is_open:
        return False
    if clock.kind == SlaClock.Kind.FIRST_CONTACT:
        return lead.first_contacted_at is None
    if clock.kind == SlaClock.Kind.FOLLOW_UP:
        return follow_up_state == FollowUp.State.OPEN
    anchor = lead.last_activity_at or lead.first_contacted_at
    return lead.next_follow_up_at is None and anchor is not None and anchor <= clock.anchor_at


# --- lists ------------------------------------------------------------------------------


def escalations_visible_to(user: User) -> QuerySet[SlaClock]:
    """Escalated due events still not handled, for the teams this user is accountable for
    (admin: all), most recent first. A handled lead drops off at once (live columns)."""
    qs = SlaClock.objects.filter(
        escalated_at__isnull=False, actioned_at__isnull=True, state__in=[SlaClock.State.ACTIVE, SlaClock.State.DONE]
    )
    qs = qs.filter(still_pending_q())
    if not user.is_admin:
        qs = qs.filter(lead__team_id__in=managed_team_ids(user))
    return qs.select_related("lead", "lead__owner", "lead__team").order_by("-escalated_at", "-id")


def escalations_for_action(user: User) -> QuerySet[SlaClock]:
    """Escalated due events of the teams this user is accountable for (admin: all), including
    the ones already handled: acting on one someone else handled says so instead of a 404."""
    qs = SlaClock.objects.filter(escalated_at__isnull=False)
    if not user.is_admin:
        qs = qs.filter(lead__team_id__in=managed_team_ids(user))
    return qs.select_related("lead", "lead__owner", "lead__team", "actioned_by")


def claims_for_action(user: User) -> QuerySet[SlaClock]:
    """Escalated due events of the user's teams, claimed or not (to say "already claimed")."""

    return SlaClock.objects.filter(escalated_at__isnull=False, lead__team_id__in=member_team_ids(user)).select_related(
        "lead", "actioned_by"
    )


def claimable_for(user: User) -> QuerySet[SlaClock]:
    """Escalated leads a teammate may claim: claimable clocks of the user's teams, not their own."""

    return (
        SlaClock.objects.filter(
            claimable=True, actioned_at__isnull=True, state__in=[SlaClock.State.ACTIVE, SlaClock.State.DONE]
        )
        .filter(still_pending_q())
        .filter(lead__team_id__in=member_team_ids(user))
        .exclude(lead__owner=user)
        .select_related("lead", "lead__owner", "lead__team")
        .order_by("-escalated_at", "-id")
    )


def reassign_candidates(team_ids) -> dict[int, list[User]]:
    """The available reps of each team (see `accountability.models.available_reps_q`), by name, for the
    reassign menus (one query): nobody away or deactivated is offered."""

    result: dict[int, list[User]] = {}
    for m in (
        Membership.objects.filter(available_reps_q("user__"), team_id__in=team_ids)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    ):
        result.setdefault(m.team_id, []).append(m.user)
    return result


def lead_sla_history(lead: Lead) -> list[SlaNotice]:
    return list(SlaNotice.objects.filter(lead=lead).select_related("recipient").order_by("-created_at", "-id")[:20])


def lead_open_clock(lead: Lead) -> SlaClock | None:
    """The lead's running (or escalated) due event, if it still applies."""
    clocks = SlaClock.objects.filter(lead=lead, state__in=[SlaClock.State.ACTIVE, SlaClock.State.DONE])
    known = hasattr(lead, "_open_follow_up")  # the lead page read it already (lead_open_follow_up)
    clock = (clocks if known else clocks.select_related("follow_up")).order_by("-created_at").first()
    if clock is None:
        return None
    if not clock.follow_up_id:
        follow_up_state = None
    elif known:
        # A lead has at most one open follow-up (a constraint): the clock's is open exactly when
        # it is that one. No join on the follow-ups for the page.
        open_follow_up = lead._open_follow_up
        follow_up_state = FollowUp.State.OPEN if open_follow_up and open_follow_up.pk == clock.follow_up_id else None
    else:
        follow_up_state = clock.follow_up.state
    return clock if clock_is_pending(clock, lead, follow_up_state) else None


def open_escalations_by_owner(user_ids) -> dict[int, int]:
    """Escalated due events not handled yet, per current lead owner (the review dashboard): one query."""
    rows = (
        SlaClock.objects.filter(
            escalated_at__isnull=False,
            actioned_at__isnull=True,
            state__in=[SlaClock.State.ACTIVE, SlaClock.State.DONE],
            lead__owner_id__in=list(user_ids),
        )
        .filter(still_pending_q())
        .values("lead__owner_id")
        .annotate(n=Count("id"))
    )
    return {r["lead__owner_id"]: r["n"] for r in rows}


def escalation_rows(user: User, limit: int | None = None):
    """Escalated leads with the people each may go to: 2 queries (plus cached scoping)."""
    qs = escalations_visible_to(user)
    clocks = list(qs[:limit] if limit else qs)
    candidates = reassign_candidates({c.lead.team_id for c in clocks})
    return [(c, [u for u in candidates.get(c.lead.team_id, []) if u.pk != c.lead.owner_id]) for c in clocks]
