"""Reads behind the review dashboard and the rep page (reviews.dashboard_views).

Every figure comes from leads.metrics (the period's figures: rollup plus raw rows; the trends:
the rollup alone), goals, expectations and SLA selectors, each in a constant number of queries
whatever the number of reps and weeks.

The columns from the reviews app's 1:1s and action items, and from recognition
(`recognition.selectors.last_kudos_received_at`), read through one function each below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accountability import dataversion
from accountability.expectations.models import Kpi
from accountability.expectations.selectors import acknowledgement_status
from accountability.models import Team, User
from accountability.scoping import descendant_team_ids
from accountability.templatetags import formatting
from goals.selectors import commitments_kept_by_owner, goals_at_risk_by_owner
from leads.metrics import (
    METRIC_UNITS,
    MONTHS,
    WEEKS,
    Metric,
    Period,
    Scorecard,
    pagecache,
    rep_scorecards,
    rep_trends,
    sla_counts_by_user,
    team_scorecards,
    team_totals,
)
from leads.metrics.neglect import neglect_silent_days, neglect_untouched_hours
from leads.reports.selectors import sub_team_groups, team_reps
from leads.sla.selectors import open_escalations_by_owner
from recognition.selectors import last_kudos_received_at
from reviews.drift import open_flags_by_rep as drift_open_flags_by_rep
from reviews.models import ActionItem, Meeting

# --- Columns from the reviews app (1:1s, action items) and recognition.
# Each takes the reps' ids and returns {user_id: value}; a missing id shows as "—".


def action_items_by_rep(user_ids, *, today: date) -> tuple[dict[int, int], dict[int, int]]:
    """Open action items about each rep (whoever owns them: the rep or their manager), and those of
    them past their due date: ({rep: open}, {rep: overdue}), a rep with none left out. One query."""
    rows = (
        ActionItem.objects.filter(rep_id__in=list(user_ids), status=ActionItem.Status.OPEN)
        .values("rep_id")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today)))
    )
    rows = list(rows)
    return {r["rep_id"]: r["n"] for r in rows}, {r["rep_id"]: r["overdue"] for r in rows if r["overdue"]}


def one_on_ones_by_rep(user_ids, *, now: datetime | None = None) -> tuple[dict[int, date], dict[int, date]]:
    """The day of each rep's last 1:1 held, and of their next one scheduled in an active series (in
    the site's active zone): ({rep: last}, {rep: next}). One query."""
    now = now or timezone.now()
    rows = (
        Meeting.objects.filter(
            series__rep_id__in=list(user_ids), state__in=[Meeting.State.HELD, Meeting.State.SCHEDULED]
        )
        .values("series__rep_id")
        .annotate(
            last=Max("scheduled_at", filter=Q(state=Meeting.State.HELD)),
            next=Min(
                "scheduled_at",
                filter=Q(state=Meeting.State.SCHEDULED, series__is_active=True, scheduled_at__gte=now),
            ),
        )
    )
    last, upcoming = {}, {}
    for row in rows:
        if row["last"] is not None:
            last[row["series__rep_id"]] = timezone.localdate(row["last"])
        if row["next"] is not None:
            upcoming[row["series__rep_id"]] = timezone.localdate(row["next"])
    return last, upcoming


def last_recognition_by_rep(user_ids) -> dict[int, date]:
    """When each rep last received a visible kudos (recognition's one selector). One query."""
    return {user_id: timezone.localdate(at) for user_id, at in last_kudos_received_at(list(user_ids)).items()}


def open_flags_by_rep(user_ids) -> dict[int, list]:
    """Open and discussed flags per rep (reviews.drift), for the dashboard's flags column."""
    return drift_open_flags_by_rep(user_ids)


# --- KPI columns and pacing ------------------------------------------------------------------

