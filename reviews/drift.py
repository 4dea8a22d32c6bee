"""Early flags of drift: the rules (computed nightly from the daily rollup), the transitions of a
flag (open -> discussed -> resolved, or dismissed with a reason) and the manager's weekly digest.

Flags are private: the rep and the managers of their teams see them (manager-only ones, a prompt
to recognise good work, only the managers). Each rule states its reason in words and links to
the rows behind it. A flag is keyed per (rep, rule, week): the nightly run can repeat without
raising anything twice, a rule is not raised again while its flag is open or being discussed,
nor for `dismissal_quiet_days` after a dismissal.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.selectors import acknowledgement_status
from accountability.models import Membership, Team, User
from accountability.notifications import kinds
from accountability.notifications.services import notification_create
from accountability.scoping import managed_team_ids
from goals.models import Goal, GoalSnapshot, Pacing
from leads.metrics import METRIC_DIRECTION, METRIC_UNITS, WEEKS, Metric, Period, metric_values_by_user, rep_trends
from leads.models import Lead, RepDay
from recognition.selectors import last_kudos_received_at
from reviews.models import DriftFlag, DriftSettings, Meeting, OneOnOneSeries

logger = logging.getLogger(__name__)

DRIFT_DIGEST = kinds.register_kind("drift_digest", "Weekly digest: new early flags in your teams", email=True)


def settings_get() -> DriftSettings:
    return DriftSettings.objects.filter(pk=1).first() or DriftSettings()


# --- Reads ---------------------------------------------------------------------------------------


def open_flags_by_rep(user_ids, *, include_manager_only: bool = True) -> dict[int, list[DriftFlag]]:
    """Open and discussed flags per rep: one query (the dashboard's Flags column)."""
    qs = DriftFlag.objects.filter(rep_id__in=list(user_ids), state__in=DriftFlag.ACTIVE_STATES)
    if not include_manager_only:
        qs = qs.filter(manager_only=False)
    out: dict[int, list[DriftFlag]] = {}
    for flag in qs.order_by("-raised_at", "-id"):
        out.setdefault(flag.rep_id, []).append(flag)
    return out


def flags_for_rep_page(viewer: User, rep: User) -> list[DriftFlag]:
    """The rep's flags of the last 90 days, newest first; manager-only ones hidden from the rep."""
    qs = DriftFlag.objects.filter(rep=rep, raised_at__gte=timezone.now() - dt.timedelta(days=90))
    if viewer.pk == rep.pk and not viewer.is_admin:
        qs = qs.filter(manager_only=False)
    return list(qs.select_related("discussed_by", "closed_by"))


def can_act_on(user: User, flag: DriftFlag) -> bool:
    """A manager of one of the rep's teams (sub-teams included), or an admin. Not the rep."""
    if user.is_admin:
        return True
    if user.pk == flag.rep_id:
        return False
    rep_teams = set(Membership.objects.filter(user_id=flag.rep_id).values_list("team_id", flat=True))
    return bool(rep_teams & managed_team_ids(user))


# --- Transitions: one service each, a conditional update so a double click acts once ------------

# Who may move a flag from which states: managers of the rep's teams and admins, never the rep.
TRANSITIONS = {
    "discuss": ((DriftFlag.State.OPEN,), DriftFlag.State.DISCUSSED),
    "resolve": ((DriftFlag.State.OPEN, DriftFlag.State.DISCUSSED), DriftFlag.State.RESOLVED),
    "dismiss": ((DriftFlag.State.OPEN, DriftFlag.State.DISCUSSED), DriftFlag.State.DISMISSED),
}


def _transition(*, actor: User, flag: DriftFlag, action: str, **fields) -> DriftFlag:
    if not can_act_on(actor, flag):
        raise PermissionDenied
    allowed, target = TRANSITIONS[action]
    with transaction.atomic():
        changed = DriftFlag.objects.filter(pk=flag.pk, state__in=allowed).update(state=target, **fields)
        if changed != 1:
            flag.refresh_from_db()
            raise ValidationError(f"This flag is already {flag.get_state_display().lower()}.")
    flag.refresh_from_db()
    return flag


def flag_discuss(*, actor: User, flag: DriftFlag, one_on_one_id: int | None = None) -> DriftFlag:
    """Mark a flag discussed with the rep, optionally in one of the rep's 1:1 meetings."""
    if one_on_one_id is not None:
        if not can_act_on(actor, flag):
            raise PermissionDenied
        if not Meeting.objects.filter(pk=one_on_one_id, series__rep_id=flag.rep_id).exists():
            raise ValidationError({"one_on_one": "Pick a 1:1 with this rep."})
    return _transition(
        actor=actor,
        flag=flag,
        action="discuss",
        discussed_at=timezone.now(),
        discussed_by=actor,
        one_on_one_id=one_on_one_id,
    )


def flag_resolve(*, actor: User, flag: DriftFlag) -> DriftFlag:
    return _transition(actor=actor, flag=flag, action="resolve", closed_at=timezone.now(), closed_by=actor)


def flag_dismiss(*, actor: User, flag: DriftFlag, reason: str) -> DriftFlag:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the flag is dismissed."})
    if len(reason) > 300:
        raise ValidationError({"reason": "A reason has at most 300 characters."})
    return _transition(
        actor=actor, flag=flag, action="dismiss", closed_at=timezone.now(), closed_by=actor, dismissal_reason=reason
    )


# --- The rules -----------------------------------------------------------------------------------


@dataclass
class Finding:
    rep_id: int
    rule: str
    reason: str
    evidence_url: str = ""
    data: dict | None = None
    manager_only: bool = False


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _rep_url(rep_id: int) -> str:
    return reverse("reviews:rep-page", args=[rep_id])


def _business_days_before(today: dt.date, n: int) -> list[dt.date]:
    days, day = [], today - dt.timedelta(days=1)
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days


def rule_kpi_falling(reps, cfg, today, series, kpis_by_rep) -> list[Finding]:
    """A KPI below its (weekly) target and getting worse each of the last N complete weeks."""
    # Inside the function: reviews.dashboard shows these flags (imports this module at its top).
    from reviews.dashboard import CUMULATIVE_UNITS, KPI_PERIOD_DAYS

    n = cfg.kpi_falling_weeks
    findings = []
    for rep in reps:
        weeks = series[rep.pk][-(n + 1) : -1]  # complete weeks only (the last bucket is this week)
        if len(weeks) < n:
            continue
        for kpi in kpis_by_rep.get(rep.pk, []):
            target, per = kpi.target, ""
            if METRIC_UNITS[Metric(kpi.metric)] in CUMULATIVE_UNITS:
                target, per = (kpi.target * 7 / KPI_PERIOD_DAYS[kpi.period]).quantize(Decimal("0.1")), " a week"
            values = [w.value(kpi.metric) for w in weeks]
            if any(v is None for v in values) or any(kpi.is_met(v, target) for v in values):
                continue
            up = METRIC_DIRECTION[Metric(kpi.metric)] == "up"
            worse = all((b < a) if up else (b > a) for a, b in itertools.pairwise(values))
            if worse:
                shown = ", ".join(f"{v.normalize():f}" for v in values)
                findings.append(
                    Finding(
                        rep.pk,
                        DriftFlag.Rule.KPI_FALLING,
                        f"{kpi.get_metric_display()} below target ({target.normalize():f}{per}) and worse each "
                        f"of the last {n} weeks: {shown}.",
                        _rep_url(rep.pk),
                        {"metric": kpi.metric, "values": [str(v) for v in values], "target": str(target)},
                    )
                )
                break
    return findings


def rule_speed_doubled(reps, cfg, today, last_week, baseline) -> list[Finding]:
    findings = []
    for rep in reps:
        now_p90, before = last_week.get(rep.pk), baseline.get(rep.pk)
        if now_p90 is None or not before:
            continue
        if now_p90 >= before * cfg.speed_p90_ratio:
            findings.append(
                Finding(
                    rep.pk,
                    DriftFlag.Rule.SPEED_DOUBLED,
                    f"Speed to lead (90th percentile) last week was {now_p90:f} minutes, against {before:f} over "
                    f"the {cfg.speed_baseline_weeks} weeks before: {(now_p90 / before).quantize(Decimal('0.1'))}x.",
                    reverse("leads:lead-list") + f"?received_by={rep.pk}",
                    {"last_week": str(now_p90), "before": str(before)},
                )
            )
    return findings


def rule_follow_up_low(reps, cfg, today, series, targets) -> list[Finding]:
    n = cfg.follow_up_weeks
    findings = []
    for rep in reps:
        weeks = series[rep.pk][-(n + 1) : -1]
        target = Decimal(str(targets.get(rep.pk, cfg.follow_up_target)))
        values = [w.follow_up_compliance for w in weeks]
        if len(values) == n and all(v is not None and v < target for v in values):
            shown = ", ".join(f"{v}%" for v in values)
            findings.append(
                Finding(
                    rep.pk,
                    DriftFlag.Rule.FOLLOW_UP_LOW,
                    f"Follow-up compliance under {target.normalize():f}% for {n} weeks in a row: {shown}.",
                    reverse("leads:lead-list") + f"?owner={rep.pk}&overdue=on",
                    {"values": [str(v) for v in values], "target": str(target)},
                )
            )
    return findings


def rule_no_activity(reps, cfg, today, quiet_days, open_leads) -> list[Finding]:
    findings = []
    for rep in reps:
        if rep.pk in quiet_days and open_leads.get(rep.pk):
            findings.append(
                Finding(
                    rep.pk,
                    DriftFlag.Rule.NO_ACTIVITY,
                    f"No call, email, meeting, SMS or note logged in the last {cfg.inactivity_business_days} "
                    f"business days while owning {open_leads[rep.pk]} open leads.",
                    reverse("leads:lead-list") + f"?owner={rep.pk}&stage=open",
                    {"open_leads": open_leads[rep.pk]},
                )
            )
    return findings


def rule_goals_behind(reps, cfg, today) -> list[Finding]:
    n = cfg.goals_behind_snapshots
    rep_ids = [r.pk for r in reps]
    snapshots: dict[int, list] = {}
    for snap in (
        GoalSnapshot.objects.filter(
            goal__owner_id__in=rep_ids,
            goal__status=Goal.Status.APPROVED,
            goal__start_date__lte=today,
            goal__end_date__gte=today,
            date__gte=today - dt.timedelta(days=14),
        )
        .select_related("goal")
        .order_by("goal_id", "-date")
    ):
        snapshots.setdefault(snap.goal_id, []).append(snap)
    findings, seen = [], set()
    for snaps in snapshots.values():
        goal = snaps[0].goal
        if goal.owner_id in seen or len(snaps) < n:
            continue
        if all(s.pacing == Pacing.BEHIND for s in snaps[:n]):
            seen.add(goal.owner_id)
            findings.append(
                Finding(
                    goal.owner_id,
                    DriftFlag.Rule.GOALS_BEHIND,
                    f"Goal “{goal.title}” has been behind in its last {n} daily snapshots.",
                    reverse("goals:goal-detail", args=[goal.pk]),
                    {"goal": goal.pk},
                )
            )
    return findings


def rule_escalations(reps, cfg, today, escalations) -> list[Finding]:
    return [
        Finding(
            rep.pk,
            DriftFlag.Rule.ESCALATIONS,
            f"{escalations[rep.pk]} of their leads were escalated to a manager in the last 7 days.",
            reverse("sla:escalation-list"),
            {"escalations": escalations[rep.pk]},
        )
        for rep in reps
        if escalations.get(rep.pk, 0) >= cfg.escalations_per_week
    ]


CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}


