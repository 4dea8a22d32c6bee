"""Deactivating a person: their open leads go on by their team's assignment rule.

accountability sits below leads (pyproject's import-linter contracts), so the one write that
touches both, an admin deactivating someone, lives here: accountability.services.user_deactivate
stops the log-in, this moves the leads, in one transaction.

Each open lead of the person goes where a new lead of its team would go today: with round-robin,
to the next available rep after the team's pointer (active, not away, below the cap of untouched
leads), the pointer moving on as it would for new leads; with the queue, or when no rep can take
it, to the team's unassigned queue. Each move is a reassignment as one manager's would be
(leads.services._move_owner, without telling the deactivated person of each lead): the timeline's
"assigned" entry says the owner was deactivated, the SLA clocks are handed over
(leads/sla/handover.py), the open follow-up goes with the lead. Each new owner gets one notice
for all the leads they received. A lead put in the queue keeps its open follow-up until a rep
claims the lead (lead_claim hands it to them).

`deactivation_plan` is the one planner: the preview page shows it and `person_deactivate`
carries it out, so what the admin confirmed is what happens (unless leads change in between).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accountability.models import Team, User
from accountability.notifications.services import notification_create
from accountability.services import user_deactivate
from leads import notices
from leads.models import Lead, TeamIntakeSettings
from leads.services import _locked_intake_settings, _set_owner, _write_assigned, eligible_reps
from leads.sla.handover import sla_clocks_hand_over

REASON = "Owner deactivated"


@dataclass
class TeamMove:
    """Where one team's open leads of the person go."""

    team: Team
    mode: str
    moves: list[tuple[Lead, User | None]] = field(default_factory=list)  # (lead, new owner or None: queue)

    @property
    def count(self) -> int:
        return len(self.moves)

    @property
    def by_owner(self) -> list[tuple[str, int]]:
        """("Bob Schmidt", 3), ..., ("the unassigned queue", 2): who gets how many."""
        counts = Counter(str(owner) if owner else "the unassigned queue" for _lead, owner in self.moves)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class DeactivationPlan:
    person: User
    teams: list[TeamMove]

    @property
    def lead_count(self) -> int:
        return sum(t.count for t in self.teams)

    @property
    def queued_count(self) -> int:
        return sum(1 for t in self.teams for _lead, owner in t.moves if owner is None)


def _open_leads(person: User, *, lock: bool) -> list[Lead]:
    qs = Lead.objects.filter(owner=person, stage__in=Lead.OPEN_STAGES).select_related("team", "owner")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs.order_by("team_id", "arrived_at", "id"))


def _plan_team(team: Team, rule: TeamIntakeSettings | None, leads: list[Lead], person: User) -> TeamMove:
    """The round-robin of leads.services._next_round_robin, played forward in memory: the reps
    available today (not the person), by id after the pointer, skipping those at the cap (a lead
    never contacted adds to its new owner's load)."""
    mode = rule.mode if rule is not None else TeamIntakeSettings.Mode.ROUND_ROBIN
    move = TeamMove(team=team, mode=mode)
    reps = [r for r in eligible_reps(team) if r.pk != person.pk] if mode == TeamIntakeSettings.Mode.ROUND_ROBIN else []
    cap = rule.max_open_untouched if rule is not None else None
    loads: dict[int, int] = {}
    if reps and cap is not None:
        loads = dict(
            Lead.objects.filter(owner__in=reps, stage__in=Lead.OPEN_STAGES, first_contacted_at__isnull=True)
            .values("owner")
            .annotate(n=Count("id"))
            .values_list("owner", "n")
        )
    pointer = (rule.last_assigned_id if rule is not None else None) or 0
    for lead in leads:
        candidates = [r for r in reps if cap is None or loads.get(r.pk, 0) < cap]
        if not candidates:
            move.moves.append((lead, None))
            continue
        owner = next((r for r in candidates if r.pk > pointer), candidates[0])
        pointer = owner.pk
        if lead.first_contacted_at is None:
            loads[owner.pk] = loads.get(owner.pk, 0) + 1
        move.moves.append((lead, owner))
    return move


