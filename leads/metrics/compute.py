"""Which path answers a figure: the daily rollup for the closed days it covers plus raw rows for
the rest (leads.metrics.rollup), or raw rows only (leads.metrics.queries).

Kept apart from both so the imports run one way: this module reads queries and rollup, rollup
reads queries (the raw remainder), queries reads neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from accountability.models import User
from leads.metrics import rollup
from leads.metrics.catalogue import Scorecard
from leads.metrics.period import Period
from leads.metrics.queries import (
    _GROUPS,
    _activities,
    _closed,
    _cohort,
    _follow_ups,
    _lead_totals,
    _neglected,
    _saved,
    _Scope,
)


def _compute(scope: _Scope, period: Period, *, groups: Iterable[str] | None = None, now=None) -> dict:
    now = now or timezone.now()
    groups = set(groups or [*_GROUPS, "saved"])

    if rollup.enabled():
        # Closed days from the daily rollup, the rest from raw rows (leads.metrics.rollup); one
        # query finds out what the rollup covers, and nothing changes when it covers nothing.
        if scope.per_user:
            cards = rollup.rep_cards(scope, period, groups=groups, now=now)
            if cards is not None:
                return cards
        else:
            merged = _totals_with_rollup(scope, period, groups, now)
            if merged is not None:
                return merged
    parts: list[dict] = []
    if not scope.per_user:
        # Totals: every lead-based figure in one pass over the team's leads. A team's saved
        # leads are its members' saves (like its activities and follow-ups).
        lead_groups = groups & {"cohort", "closed", "neglected"}
        if "saved" in groups and scope.member_ids() is None:
            lead_groups.add("saved")
        if lead_groups:
            parts.append(_lead_totals(scope, period, now, lead_groups))
        if "saved" in groups and scope.member_ids() is not None:
            saves = _saved(_Scope(user_ids=list(scope.member_ids())), period)
            parts.append({None: {"saved": sum(v["saved"] for v in saves.values())}})
        groups -= lead_groups | {"saved"}
    if "cohort" in groups:
        parts.append(_cohort(scope, period))
    if "follow_ups" in groups:
        parts.append(_follow_ups(scope, period, now))
    if "activities" in groups:
        parts.append(_activities(scope, period))
    if "closed" in groups:
        parts.append(_closed(scope, period))
    if "neglected" in groups:
        parts.append(_neglected(scope, now))
    if "saved" in groups:
        parts.append(_saved(scope, period))
    keys = scope.user_ids if scope.per_user else [None]
    cards = {key: Scorecard() for key in keys}
    for part in parts:
        for key, values in part.items():
            if key in cards:
                for name, value in values.items():
                    setattr(cards[key], name, value)
    return cards


def _totals_with_rollup(scope: _Scope, period: Period, groups: set[str], now: datetime) -> dict | None:
    """A team's or everyone's card: lead figures from TeamDay rows, and the follow-up, activity
    and saved figures as the sums of the members' (everyone's: every person's) own cards."""
    lead_part = rollup.team_lead_totals(scope, period, now, groups & {"cohort", "closed", "neglected"})
    if lead_part is None:
        return None
    card = Scorecard()
    for name, value in lead_part[None].items():
        setattr(card, name, value)
    rep_groups = groups & {"follow_ups", "activities", "saved"}
    if rep_groups:
        members = scope.member_ids()
        if members is None:
            members = set(User.objects.values_list("id", flat=True))
        for member in _compute(_Scope(user_ids=sorted(members)), period, groups=rep_groups, now=now).values():
            card.saved += member.saved
            card.follow_ups_on_time += member.follow_ups_on_time
            card.follow_ups_missed += member.follow_ups_missed
            for kind, n in member.activities_by_kind.items():
                card.activities_by_kind[kind] += n
    return {None: card}


def team_lead_totals(scope: _Scope, period: Period, now: datetime, groups: set[str]) -> dict:
    """`_lead_totals` through the rollup when it covers the teams (team_scorecards' total)."""
    if rollup.enabled():
        merged = rollup.team_lead_totals(scope, period, now, groups)
        if merged is not None:
            return merged
    return _lead_totals(scope, period, now, groups)