# The figures shown when no expectations document with KPIs covers the team.
DEFAULT_METRICS = [
    Metric.LEADS_RECEIVED,
    Metric.SPEED_TO_LEAD_P90,
    Metric.FOLLOW_UP_COMPLIANCE,
    Metric.ACTIVITIES,
    Metric.CONVERSION_RATE,
]
KPI_PERIOD_DAYS = {Kpi.Cadence.WEEK: 7, Kpi.Cadence.MONTH: 30, Kpi.Cadence.QUARTER: 91}
# Counts and sums grow with the period: their target is pro-rated to the period shown.
CUMULATIVE_UNITS = {"leads", "activities", "deals", "currency"}
AT_RISK_RATIO = Decimal("0.8")  # within 80% of the expected figure: at risk; below: behind


@dataclass
class Column:
    metric: str
    label: str
    kpi: Kpi | None = None  # None: a figure shown without a target (no KPI for it)
    version_id: int | None = None

    @property
    def key(self) -> str:
        return f"kpi:{self.metric}"

    @property
    def unit(self) -> str:
        return METRIC_UNITS[Metric(self.metric)]


@dataclass
class Cell:
    value: Decimal | None
    target: Decimal | None = None  # the target for the period shown (pro-rated for counts)
    pacing: str = "none"  # on_track / at_risk / behind / none
    series: list = field(default_factory=list)
    applies: bool = True
    metric: str = ""
    unit: str = ""
    label: str = ""
    kpi: Kpi | None = None
    href: str = ""  # the rows behind the figure (lead list or neglected report, filtered)

    # Formatted here rather than in the template: a 100-rep table has 500 of these cells.
    @property
    def display(self) -> str:
        return _format(self.value, self.unit)

    @property
    def target_display(self) -> str:
        return "" if self.target is None else _format(self.target, self.unit, target=True)

    @property
    def series_csv(self) -> str:
        return ",".join("null" if v is None else str(v) for v in self.series)

    @property
    def td(self) -> SafeString:
        """The cell's markup, written here rather than by an included template: a 100-rep table
        has 500 of these (the review dashboard, its team rows and the rep page use it)."""
        if not self.applies:
            inner = '<span class="text-muted" title="No expectations document of theirs sets this KPI">—</span>'
        else:
            inner = (
                f'<a href="{escape(self.href)}" class="kpi-value" title="The rows behind this figure">'
                f"{escape(self.display)}</a>"
            )
            if self.target is not None:
                title = "Target for this period" + (f": {self.kpi.line()}" if self.kpi else "")
                target = escape(self.target_display)
                inner += f' <span class="small text-muted" title="{escape(title)}">/ {target}</span>'
            if self.series:
                inner += (
                    f'<canvas class="sparkline d-block" width="90" height="22" role="img" '
                    f'aria-label="Trend of {escape(self.label)}" data-values="{escape(self.series_csv)}"></canvas>'
                )
        pacing, metric = escape(self.pacing), escape(self.metric)
        # Every interpolated text is escaped above.
        return mark_safe(  # noqa: S308
            f'<td class="kpi-cell pacing-{pacing}" data-figure="{metric}" data-pacing="{pacing}">{inner}</td>'
        )


def _format(value, unit: str, *, target: bool = False) -> str:
    """The one way figures are written (accountability.templatetags.formatting)."""
    if value is None:
        return "—"
    if unit == "minutes":
        return formatting.duration(value)
    if unit == "%":
        return f"{value.quantize(Decimal(1))}%" if target else formatting.percent(value)
    return formatting.figure(value.quantize(Decimal(1)))


def expected_target(kpi: Kpi, period: Period) -> Decimal:
    """The KPI's target for the period shown: counts and sums pro-rated by days, rates as they are."""
    if METRIC_UNITS[Metric(kpi.metric)] not in CUMULATIVE_UNITS:
        return kpi.target
    days = Decimal((period.end - period.start).total_seconds()) / Decimal(86400)
    return (kpi.target * days / KPI_PERIOD_DAYS[kpi.period]).quantize(Decimal("0.1"))