def deactivation_plan(person: User, *, lock: bool = False) -> DeactivationPlan:
    """Where each open lead of `person` would go if they were deactivated now. With `lock` (inside
    person_deactivate's transaction) the leads and their teams' intake rows are locked first."""
    leads = _open_leads(person, lock=lock)
    by_team: dict[int, list[Lead]] = {}
    for lead in leads:
        by_team.setdefault(lead.team_id, []).append(lead)
    teams = {lead.team_id: lead.team for lead in leads}
    if lock:
        rules = {team_id: _locked_intake_settings(teams[team_id]) for team_id in sorted(by_team)}
    else:
        rules = {r.team_id: r for r in TeamIntakeSettings.objects.filter(team_id__in=list(by_team))}
    return DeactivationPlan(
        person=person,
        teams=[_plan_team(teams[tid], rules.get(tid), by_team[tid], person) for tid in sorted(by_team)],
    )


@transaction.atomic
def person_deactivate(*, actor: User, person: User) -> DeactivationPlan:
    """An admin deactivates `person`: they can no longer log in and each of their open leads goes
    where the team's rule sends it (see the module docstring). All or nothing."""
    if not actor.is_admin:
        raise PermissionDenied("Only admins deactivate people.")
    person = User.objects.select_for_update().get(pk=person.pk)
    user_deactivate(actor=actor, person=person)
    plan = deactivation_plan(person, lock=True)
    now = timezone.now()
    received: dict[User, list[Lead]] = {}
    for team_move in plan.teams:
        last = None
        for lead, owner in team_move.moves:
            if owner is not None:
                _to_rep(lead=lead, actor=actor, to_owner=owner, at=now)
                received.setdefault(owner, []).append(lead)
                last = owner
            else:
                _to_queue(lead=lead, actor=actor, at=now, mode=team_move.mode)
        if last is not None:  # the round-robin goes on after the last rep served, as for new leads
            TeamIntakeSettings.objects.filter(team=team_move.team).update(last_assigned=last, updated_at=now)
    for owner, leads in received.items():
        _tell_new_owner(owner=owner, leads=leads, person=person, actor=actor, at=now)
    return plan


def _to_rep(*, lead: Lead, actor: User, to_owner: User, at) -> None:
    from_owner = lead.owner
    _set_owner(lead, to_owner, at=at)  # the open follow-up goes with the lead
    _write_assigned(lead=lead, actor=actor, from_owner=from_owner, reason=f"{REASON} (round-robin)", how="reassign")
    sla_clocks_hand_over(lead=lead, actor=actor, from_owner=from_owner, to_owner=to_owner, at=at)


def _to_queue(*, lead: Lead, actor: User, at, mode: str) -> None:
    """Nobody on the team can take the lead (or the team uses the queue): it waits unassigned."""
    from_owner = lead.owner
    lead.owner = None
    lead.assigned_at = at
    lead.save(update_fields=["owner", "assigned_at", "updated_at"])
    why = (
        "the team uses the unassigned queue"
        if mode == TeamIntakeSettings.Mode.QUEUE
        else "no rep of the team can take it today"
    )
    _write_assigned(
        lead=lead, actor=actor, from_owner=from_owner, reason=f"{REASON}: waiting in the team's queue ({why})",
        how="queue",
    )  # fmt: skip
    sla_clocks_hand_over(lead=lead, actor=actor, from_owner=from_owner, to_owner=None, at=at)


def _tell_new_owner(*, owner: User, leads: list[Lead], person: User, actor: User, at) -> None:
    """One notice per new owner for all the leads they received, not one per lead."""
    first = leads[0]
    many = len(leads) > 1
    notification_create(
        recipient=owner,
        actor=actor,
        kind=notices.LEAD_ASSIGNED,
        title=(
            f"{len(leads)} leads of {person} (deactivated) are now yours"
            if many
            else f"Lead reassigned to you: {first} ({person} was deactivated)"
        ),
        key=f"lead-deactivated:{person.pk}:{owner.pk}:{at.isoformat()}",
        body=", ".join(str(lead) for lead in leads[:10]) + (" and more" if len(leads) > 10 else ""),
        url=reverse("leads:lead-list") if many else reverse("leads:lead-detail", args=[first.pk]),
    )