def rule_no_one_on_one(reps, cfg, today) -> list[Finding]:
    """No 1:1 held in `one_on_one_cadence_factor` times the series' cadence (counted from the
    series' start when none was ever held). Reps without an active series raise nothing. 2 queries."""
    series = list(OneOnOneSeries.objects.filter(rep__in=reps, is_active=True))
    held = dict(
        Meeting.objects.filter(series__in=series, state=Meeting.State.HELD)
        .values("series_id")
        .annotate(last=Max("scheduled_at"))
        .values_list("series_id", "last")
    )
    findings = []
    for s in series:
        last = held.get(s.pk) or s.created_at
        days = (today - timezone.localdate(last)).days
        allowed = cfg.one_on_one_cadence_factor * CADENCE_DAYS.get(s.cadence, 7)
        if days > allowed:
            when = "since the series started" if s.pk not in held else "since the last one"
            findings.append(
                Finding(
                    s.rep_id,
                    DriftFlag.Rule.NO_ONE_ON_ONE,
                    f"No 1:1 held for {days} days {when} (the series is {s.get_cadence_display().lower()}).",
                    reverse("reviews:one-on-one-list"),
                    {"days": days, "series": s.pk},
                )
            )
    return findings


def rule_no_recognition(reps, cfg, today) -> list[Finding]:
    """No recognition received in `recognition_days` (manager only: a prompt to notice good work,
    never shown to the rep). One query (recognition's selector)."""
    last = last_kudos_received_at(reps)
    findings = []
    for rep in reps:
        at = last.get(rep.pk)
        days = (today - timezone.localdate(at)).days if at else None
        if days is None or days > cfg.recognition_days:
            reason = (
                f"No recognition in the last {cfg.recognition_days} days: a chance to notice good work."
                if days is None
                else f"Last recognised {days} days ago: a chance to notice good work."
            )
            findings.append(
                Finding(
                    rep.pk,
                    DriftFlag.Rule.NO_RECOGNITION,
                    reason,
                    reverse("recognition:person-kudos", args=[rep.pk]),
                    {"days": days},
                    manager_only=True,
                )
            )
    return findings