def pacing(kpi: Kpi, value: Decimal | None, target: Decimal) -> str:
    if value is None:
        return "none"
    if kpi.is_met(value, target):
        return "on_track"
    if kpi.direction == Kpi.Direction.AT_LEAST:
        return "at_risk" if value >= target * AT_RISK_RATIO else "behind"
    return "at_risk" if value * AT_RISK_RATIO <= target else "behind"


def _kpi_columns(versions, statuses) -> tuple[list[Column], dict[int, set[int]]]:
    """One column per metric among the KPIs of the current versions covering the reps (the most
    specific document's KPI wins: team documents come after the organisation's); and per rep the
    ids of the versions that cover them."""
    covering = {status.user.pk: {cell.version.pk for cell in status.cells} for status in statuses}
    wanted = set().union(*covering.values()) if covering else set()
    columns: dict[str, Column] = {}
    kpis = Kpi.objects.filter(version_id__in=wanted).order_by("version__document__team_id", "position", "id")
    for kpi in kpis:
        columns[kpi.metric] = Column(kpi.metric, kpi.get_metric_display(), kpi, kpi.version_id)
    if not columns:
        return [Column(m.value, m.label) for m in DEFAULT_METRICS], covering
    return list(columns.values()), covering


# --- Rows ----------------------------------------------------------------------------------


@dataclass
class RepRow:
    rep: User
    card: Scorecard
    cells: list[Cell]
    goals_at_risk: list = field(default_factory=list)
    open_escalations: int = 0
    breaches: int = 0
    escalations: int = 0
    commitments: tuple[int, int] = (0, 0)
    unacknowledged: list = field(default_factory=list)
    acknowledged: bool | None = None  # None: no document covers them
    open_action_items: int | None = None
    overdue_action_items: int | None = None
    last_one_on_one: date | None = None
    next_one_on_one: date | None = None
    last_recognition: date | None = None
    flags: list = field(default_factory=list)
    series: list = field(default_factory=list)  # one Scorecard per trend bucket
    figures: list = field(default_factory=list)  # the rep page: every figure, with its trend
    page_url: str = ""  # set by link_cells
    kudos_url: str = ""

    def sort_value(self, key: str):
        if key.startswith("kpi:"):
            for cell in self.cells:
                if cell.metric == key[4:]:
                    return cell.value
            return None
        return {
            "name": str(self.rep).lower(),
            "goals": len(self.goals_at_risk),
            "open_escalations": self.open_escalations,
            "breaches": self.breaches,
            "escalations": self.escalations,
            "commitments": self.commitments[0],
            "acknowledged": self.acknowledged,
            "flags": len(self.flags),
            "action_items": self.open_action_items,
            "overdue_action_items": self.overdue_action_items,
            "last_one_on_one": self.last_one_on_one,
            "next_one_on_one": self.next_one_on_one,
            "last_recognition": self.last_recognition,
        }.get(key)


@dataclass
class TeamRow:
    team: Team | None
    label: str
    card: Scorecard
    cells: list[Cell]


@dataclass
class Dashboard:
    period: Period
    trend_kind: str
    buckets: list
    columns: list[Column]
    rows: list[RepRow]
    total: TeamRow | None = None
    team_rows: list[TeamRow] = field(default_factory=list)


SORT_KEYS = {
    "name",
    "goals",
    "open_escalations",
    "breaches",
    "escalations",
    "commitments",
    "acknowledged",
    "flags",
    "action_items",
    "overdue_action_items",
    "last_one_on_one",
    "next_one_on_one",
    "last_recognition",
}


def _cells(columns: list[Column], card: Scorecard, period: Period, series=None, covering=None) -> list[Cell]:
    cells = []
    for column in columns:
        value = card.value(column.metric)
        cell = Cell(value=value, metric=column.metric, unit=column.unit, label=column.label, kpi=column.kpi)
        if column.kpi is not None:
            cell.applies = covering is None or column.version_id in covering
            if cell.applies:
                cell.target = expected_target(column.kpi, period)
                cell.pacing = pacing(column.kpi, value, cell.target)
        if series is not None:
            cell.series = [s.value(column.metric) for s in series]
        cells.append(cell)
    return cells


