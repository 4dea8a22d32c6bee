"""The rows behind a packet figure or an agenda suggestion, for one rep and period.

Each list reads the same rows the figure counted (see leads.metrics' attribution rules and
reviews.packet); a lead links to its page only when the viewer may open it. At most 500 rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from goals.models import Commitment
from leads.metrics import LOGGABLE_KINDS, Period
from leads.models import Activity, FollowUp, Lead
from leads.selectors import leads_visible_to
from leads.sla.models import SlaNotice

LIMIT = 500


@dataclass
class Row:
    when: object
    text: str
    detail: str = ""
    url: str = ""
    day_only: bool = False  # `when` is a date (a commitment's week)


def _lead_rows(leads, viewer, when_field: str, detail) -> list[Row]:
    leads = list(leads[:LIMIT])
    visible = set(leads_visible_to(viewer).filter(pk__in=[lead.pk for lead in leads]).values_list("pk", flat=True))
    return [
        Row(
            when=getattr(lead, when_field),
            text=str(lead),
            detail=detail(lead),
            url=reverse("leads:lead-detail", args=[lead.pk]) if lead.pk in visible else "",
        )
        for lead in leads
    ]


def evidence_rows(kind: str, *, rep, period: Period, viewer) -> list[Row]:
    if kind in ("breaches", "escalations"):
        notices = SlaNotice.objects.filter(
            step=SlaNotice.Step.OVERDUE,
            recipient=rep,
            state__in=[SlaNotice.State.SENT, SlaNotice.State.PENDING],
        ).select_related("lead", "clock")
        if kind == "breaches":
            notices = notices.filter(scheduled_at__gte=period.start, scheduled_at__lt=period.end)
            when = "scheduled_at"
        else:
            notices = notices.filter(clock__escalated_at__gte=period.start, clock__escalated_at__lt=period.end)
            when = "clock__escalated_at"
        notices = list(notices.order_by(when)[:LIMIT])
        visible = set(leads_visible_to(viewer).filter(pk__in=[n.lead_id for n in notices]).values_list("pk", flat=True))
        return [
            Row(
                when=n.scheduled_at if kind == "breaches" else n.clock.escalated_at,
                text=str(n.lead),
                detail=n.clock.get_kind_display(),
                url=reverse("leads:lead-detail", args=[n.lead_id]) if n.lead_id in visible else "",
            )
            for n in notices
        ]
    if kind == "saved_by":
        leads = (
            Lead.objects.filter(
                first_contacted_by=rep, first_contacted_at__gte=period.start, first_contacted_at__lt=period.end
            )
            .filter(Q(received_by__isnull=True) | ~Q(received_by=rep))
            .select_related("received_by")
            .order_by("first_contacted_at")
        )
        return _lead_rows(
            leads, viewer, "first_contacted_at", lambda lead: f"first assigned to {lead.received_by or 'the queue'}"
        )
    if kind == "saved_from":
        leads = (
            Lead.objects.filter(
                received_by=rep, first_contacted_at__gte=period.start, first_contacted_at__lt=period.end
            )
            .exclude(first_contacted_by=rep)
            .filter(first_contacted_by__isnull=False)
            .select_related("first_contacted_by")
            .order_by("first_contacted_at")
        )
        return _lead_rows(
            leads, viewer, "first_contacted_at", lambda lead: f"first contacted by {lead.first_contacted_by}"
        )
    if kind in ("won", "closed"):
        stages = [Lead.Stage.WON] if kind == "won" else list(Lead.CLOSED_STAGES)
        leads = Lead.objects.filter(owner=rep, stage__in=stages, closed_at__gte=period.start, closed_at__lt=period.end)
        return _lead_rows(
            leads.order_by("closed_at"),
            viewer,
            "closed_at",
            lambda lead: f"{lead.get_stage_display()} · {lead.value:,.0f}",
        )
    if kind == "follow_ups":
        now = timezone.now()
        rows = list(
            FollowUp.objects.filter(owner=rep, due_at__gte=period.start, due_at__lt=period.end)
            .exclude(state=FollowUp.State.CANCELLED)
            .select_related("lead")
            .order_by("due_at")[:LIMIT]
        )
        visible = set(leads_visible_to(viewer).filter(pk__in=[f.lead_id for f in rows]).values_list("pk", flat=True))
        out = []
        for f in rows:
            if f.state == FollowUp.State.DONE:
                status = "done on time" if f.done_at <= f.due_at else "done late (missed)"
            else:
                status = "open, past due (missed)" if f.due_at < now else "open, not yet due"
            out.append(
                Row(
                    f.due_at,
                    str(f.lead),
                    status,
                    reverse("leads:lead-detail", args=[f.lead_id]) if f.lead_id in visible else "",
                )
            )
        return out
    if kind == "activities":
        acts = list(
            Activity.objects.filter(
                actor=rep, kind__in=LOGGABLE_KINDS, occurred_at__gte=period.start, occurred_at__lt=period.end
            )
            .select_related("lead")
            .order_by("occurred_at")[:LIMIT]
        )
        visible = set(leads_visible_to(viewer).filter(pk__in=[a.lead_id for a in acts]).values_list("pk", flat=True))
        return [
            Row(
                a.occurred_at,
                str(a.lead),
                a.get_kind_display(),
                reverse("leads:lead-detail", args=[a.lead_id]) if a.lead_id in visible else "",
            )
            for a in acts
        ]
    if kind == "commitments":
        # The same weeks the packet counts: those starting inside the period.
        first = period.start.date()
        last = (period.end - dt.timedelta(microseconds=1)).date()
        items = Commitment.objects.filter(owner=rep, week_start__gte=first, week_start__lte=last)
        return [
            Row(c.week_start, c.text, c.get_status_display(), day_only=True)
            for c in items.order_by("week_start", "pk")[:LIMIT]
        ]
    return []
