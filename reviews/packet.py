"""The review packet: the period's record for one rep, built from the figures every page shows.

Every figure comes from the module that owns it: lead figures from `leads.metrics` (periods cut
in the rep's team zone, `figures_time_zone`, so the packet equals the dashboard), goal progress
from `goals.progress`, the SLA record from the SLA notices, commitments from goals, expectations
acknowledgements, recognition through `recognition.selectors.kudos_received`. Each figure
carries the rule that produced it (frozen with the value) and a link to the rows behind it.

Queries: a constant number whatever the rep's volume (about 25 for a quarter with KPIs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.models import Acknowledgement, DocumentVersion
from accountability.expectations.selectors import documents_visible_to
from accountability.timezones import figures_time_zone
from goals import metric_source
from goals.models import Commitment, Goal, GoalEvent
from goals.progress import goals_progress
from leads.metrics import METRIC_UNITS, Metric, Period, metric_values_by_user, rep_scorecards
from leads.models import Lead
from leads.sla.models import SlaClock, SlaNotice
from recognition.selectors import kudos_received

# Bumped when a rule below changes meaning: a frozen figure keeps the rule it was computed by.
RULE_VERSION = 1
METRICS_RULE = f"leads.metrics/v{RULE_VERSION}"

SECTIONS = [
    ("kpis", "Expectations KPIs"),
    ("leads", "Lead figures"),
    ("goals", "Goals of the period"),
    ("sla", "SLA record"),
    ("commitments", "Weekly commitments"),
    ("expectations", "Expectations acknowledged"),
    ("recognition", "Recognition received"),
    ("previous", "Previous review"),
]

# Lead figures shown in the packet, in order.
LEAD_FIGURES = [
    Metric.LEADS_RECEIVED,
    Metric.LEADS_CONTACTED,
    Metric.SPEED_TO_LEAD_MEDIAN,
    Metric.SPEED_TO_LEAD_P90,
    Metric.FOLLOW_UP_COMPLIANCE,
    Metric.ACTIVITIES,
    Metric.CONVERSION_RATE,
    Metric.DEALS_WON,
    Metric.VALUE_WON,
]

# Typical length of a KPI's period in days: a cumulative KPI target is scaled to the review period.
KPI_PERIOD_DAYS = {"week": Decimal(7), "month": Decimal("30.44"), "quarter": Decimal("91.31")}


@dataclass
class Figure:
    key: str
    section: str
    label: str
    value: str
    number: Decimal | None = None
    url: str = ""
    rule: str = METRICS_RULE
    detail: str = ""


@dataclass
class KpiSpec:
    """A KPI criterion: a metric with its target for the review period."""

    metric: str
    target: Decimal | None
    direction: str  # "up" / "down"
    title: str = ""


@dataclass
class Packet:
    rep: object
    period: Period
    computed_at: dt.datetime
    figures: list[Figure] = field(default_factory=list)
    kudos: list = field(default_factory=list)

    def by_key(self) -> dict[str, Figure]:
        return {f.key: f for f in self.figures}

    def sections(self) -> list[tuple[str, list[Figure]]]:
        return [(label, [f for f in self.figures if f.section == key]) for key, label in SECTIONS if self._has(key)]

    def _has(self, section: str) -> bool:
        return any(f.section == section for f in self.figures)


def _fmt(number) -> str:
    if number is None:
        return "—"
    number = Decimal(number)
    if number == number.to_integral():
        return f"{number.quantize(Decimal(1)):,}"
    return f"{number.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}"


def _with_unit(number, metric: str) -> str:
    unit = METRIC_UNITS.get(Metric(metric), "") if metric in Metric.values else ""
    text = _fmt(number)
    if number is None:
        return text
    if unit == "%":
        return f"{text} %"
    if unit == "minutes":
        return f"{text} min"
    return text


def review_period(start: dt.date, end: dt.date, rep) -> Period:
    """The review period for a rep: whole days in their team's zone, as every dashboard cuts them."""
    return Period.between(start, end, tz=figures_time_zone(rep))