def drill_url(
    metric: str, *, rep_id: int | None = None, team_id: int | None = None, date_from, date_to, bases=None
) -> str:
    """The existing page listing the rows behind a figure: the lead list filtered like the
    figure (received: first assigned to the rep, arrived in the period), or the neglected report.
    `bases` (from `drill_bases()`) saves reversing the two URLs for each of a page's cells."""
    bases = bases or drill_bases()
    who = {"team": team_id} if rep_id is None else {}
    if metric == Metric.NEGLECTED:
        return bases["neglected"] + "?" + urlencode({"owner": rep_id} if rep_id else who)
    dates = {"arrived_from": date_from.isoformat(), "arrived_to": date_to.isoformat()}
    if metric in (
        Metric.LEADS_RECEIVED,
        Metric.LEADS_CONTACTED,
        Metric.SPEED_TO_LEAD_MEDIAN,
        Metric.SPEED_TO_LEAD_P90,
    ):
        query = {**({"received_by": rep_id} if rep_id else who), **dates}
    elif metric in (Metric.CONVERSION_RATE, Metric.DEALS_WON, Metric.VALUE_WON):
        query = {**({"owner": rep_id} if rep_id else who), "stage": "won"}
    elif metric == Metric.FOLLOW_UP_COMPLIANCE:
        query = {**({"owner": rep_id} if rep_id else who), "sort": "follow_up"}
    else:
        query = {**({"owner": rep_id} if rep_id else who), "sort": "-last_activity"}
    return bases["lead_list"] + "?" + urlencode(query)


def drill_bases() -> dict[str, str]:
    return {"neglected": reverse("leads:neglected"), "lead_list": reverse("leads:lead-list")}


def link_cells(dashboard: Dashboard, *, date_from: date, date_to: date) -> None:
    """Every figure opens its evidence; a rep's name their page, their last recognition their kudos."""
    bases = drill_bases()
    rep_page = reverse("reviews:rep-page", args=[0])[:-2]  # ".../people/0/" -> ".../people/"
    kudos = reverse("recognition:person-kudos", args=[0])
    for row in dashboard.rows:
        row.page_url = f"{rep_page}{row.rep.pk}/"
        row.kudos_url = kudos.replace("/0/", f"/{row.rep.pk}/", 1)
        for cell in row.cells:
            cell.href = drill_url(cell.metric, rep_id=row.rep.pk, date_from=date_from, date_to=date_to, bases=bases)
    for team_row in [dashboard.total, *dashboard.team_rows]:
        if team_row is None or team_row.team is None:
            continue
        for cell in team_row.cells:
            cell.href = drill_url(
                cell.metric, team_id=team_row.team.pk, date_from=date_from, date_to=date_to, bases=bases
            )


def month_mondays(today: date) -> tuple[date, date]:
    """The Mondays of the weeks that start in this calendar month (commitments are weekly)."""
    first = today.replace(day=1)
    first_monday = first + timedelta(days=(7 - first.weekday()) % 7)
    following = (first + timedelta(days=32)).replace(day=1)
    return first_monday, following - timedelta(days=1)


