"""Factories for the metrics tests: leads with a consistent timeline, and follow-ups.

`received_lead` builds a lead as leads.services would leave it after capture and
assignment: `received_by` = owner and an `assigned` entry {"from_owner": None, "to_owner": owner}
at arrival, and the
first contact (when given) as a call entry that sets first_contacted_at/by.
"""

from datetime import timedelta

from leads.models import Activity, Lead
from tests.factories import ActivityFactory, LeadFactory


def assign(lead, to_owner, *, at, from_owner=None, reason="round robin") -> Activity:
    return ActivityFactory(
        lead=lead,
        kind=Activity.Kind.ASSIGNED,
        actor=None,
        outcome="",
        occurred_at=at,
        data={"from_owner": from_owner.pk if from_owner else None, "to_owner": to_owner.pk, "reason": reason},
    )


def received_lead(
    owner,
    *,
    arrived_at,
    contacted_after: timedelta | None = None,
    contacted_by=None,
    team=None,
    stage=None,
    closed_at=None,
    value=1000,
    **extra,
) -> Lead:
    """A lead that arrived at `arrived_at`, was assigned to `owner` then, and optionally contacted."""
    team = team or owner.teams.first()
    first_contacted_at = arrived_at + contacted_after if contacted_after is not None else None
    contacted_by = contacted_by or (owner if contacted_after is not None else None)
    if stage is None:
        stage = Lead.Stage.CONTACTED if first_contacted_at else Lead.Stage.NEW
    lead = LeadFactory(
        owner=owner,
        team=team,
        arrived_at=arrived_at,
        assigned_at=arrived_at,
        first_contacted_at=first_contacted_at,
        first_contacted_by=contacted_by,
        last_activity_at=first_contacted_at or arrived_at,
        stage=stage,
        closed_at=closed_at,
        value=value,
        **{"received_by": owner, **extra},
    )
    assign(lead, owner, at=arrived_at)
    if first_contacted_at:
        ActivityFactory(lead=lead, kind=Activity.Kind.CALL, actor=contacted_by, occurred_at=first_contacted_at)
    return lead