def kpi_target_for_period(target: Decimal, period_kind: str, metric: str, days: int) -> Decimal:
    """A KPI target for a review period: levels (rates, medians) as they are; counts and sums
    scaled from the KPI's own period to the review's length."""
    if not metric_source.is_cumulative(metric):
        return Decimal(target)
    scaled = Decimal(target) * Decimal(days) / KPI_PERIOD_DAYS.get(period_kind, Decimal(days))
    return scaled.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _sub_periods(period: Period) -> list[Period]:
    """Months of the period (weeks for a period up to six weeks): the KPI trend."""
    tz = period.start.tzinfo
    first = period.start.astimezone(tz).date()
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    out = []
    if (last - first).days <= 42:
        day = first
        while day <= last:
            stop = min(day + dt.timedelta(days=6), last)
            out.append(Period.between(day, stop, tz))
            day = stop + dt.timedelta(days=1)
        return out
    day = first
    while day <= last:
        month_end = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        stop = min(month_end, last)
        out.append(Period.between(day, stop, tz))
        day = stop + dt.timedelta(days=1)
    return out


def lead_list_url(**params) -> str:
    return reverse("leads:lead-list") + "?" + urlencode(params)


def evidence_url(kind: str, rep, period: Period) -> str:
    tz = period.start.tzinfo
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    query = urlencode({"rep": rep.pk, "from": period.start.astimezone(tz).date(), "to": last})
    return reverse("reviews:evidence", args=[kind]) + "?" + query


def _lead_figures(rep, period: Period, now, kpis: list[KpiSpec], *, trend: bool = True) -> list[Figure]:
    card = rep_scorecards(period=period, users=[rep], now=now)[rep.pk]
    tz = period.start.tzinfo
    first = period.start.astimezone(tz).date()
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    received = lead_list_url(received_by=rep.pk, arrived_from=first, arrived_to=last)
    links = {
        Metric.LEADS_RECEIVED: received,
        Metric.LEADS_CONTACTED: received,
        Metric.SPEED_TO_LEAD_MEDIAN: received,
        Metric.SPEED_TO_LEAD_P90: received,
        Metric.FOLLOW_UP_COMPLIANCE: evidence_url("follow_ups", rep, period),
        Metric.ACTIVITIES: evidence_url("activities", rep, period),
        Metric.CALLS: evidence_url("activities", rep, period),
        Metric.EMAILS: evidence_url("activities", rep, period),
        Metric.MEETINGS: evidence_url("activities", rep, period),
        Metric.CONVERSION_RATE: evidence_url("closed", rep, period),
        Metric.DEALS_WON: evidence_url("won", rep, period),
        Metric.VALUE_WON: evidence_url("won", rep, period),
        Metric.NEGLECTED: reverse("leads:neglected") + f"?owner={rep.pk}",
        Metric.LEADS_RECEIVED + "_untouched": lead_list_url(
            received_by=rep.pk, untouched="on", arrived_from=first, arrived_to=last
        ),
    }
    details = {
        Metric.LEADS_CONTACTED: f"{card.never_contacted} never contacted",
        Metric.FOLLOW_UP_COMPLIANCE: f"{card.follow_ups_on_time} on time of {card.follow_ups_decided} due",
        Metric.CONVERSION_RATE: f"{card.deals_won} won of {card.deals_closed} closed",
        Metric.ACTIVITIES: ", ".join(f"{n} {kind}" for kind, n in card.activities_by_kind.items() if n),
    }
    figures = []
    kpi_metrics = set()
    if kpis:
        # The trend: each KPI's figure per month (per week for a short period), one query per
        # (KPI, sub-period) through the same metrics module. Skipped for a slim packet.
        subs = _sub_periods(period) if trend else []
        trend_values = {
            (spec.metric, i): metric_values_by_user(spec.metric, period=sub, users=[rep], now=now).get(rep.pk)
            for spec in {s.metric: s for s in kpis}.values()
            for i, sub in enumerate(subs)
        }
        for spec in kpis:
            if spec.metric in kpi_metrics:
                continue
            kpi_metrics.add(spec.metric)
            actual = card.value(spec.metric)
            trend_text = " · ".join(
                f"{sub.start:%d %b}: {_fmt(trend_values[(spec.metric, i)])}" for i, sub in enumerate(subs)
            )
            target = ""
            if spec.target is not None:
                word = "at least" if spec.direction == "up" else "at most"
                target = f"target {word} {_with_unit(spec.target, spec.metric)}; "
            figures.append(
                Figure(
                    key=f"kpi:{spec.metric}",
                    section="kpis",
                    label=spec.title or Metric(spec.metric).label,
                    value=_with_unit(actual, spec.metric),
                    number=actual,
                    url=links.get(spec.metric, received),
                    detail=f"{target}trend {trend_text}" if trend_text else target.rstrip("; "),
                )
            )
    for metric in LEAD_FIGURES:
        value = card.value(metric)
        figures.append(
            Figure(
                key=f"lead:{metric}",
                section="leads",
                label=Metric(metric).label,
                value=_with_unit(value, metric),
                number=value,
                url=links[metric],
                detail=details.get(metric, ""),
            )
        )
    figures.append(
        Figure(
            key="sla:saved_by",
            section="sla",
            label="Leads saved by the rep (a teammate's lead contacted first)",
            value=_fmt(card.saved),
            number=Decimal(card.saved),
            url=evidence_url("saved_by", rep, period),
        )
    )
    return figures