def build_dashboard(
    *,
    team: Team,
    period: Period,
    trend_kind: str = WEEKS,
    now: datetime,
    reps: list[User] | None = None,
    team_ids: set[int] | None = None,
    groups=False,
) -> Dashboard:
    """The review dashboard of a team (with its sub-teams): a row per rep, the team total, and
    for a team with sub-teams one row per sub-team. `team_ids`, `reps` and `groups` (from
    `sub_team_groups`), when the caller has them already, save their queries."""
    team_ids = team_ids if team_ids is not None else descendant_team_ids([team.pk])
    reps = reps if reps is not None else list(team_reps(team_ids))
    groups = groups if groups is not False else sub_team_groups(team, team_ids, reps)
    by_team = groups is not None and bool(groups.sub_teams)

    def compute():
        cards, total = team_scorecards(period=period, team_ids=team_ids, users=reps, now=now)
        totals = {}
        if by_team:
            totals = team_totals(period=period, teams=groups.trees, members=groups.members, member_cards=cards, now=now)
        return cards, total, totals

    # The same cached entry as the team dashboard's (leads.metrics.pagecache): one computation of
    # a team's figures per data version and minute, whichever page asks first.
    cards, total, totals = pagecache.team_figures(
        period=period, team_ids=team_ids, reps=reps, groups=groups if by_team else None, compute=compute
    )
    dashboard = _rows(reps, cards, period=period, trend_kind=trend_kind, now=now)
    dashboard.total = TeamRow(team, f"{team.name} total", total, _cells(dashboard.columns, total, period))
    # One row per sub-team (with its own sub-teams): their trees and members from the department's
    # teams and memberships in two queries (a tree query per sub-team grew with their number),
    # and team_totals answers them all at once.
    if by_team:
        for child in groups.sub_teams:
            card = totals[child.pk]
            dashboard.team_rows.append(TeamRow(child, child.name, card, _cells(dashboard.columns, card, period)))
    return dashboard


# What the rows read besides the leads and the rollup (whose versions leads.metrics.pagecache
# keys every entry by): a write to any of these moves its counter (accountability.dataversion).
# Follow-ups (whether an escalated one is still pending) change with a lead or an activity written
# by the leads' services, which the leads' data version sees, as for the team's figures.
ROW_MODELS = (
    "goals.goal",  # goals at risk
    "goals.commitment",  # commitments kept
    "sla.slaclock",  # open escalations
    "sla.slanotice",  # breaches and escalations in the period
    "reviews.driftflag",  # flags
    "reviews.actionitem",  # open (overdue) action items
    "reviews.oneononeseries",  # last and next 1:1 (an active series)
    "reviews.meeting",
    "recognition.kudos",  # last recognition (a visible kudos)
    "recognition.kudosrecipient",
    "accountability.team",  # who an expectations document covers (the team tree)
    "accountability.membership",
    "expectations.document",  # acknowledged: the current versions covering each rep, their KPIs
    "expectations.documentversion",
    "expectations.kpi",
    "expectations.acknowledgement",
)
# Tracked by their signals alone (accountability.expectations keeps its plain managers): its queryset
# writes go with a save() in the same transaction (publishing saves the new version after
# un-marking the old one; a draft's KPIs, bulk-created, show only once it is published and saved).
SIGNAL_TRACKED = tuple(label for label in ROW_MODELS if label.startswith("expectations."))


def track_row_models() -> None:
    """Connect the counters of the models that cannot take a TrackedManager (reviews' ready())."""
    from django.apps import apps

    for label in SIGNAL_TRACKED:
        dataversion.track(apps.get_model(label))


def cached_dashboard(
    *, team: Team, period: Period, trend_kind: str, now: datetime, finish, team_ids: set[int] | None = None
):
    """(build_dashboard's answer, finish(dashboard)) for the team, cached per team, reps, period,
    trend, data version and minute (leads.metrics.pagecache) and the counters of ROW_MODELS: a
    repeated view costs the team's and reps' queries, the data version and two cache reads.
    `finish` writes what the page shows of it (the rows' HTML), so that is cached too. `team_ids`:
    the team and its sub-teams, when the caller has them."""
    team_ids = team_ids if team_ids is not None else descendant_team_ids([team.pk])
    reps = list(team_reps(team_ids))
    groups = sub_team_groups(team, team_ids, reps)
    sub = ()
    if groups is not None:
        sub = tuple(
            (child.pk, child.name, tuple(sorted(groups.trees[child.pk])), tuple(sorted(groups.members[child.pk])))
            for child in groups.sub_teams
        )
    parts = (
        team.pk,
        team.name,
        tuple(sorted(team_ids)),
        # What the rows show of each rep, and what decides whether a document covers them.
        tuple((r.pk, r.username, r.first_name, r.last_name, r.is_active, r.is_superuser, r.role) for r in reps),
        sub,
        period.start.isoformat(),
        period.end.isoformat(),
        str(period.start.tzinfo),
        trend_kind,
        neglect_untouched_hours(),
        neglect_silent_days(),
        dataversion.versions(ROW_MODELS),
    )

    def fill():
        dashboard = build_dashboard(
            team=team, period=period, trend_kind=trend_kind, now=now, reps=reps, team_ids=team_ids, groups=groups
        )
        return dashboard, finish(dashboard)

    return pagecache.cached("review_rows", parts, fill)