def _inputs(reps, cfg, today):
    """Everything the rules read, in a constant number of queries: weekly series from the rollup,
    speed p90 of last week and the weeks before, quiet days, open leads, escalations, KPIs."""
    # Inside the function: reviews.dashboard shows these flags (imports this module at its top).
    from reviews.dashboard import _kpi_columns

    rep_ids = [r.pk for r in reps]
    _, series = rep_trends(users=rep_ids, kind=WEEKS, today=today)
    tz = timezone.get_current_timezone()
    this_monday = _monday(today)
    last_week = Period.between(this_monday - dt.timedelta(days=7), this_monday - dt.timedelta(days=1), tz)
    baseline = Period.between(
        this_monday - dt.timedelta(days=7 * (cfg.speed_baseline_weeks + 1)), this_monday - dt.timedelta(days=8), tz
    )
    p90_last = metric_values_by_user(Metric.SPEED_TO_LEAD_P90, period=last_week, users=rep_ids)
    p90_before = metric_values_by_user(Metric.SPEED_TO_LEAD_P90, period=baseline, users=rep_ids)
    quiet_days = _business_days_before(today, cfg.inactivity_business_days)
    active = (
        RepDay.objects.filter(user_id__in=rep_ids, day__in=quiet_days)
        .filter(Q(calls__gt=0) | Q(emails__gt=0) | Q(meetings__gt=0) | Q(sms__gt=0) | Q(notes__gt=0))
        .values_list("user_id", flat=True)
    )
    rolled = set(RepDay.objects.filter(user_id__in=rep_ids, day=quiet_days[-1]).values_list("user_id", flat=True))
    quiet = rolled - set(active)  # only people whose quiet days are rolled up: no guessing
    open_leads = dict(
        Lead.objects.filter(owner_id__in=rep_ids, stage__in=Lead.OPEN_STAGES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    escalations: dict[int, int] = {}
    for user_id, n in RepDay.objects.filter(
        user_id__in=rep_ids, day__gte=today - dt.timedelta(days=7), day__lt=today, escalations__gt=0
    ).values_list("user_id", "escalations"):
        escalations[user_id] = escalations.get(user_id, 0) + n

    versions, statuses = acknowledgement_status(User.objects.filter(pk__in=rep_ids))
    columns, covering = _kpi_columns(versions, statuses)
    kpis_by_rep: dict[int, list] = {}
    follow_up_targets: dict[int, Decimal] = {}
    for rep_id in rep_ids:
        for column in columns:
            if column.kpi is not None and column.version_id in covering.get(rep_id, set()):
                kpis_by_rep.setdefault(rep_id, []).append(column.kpi)
                if column.metric == Metric.FOLLOW_UP_COMPLIANCE:
                    follow_up_targets[rep_id] = column.kpi.target
    return {
        "series": series,
        "p90_last": p90_last,
        "p90_before": p90_before,
        "quiet": quiet,
        "open_leads": open_leads,
        "escalations": escalations,
        "kpis_by_rep": kpis_by_rep,
        "follow_up_targets": follow_up_targets,
    }


def drift_findings(reps, *, today: dt.date, cfg: DriftSettings | None = None) -> list[Finding]:
    cfg = cfg or settings_get()
    if not reps:
        return []
    data = _inputs(reps, cfg, today)
    return [
        *rule_kpi_falling(reps, cfg, today, data["series"], data["kpis_by_rep"]),
        *rule_speed_doubled(reps, cfg, today, data["p90_last"], data["p90_before"]),
        *rule_follow_up_low(reps, cfg, today, data["series"], data["follow_up_targets"]),
        *rule_no_activity(reps, cfg, today, data["quiet"], data["open_leads"]),
        *rule_goals_behind(reps, cfg, today),
        *rule_escalations(reps, cfg, today, data["escalations"]),
        *rule_no_one_on_one(reps, cfg, today),
        *rule_no_recognition(reps, cfg, today),
    ]


def drift_flags_compute(*, today: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """The nightly run: raise the flags the rules find for every active rep. Idempotent: a flag is a
    row under (rep, rule, week) and (rep, rule) while active, so a second run raises nothing; a rule
    dismissed for a rep within the quiet days is skipped. Returns the number of flags raised."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    cfg = settings_get()
    reps = list(User.objects.filter(role=User.Role.REP, is_active=True, memberships__isnull=False).distinct())
    findings = drift_findings(reps, today=today, cfg=cfg)
    quiet_since = now - dt.timedelta(days=cfg.dismissal_quiet_days)
    recently_dismissed = set(
        DriftFlag.objects.filter(state=DriftFlag.State.DISMISSED, closed_at__gte=quiet_since).values_list(
            "rep_id", "rule"
        )
    )
    active = set(DriftFlag.objects.filter(state__in=DriftFlag.ACTIVE_STATES).values_list("rep_id", "rule"))
    raised = 0
    week = _monday(today)
    for f in findings:
        if (f.rep_id, f.rule) in recently_dismissed or (f.rep_id, f.rule) in active:
            continue
        try:
            with transaction.atomic():
                DriftFlag.objects.create(
                    rep_id=f.rep_id,
                    rule=f.rule,
                    week=week,
                    reason=f.reason[:300],
                    evidence_url=f.evidence_url[:300],
                    data=f.data or {},
                    manager_only=f.manager_only,
                    raised_at=now,
                )
            raised += 1
        except IntegrityError:
            continue  # already raised this week, or still active: nothing to do
    logger.info("drift_flags_compute: %s findings, %s flags raised", len(findings), raised)
    return raised


# --- The manager's weekly digest -------------------------------------------------------------------


def managers_of(rep_ids) -> dict[int, set[int]]:
    """manager id -> ids of the reps they are accountable for (their teams and sub-teams)."""
    parents = dict(Team.objects.values_list("id", "parent_id"))
    team_manager = dict(Team.objects.values_list("id", "manager_id"))
    out: dict[int, set[int]] = {}
    for user_id, team_id in Membership.objects.filter(user_id__in=list(rep_ids)).values_list("user_id", "team_id"):
        seen = set()
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            if team_manager.get(team_id):
                out.setdefault(team_manager[team_id], set()).add(user_id)
            team_id = parents.get(team_id)
    return out


def drift_digest_send(*, manager: User, today: dt.date | None = None) -> bool:
    """One notice per manager per ISO week listing the flags raised in their teams in the last 7
    days (not one notice per flag). Keyed per manager and week (the notice's dedupe key), so a
    retry or a second worker sends nothing twice; no new flags, no notice."""
    today = today or timezone.localdate()
    reps = managers_of(Membership.objects.values_list("user_id", flat=True)).get(manager.pk, set())
    since = timezone.now() - dt.timedelta(days=7)
    new = list(
        DriftFlag.objects.filter(rep_id__in=reps, raised_at__gte=since, state__in=DriftFlag.ACTIVE_STATES)
        .select_related("rep")
        .order_by("rep__first_name", "rule")
    )
    if not new:
        return False
    year, week, _ = today.isocalendar()
    lines = [f"- {flag.rep}: {flag.get_rule_display()}. {flag.reason}" for flag in new]
    notice = notification_create(
        recipient=manager,
        kind=DRIFT_DIGEST,
        title=f"{len(new)} new early flag{'s' if len(new) != 1 else ''} in your teams",
        body="\n".join(lines),
        url=reverse("reviews:dashboard"),
        key=f"drift-digest:{year}-W{week:02d}",
    )
    return notice is not None


def digest_recipients() -> list[int]:
    """Active managers of a team with someone in it."""
    return sorted(
        set(Team.objects.filter(manager__isnull=False, manager__is_active=True).values_list("manager_id", flat=True))
    )
