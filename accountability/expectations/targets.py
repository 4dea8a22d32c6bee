"""THE target of a KPI (`kpi_target`): its written target, or for a KPI bound to the SLA the live
first-contact minutes of the team's follow-up SLA policy. A leaf below the expectations models
(Kpi.line() shows it), so it imports no expectations module.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accountability.models import Team
from leads.sla.selectors import PolicyBook

# --- SLA binding ---------------------------------------------------------------------------
_LOOKUP = "policy-lookup"  # the cache key of the page's policy lookup (team keys are ids or None)


@dataclass
class SlaBinding:
    team: Team | None
    description: str
    minutes: Decimal | None


def _policy_for_team():
    """A lookup team -> policy that loads the SLA policy book once, on first use."""
    book = None

    def policy_for_team(team: Team | None):
        nonlocal book
        book = book or PolicyBook.load()
        return book.policy_for(team.pk if team else None)

    return policy_for_team


def sla_available() -> bool:
    return _policy_for_team() is not None


def sla_binding(team: Team | None, cache: dict | None = None) -> SlaBinding | None:
    """The live follow-up SLA policy for a team (None when SLA policies are not installed)."""
    if cache is not None and (team.pk if team else None) in cache:
        return cache[team.pk if team else None]
    # One lookup per page (kept in the page's cache): the policy book is read once, not per team.
    policy_for_team = cache.setdefault(_LOOKUP, _policy_for_team()) if cache is not None else _policy_for_team()
    binding = None
    if policy_for_team is not None:
        policy = policy_for_team(team)
        if policy is not None:
            minutes = getattr(policy, "first_contact_minutes", None)
            description = policy.describe()
            if policy.pk is None:  # nothing saved: the sweep runs on the built-in defaults
                description += " (The built-in default: no SLA policy has been saved yet.)"
            binding = SlaBinding(
                team=team,
                description=description,
                minutes=Decimal(minutes) if minutes is not None else None,
            )
    if cache is not None:
        cache[team.pk if team else None] = binding
    return binding


_DOCUMENT_TEAM = object()


def kpi_target(kpi, team=_DOCUMENT_TEAM, cache: dict | None = None) -> Decimal:
    """THE target of a KPI, for every reader (document, editor, scorecard, the goal form's KPI
    list and a goal made from it): its written target, or for a KPI bound to the SLA the live
    first-contact minutes of `team`'s policy, so the document, the goals and the clock agree.

    `team` is a Team or None (the organisation default); left out, the document's own scope: a
    team document's team, the organisation default for the organisation's document. Pass the
    page's `cache` to read the policy book once.
    """
    if not kpi.bind_to_sla:
        return kpi.target
    if team is _DOCUMENT_TEAM:
        team_id = kpi.version.document.team_id
        # Only the id is needed to resolve the policy: no query for the team row.
        team = Team(pk=team_id) if team_id else None
    return effective_target(kpi, sla_binding(team, cache))


def effective_target(kpi, binding: SlaBinding | None) -> Decimal:
    """A bound KPI's target given its binding (see kpi_target, which every reader calls)."""
    if kpi.bind_to_sla and binding is not None and binding.minutes is not None:
        return binding.minutes
    return kpi.target