def _sla_figures(rep, period: Period) -> list[Figure]:
    rule = f"leads.sla notices/v{RULE_VERSION}"
    breaches = dict(
        SlaNotice.objects.filter(
            step=SlaNotice.Step.OVERDUE,
            recipient=rep,
            state__in=[SlaNotice.State.SENT, SlaNotice.State.PENDING],
            scheduled_at__gte=period.start,
            scheduled_at__lt=period.end,
        )
        .values_list("clock__kind")
        .annotate(n=Count("pk"))
    )
    escalations = (
        SlaClock.objects.filter(escalated_at__gte=period.start, escalated_at__lt=period.end)
        .filter(notices__step=SlaNotice.Step.OVERDUE, notices__recipient=rep)
        .values("pk")
        .distinct()
        .count()
    )
    saved_from = (
        Lead.objects.filter(received_by=rep, first_contacted_at__gte=period.start, first_contacted_at__lt=period.end)
        .exclude(first_contacted_by=rep)
        .filter(first_contacted_by__isnull=False)
        .count()
    )
    figures = [
        Figure(
            key=f"sla:breaches:{kind}",
            section="sla",
            label=f"Breaches: {label.lower()}",
            value=_fmt(breaches.get(kind, 0)),
            number=Decimal(breaches.get(kind, 0)),
            url=evidence_url("breaches", rep, period),
            rule=rule,
        )
        for kind, label in SlaClock.Kind.choices
    ]
    figures.append(
        Figure(
            key="sla:escalations",
            section="sla",
            label="Escalations of the rep's leads",
            value=_fmt(escalations),
            number=Decimal(escalations),
            url=evidence_url("escalations", rep, period),
            rule=rule,
        )
    )
    figures.append(
        Figure(
            key="sla:saved_from",
            section="sla",
            label="The rep's leads saved by others",
            value=_fmt(saved_from),
            number=Decimal(saved_from),
            url=evidence_url("saved_from", rep, period),
        )
    )
    return figures