def build_rep_dashboard(*, rep: User, period: Period, trend_kind: str = WEEKS, now: datetime) -> Dashboard:
    """The same row for one rep (their rep page, and what they see of themselves)."""
    cards = rep_scorecards(period=period, users=[rep], now=now)
    dashboard = _rows([rep], cards, period=period, trend_kind=trend_kind, now=now)
    row = dashboard.rows[0]
    by_metric = {column.metric: column for column in dashboard.columns}
    every = [by_metric.get(m.value) or Column(m.value, m.label) for m in Metric]
    row.figures = _cells(every, row.card, period, row.series)
    return dashboard


def _rows(reps, cards, *, period: Period, trend_kind: str, now: datetime) -> Dashboard:
    ids = [r.pk for r in reps]
    today = now.astimezone(period.start.tzinfo).date()
    versions, statuses = acknowledgement_status(User.objects.filter(pk__in=ids))
    columns, covering = _kpi_columns(versions, statuses)
    status_by_user = {s.user.pk: s for s in statuses}
    buckets, series = rep_trends(users=ids, kind=trend_kind, today=today)
    goals = goals_at_risk_by_owner(ids, today=today)
    first_monday, last_monday = month_mondays(today)
    commitments = commitments_kept_by_owner(ids, first_monday=first_monday, last_monday=last_monday)
    open_escalations = open_escalations_by_owner(ids)
    sla = sla_counts_by_user(period=period, users=ids)
    flags = open_flags_by_rep(ids)
    action_items, overdue_items = action_items_by_rep(ids, today=today)
    last_1on1, next_1on1 = one_on_ones_by_rep(ids, now=now)
    recognition = last_recognition_by_rep(ids)
    rows = []
    for rep in reps:
        status = status_by_user.get(rep.pk)
        row = RepRow(
            rep=rep,
            card=cards[rep.pk],
            cells=_cells(columns, cards[rep.pk], period, series[rep.pk], covering.get(rep.pk, set())),
            goals_at_risk=goals.get(rep.pk, []),
            open_escalations=open_escalations.get(rep.pk, 0),
            breaches=sla.get(rep.pk, (0, 0))[0],
            escalations=sla.get(rep.pk, (0, 0))[1],
            commitments=commitments.get(rep.pk, (0, 0)),
            unacknowledged=[c.version for c in status.cells if not c.done] if status else [],
            acknowledged=(status.outstanding == 0) if status and status.cells else None,
            open_action_items=action_items.get(rep.pk),
            overdue_action_items=overdue_items.get(rep.pk),
            last_one_on_one=last_1on1.get(rep.pk),
            next_one_on_one=next_1on1.get(rep.pk),
            last_recognition=recognition.get(rep.pk),
            flags=flags.get(rep.pk, []),
            series=series[rep.pk],
        )
        rows.append(row)
    return Dashboard(period=period, trend_kind=trend_kind, buckets=buckets, columns=columns, rows=rows)


def sort_rows(rows: list[RepRow], sort: str) -> list[RepRow]:
    """Sort by any column ("-" first for descending); empty values always last."""
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    present = [r for r in rows if r.sort_value(key) is not None]
    missing = [r for r in rows if r.sort_value(key) is None]
    present.sort(key=lambda r: r.sort_value(key), reverse=descending)
    return present + missing


__all__ = ["MONTHS", "WEEKS", "build_dashboard", "build_rep_dashboard", "sort_rows"]
