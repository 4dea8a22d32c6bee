"""What a 1:1 agenda suggests, from what happened to the rep since the last meeting.

One suggestion per source (at most one row each, under a unique constraint), each with a
link to the rows behind it. A constant number of queries.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.selectors import pending_versions_for
from goals.models import Commitment, GoalEvent, Pacing
from leads.metrics import Period
from leads.models import FollowUp
from leads.sla.models import SlaClock, SlaNotice
from recognition.selectors import kudos_received
from reviews.models import ActionItem, DriftFlag
from reviews.packet import evidence_url


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def suggestions_for(rep, *, since: dt.datetime, now: dt.datetime) -> list[tuple[str, str, str]]:
    period = Period(since, max(now, since))
    out: list[tuple[str, str, str]] = []
    breaches = SlaNotice.objects.filter(
        step=SlaNotice.Step.OVERDUE,
        recipient=rep,
        state__in=[SlaNotice.State.SENT, SlaNotice.State.PENDING],
        scheduled_at__gte=since,
        scheduled_at__lt=period.end,
    ).count()
    if breaches:
        out.append(
            (
                "sla_breaches",
                f"{_plural(breaches, 'SLA breach')} since the last 1:1",
                evidence_url("breaches", rep, period),
            )
        )
    escalations = (
        SlaClock.objects.filter(escalated_at__gte=since, escalated_at__lt=period.end)
        .filter(notices__step=SlaNotice.Step.OVERDUE, notices__recipient=rep)
        .values("pk")
        .distinct()
        .count()
    )
    if escalations:
        out.append(
            (
                "sla_escalations",
                f"{_plural(escalations, 'lead')} escalated to the manager",
                evidence_url("escalations", rep, period),
            )
        )
    missed = (
        FollowUp.objects.filter(owner=rep, due_at__gte=since, due_at__lt=now)
        .filter(Q(state=FollowUp.State.OPEN) | Q(state=FollowUp.State.DONE, done_at__gt=F("due_at")))
        .count()
    )
    if missed:
        out.append(
            ("missed_follow_ups", f"{_plural(missed, 'follow-up')} missed", evidence_url("follow_ups", rep, period))
        )
    turned = list(
        GoalEvent.objects.filter(goal__owner=rep, kind=GoalEvent.Kind.PACING, created_at__gte=since)
        .filter(Q(changes__to=Pacing.AT_RISK) | Q(changes__to=Pacing.BEHIND))
        .values_list("goal_id", "goal__title")
        .distinct()
    )
    if turned:
        goal_id, title = turned[0]
        text = (
            f"Goal “{title}” turned at risk or behind"
            if len(turned) == 1
            else f"{len(turned)} goals turned at risk or behind"
        )
        url = reverse("goals:goal-detail", args=[goal_id]) if len(turned) == 1 else reverse("goals:goal-list")
        out.append(("goals_at_risk", text, url))
    commitments_missed = (
        Commitment.objects.filter(
            owner=rep,
            week_start__gte=timezone.localdate(since) - dt.timedelta(days=6),
            week_start__lt=timezone.localdate(now) - dt.timedelta(days=timezone.localdate(now).weekday()),
        )
        .exclude(status=Commitment.Status.DONE)
        .count()
    )
    if commitments_missed:
        out.append(
            (
                "commitments_missed",
                f"{_plural(commitments_missed, 'weekly commitment')} not kept",
                evidence_url("commitments", rep, period),
            )
        )

    pending = pending_versions_for(rep)
    if pending:
        version = pending[0]
        out.append(
            (
                "expectations_unacknowledged",
                f"Expectations not yet acknowledged: {', '.join(f'{v.document.title} v{v.number}' for v in pending)}",
                reverse("expectations:version-detail", args=[version.document_id, version.number]),
            )
        )

    kudos = list(kudos_received(rep, start=since, end=period.end))
    if kudos:
        url = reverse("recognition:person-kudos", args=[rep.pk])
        out.append(("kudos", f"{len(kudos)} kudos received: say well done", url))
    flags = list(DriftFlag.objects.filter(rep=rep, state__in=DriftFlag.ACTIVE_STATES, manager_only=False))
    if flags:
        rules = ", ".join(dict.fromkeys(f.get_rule_display().lower() for f in flags))
        out.append(
            (
                "drift_flags",
                f"Early {'flag' if len(flags) == 1 else 'flags'} to talk through: {rules}",
                reverse("reviews:rep-page", args=[rep.pk]) + "#flags",
            )
        )
    open_items = ActionItem.objects.filter(rep=rep, status=ActionItem.Status.OPEN).count()
    if open_items:
        out.append(
            (
                "open_action_items",
                f"{_plural(open_items, 'open action item')} to review",
                reverse("reviews:action-item-list") + f"?rep={rep.pk}",
            )
        )
    return out