def _goal_figures(rep, period: Period, now) -> list[Figure]:
    first = period.start.date()
    last = (period.end - dt.timedelta(microseconds=1)).date()
    goals = list(
        Goal.objects.filter(owner=rep, start_date__lte=last, end_date__gte=first).exclude(status=Goal.Status.PROPOSED)
    )
    approved = [g for g in goals if g.status == Goal.Status.APPROVED]
    progress = goals_progress(approved, now=min(now, period.end))
    rule = f"goals.progress/v{RULE_VERSION}"
    figures = []
    for goal in approved:
        p = progress[goal.pk]
        state = p.state_label if goal.end_date <= last or now >= period.end else f"running, {p.state_label.lower()}"
        figures.append(
            Figure(
                key=f"goal:{goal.pk}",
                section="goals",
                label=goal.title,
                value=f"{_fmt(p.actual)} of {_fmt(goal.target)} {goal.unit}",
                number=p.actual,
                url=reverse("goals:goal-detail", args=[goal.pk]),
                rule=rule,
                detail=state,
            )
        )
    rejected = sum(1 for g in goals if g.status == Goal.Status.REJECTED)
    figures.append(
        Figure(
            key="goals:rejected",
            section="goals",
            label="Goal proposals rejected",
            value=_fmt(rejected),
            number=Decimal(rejected),
            url=reverse("goals:goal-list"),
            rule=rule,
        )
    )
    changes = GoalEvent.objects.filter(
        goal__owner=rep, kind=GoalEvent.Kind.EDITED, created_at__gte=period.start, created_at__lt=period.end
    ).count()
    figures.append(
        Figure(
            key="goals:changed",
            section="goals",
            label="Changes made to the rep's goals",
            value=_fmt(changes),
            number=Decimal(changes),
            url=reverse("goals:goal-list"),
            rule=rule,
        )
    )
    return figures


def _commitment_figures(rep, period: Period) -> list[Figure]:
    first = period.start.date()
    last = (period.end - dt.timedelta(microseconds=1)).date()
    counts = Commitment.objects.filter(owner=rep, week_start__gte=first, week_start__lte=last).aggregate(
        made=Count("pk"), kept=Count("pk", filter=Q(status=Commitment.Status.DONE))
    )
    rule = f"goals.commitments/v{RULE_VERSION}"
    url = evidence_url("commitments", rep, period)
    return [
        Figure(
            "commitments:made",
            "commitments",
            "Commitments made",
            _fmt(counts["made"]),
            Decimal(counts["made"]),
            url,
            rule,
        ),
        Figure(
            "commitments:kept",
            "commitments",
            "Commitments kept",
            _fmt(counts["kept"]),
            Decimal(counts["kept"]),
            url,
            rule,
        ),
    ]


def _expectation_figures(rep, period: Period) -> list[Figure]:

    versions = list(
        DocumentVersion.objects.filter(document__in=documents_visible_to(rep), status=DocumentVersion.Status.PUBLISHED)
        .filter(Q(published_at__gte=period.start, published_at__lt=period.end) | Q(is_current=True))
        .select_related("document")
        .order_by("published_at")
    )
    acks = dict(
        Acknowledgement.objects.filter(user=rep, version__in=versions).values_list("version_id", "acknowledged_at")
    )
    rule = f"expectations.acknowledgements/v{RULE_VERSION}"
    figures = []
    for version in versions:
        acked = acks.get(version.pk)
        if acked is None:
            value, number = "not acknowledged", None
        else:
            days = max((acked - version.published_at).days, 0)
            value = "same day" if days == 0 else f"after {days} day{'s' if days != 1 else ''}"
            number = Decimal(days)
        figures.append(
            Figure(
                key=f"ack:{version.pk}",
                section="expectations",
                label=f"{version.document.title} v{version.number}",
                value=value,
                number=number,
                url=reverse("expectations:version-detail", args=[version.document_id, version.number]),
                rule=rule,
                detail=f"published {timezone.localtime(version.published_at):%d %b %Y}",
            )
        )
    return figures


def _recognition_figures(rep, period: Period) -> tuple[list[Figure], list]:

    kudos = list(kudos_received(rep, start=period.start, end=period.end))
    detail = "; ".join(f"{k.giver or 'Automatic'}: {k.message[:60]}" for k in kudos[:5])
    return [
        Figure(
            key="recognition:kudos",
            section="recognition",
            label="Kudos received",
            value=_fmt(len(kudos)),
            number=Decimal(len(kudos)),
            url=reverse("recognition:person-kudos", args=[rep.pk]),
            rule=f"recognition.kudos_received/v{RULE_VERSION}",
            detail=detail,
        )
    ], kudos


def _previous_figures(previous_review) -> list[Figure]:
    if previous_review is None:
        return []
    rule = f"reviews.previous/v{RULE_VERSION}"
    url = reverse("reviews:review-detail", args=[previous_review.pk])
    figures = [
        Figure(
            key="previous:score",
            section="previous",
            label=f"Overall score in {previous_review.cycle.name}",
            value=_fmt(previous_review.manager_score),
            number=previous_review.manager_score,
            url=url,
            rule=rule,
            detail=f"self {_fmt(previous_review.self_score)}",
        )
    ]
    for item in previous_review.action_items.all():
        figures.append(
            Figure(
                key=f"action:{item.pk}",
                section="previous",
                label=f"Action item: {item.text}",
                value=item.get_status_display(),
                url=url + f"#action-{item.pk}",
                rule=rule,
                detail=item.drop_reason,
            )
        )
    return figures


def packet_build(
    *,
    rep,
    start: dt.date,
    end: dt.date,
    kpis: list[KpiSpec] | None = None,
    previous_review=None,
    now: dt.datetime | None = None,
    slim: bool = False,
) -> Packet:
    """The packet for `rep` over the days start..end (inclusive), live. A slim packet has only
    what rates criteria (lead and KPI figures, goals): what an assessment save reads."""
    now = now or timezone.now()
    period = review_period(start, end, rep)
    packet = Packet(rep=rep, period=period, computed_at=now)
    packet.figures += _lead_figures(rep, period, now, kpis or [], trend=not slim)
    packet.figures += _goal_figures(rep, period, now)
    if slim:
        return packet
    packet.figures += _sla_figures(rep, period)
    packet.figures += _commitment_figures(rep, period)
    packet.figures += _expectation_figures(rep, period)
    recognition, packet.kudos = _recognition_figures(rep, period)
    packet.figures += recognition
    packet.figures += _previous_figures(previous_review)
    return packet


def rating_from_figure(
    actual: Decimal | None, target: Decimal | None, direction: str, scale_min: int, scale_max: int
) -> int | None:
    """The default rating of a KPI or goal criterion from its figure against its target.

    Achievement = actual / target ("at least") or target / actual ("at most"). 50 % or less gives
    the lowest point, 125 % or more the highest, linear in between (100 %, on target, lands two
    thirds up the scale). No figure or no target: no default rating."""
    if actual is None or target is None or target <= 0:
        return None
    actual = Decimal(actual)
    if direction == "down":
        ratio = Decimal(10) if actual <= 0 else Decimal(target) / actual
    else:
        ratio = actual / Decimal(target)
    share = min(max((ratio - Decimal("0.5")) / Decimal("0.75"), Decimal(0)), Decimal(1))
    return int((scale_min + (scale_max - scale_min) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def weighted_score(pairs: list[tuple[Decimal, int | None]]) -> Decimal | None:
    """The weighted mean of the rated criteria; weights renormalised over those with a rating
    (a criterion left unrated does not count as zero). None with no rating at all."""
    rated = [(Decimal(w), r) for w, r in pairs if r is not None]
    total = sum((w for w, _ in rated), Decimal(0))
    if not rated or total <= 0:
        return None
    score = sum((w * r for w, r in rated), Decimal(0)) / total
    return score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
