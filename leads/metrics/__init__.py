"""The accountability metrics: one module every page, goal and review uses.

CONTRACT (implemented by the metrics work; other apps code against these names):

    Period(start: datetime, end: datetime)        half-open [start, end), aware datetimes
    Period.last_days(n), Period.month_of(date), Period.between(date_from, date_to, tz)

    class Metric(TextChoices)                    the metric catalogue below; each has a unit
    METRIC_UNITS[Metric] -> str                  "leads", "minutes", "%", "activities", "deals", "currency"
    METRIC_DIRECTION[Metric] -> "up" | "down"    which way is better (speed to lead: down)
    METRIC_CUMULATIVE                            the metrics that accumulate (paced linearly)

    metric_value(metric, *, period, user=None, team=None) -> Decimal | None
        One figure for one rep (user), one team (team, including sub-teams), or everyone
        (neither). None when it is undefined (for example speed to lead with no contacted lead).

    metric_values_by_user(metric, *, period, users) -> dict[user_id, Decimal | None]
        The same figure for many reps in a constant number of queries (boards, dashboards).

    rep_scorecards(*, period, users) -> dict[user_id, Scorecard]
        Every dashboard figure per rep, in a constant number of queries.

    total_scorecard(*, period, team=None) -> Scorecard
        The same figures for a team (with its sub-teams) or, with no team, everyone.

    team_scorecards(*, period, team_ids, users) -> (dict[user_id, Scorecard], Scorecard)
        A team dashboard (rows of its members and the team total) in a constant number of queries.

    neglect_condition(now=None, *, untouched_hours=None, silent_days=None) -> Q
        The filter "this lead is neglected" on Lead, for the neglected report and counts.

    figure_rows(figure, *, period, user=None, team_ids=None, now=None) -> QuerySet
        The rows a dashboard figure counts (FIGURE_ROWS names them), from the same definitions
        the figure's aggregate uses (leads.metrics.rows): the list behind each number.

PERIODS AND TIME ZONES (the one rule; every page, goal and KPI follows it):

- A period of a person's figures ("this month", "this week from Monday", "last 30 days", a goal's
  1 to 30 November) is made of whole days of their team's time zone: the zone of their first team
  (by membership), `accountability.timezones.figures_time_zone(user)`; a person on no team falls
  back to the zone they read the site in. A team's figures (a team dashboard, a team goal) use
  the team's zone: `figures_time_zone(user, team)`. Many people at once: `figures_time_zones(users)`,
  one query.
- Never the reader's zone: a manager in New York reading about a rep in Tokyo sees the rep's Tokyo
  week, the same figure the rep sees. Never the site's zone (settings.TIME_ZONE) either, except as
  the last fallback. The reader's zone only decides how times are *shown*.
- Users of the rule: the dashboard (leads.reports), goals (goals.progress.goal_zone: a goal's
  start and end dates are days of its owner's or its team's zone), and the expectations KPI
  scorecard (each rep's "this week" is their team's week).
- Pacing (how far along a period is, on track or behind) is one rule for goals and KPIs:
  accountability.pacing.

ATTRIBUTION RULES (how each figure is decided; every figure can be explained down to rows):

- Cohort. Lead figures (received, contacted, speed to lead) are about the leads that
  *arrived* in the period (`Lead.arrived_at` in [start, end)).
- Received. A lead counts as received by the rep of its *initial assignment*, stored on the
  lead as `Lead.received_by` (leads.services sets it on the first assignment to a rep: intake,
  manual entry, or a claim from the unassigned queue; the timeline's `assigned` entry with an
  empty `data["from_owner"]` records the same fact). A later reassignment does not change it:
  the rep it was given to stays accountable for how fast it was contacted. Team and everyone
  totals count each lead of the team once, including leads still in the unassigned queue, so a
  team total can exceed the sum of its reps.
- Contacted / speed to lead. A lead is contacted once `first_contacted_at` is set (a call, email,
  meeting or SMS; a note is not a contact), by anyone. Speed to lead is counted in the team's
  business time, like the SLA it is judged against: the business minutes from arrival to first
  contact, in the opening hours of the SLA policy version the lead's first-contact clock used
  (else the team's live policy), without holidays. It is computed once, when the first contact
  is logged, and stored as `Lead.first_contact_business_minutes` (a lead that arrives on Friday
  evening and is called first thing Monday has a speed of a few minutes, not 60 hours).
  `speed_to_lead_median` / `speed_to_lead_p90` (the Metric a KPI or goal measures) read that
  column; `speed_to_lead_wall_median` / `speed_to_lead_wall_p90` are the same figures in
  wall-clock minutes (first_contacted_at - arrived_at), shown beside them. Medians and 90th
  percentiles are `percentile_cont` (linear interpolation) over the contacted leads of the
  cohort. Never-contacted leads are not in the percentiles; they show as received minus
  contacted and as neglected.
- Saved leads. A rep saves a lead when they make its first contact (`first_contacted_by`, at a
  time in the period) without having received it (`Lead.received_by` is someone else or nobody): a teammate
  who rescues a neglected lead, or the rep it was reassigned to. The saver keeps that credit
  even though the lead stays in the first rep's received figures. A team's saved leads are
  its members' saves; everyone's are all saves.
- Wins. Deals won, value won and conversion count for the lead's owner at close
  (`Lead.owner`), for leads closed (`closed_at`) in the period. Conversion rate = won / closed
  (won + lost) x 100: judged on decided leads only, so an open pipeline neither helps nor hurts;
  undefined (None) with no closed lead.
- Follow-up compliance. FollowUp rows of the rep (`FollowUp.owner`) *due* in the period, cancelled
  ones excluded: on time = done with done_at <= due_at; missed = done late, or still open and
  past due now. Open rows not yet due are not decided yet and are left out. Compliance = on time
  / (on time + missed) x 100; None with nothing decided.
- Activities. Entries the rep logged themselves (`actor`), of the loggable kinds (call, email,
  meeting, sms, note), occurring in the period; an entry that corrects an earlier one is not
  counted again. Team totals count the entries of the team's members (sub-teams included), so
  they are the sum of the rep rows; everyone's total counts every entry made by a person.
- Neglected. A current-state count (it ignores the period): open leads that are never contacted
  more than NEGLECT_UNTOUCHED_HOURS (default 24) after arrival, or whose follow-up is overdue
  (`next_follow_up_at` before now), or silent: no activity for NEGLECT_SILENT_DAYS (default 7)
  days (`last_activity_at`, or arrival when there is none). Override the defaults with the
  settings LEADS_NEGLECT_UNTOUCHED_HOURS and LEADS_NEGLECT_SILENT_DAYS. For a rep: the leads
  they own now; for a team: every open lead of the team, queue included.

Rounding: minutes and percentages are Decimals rounded to one decimal place; counts are whole.

Daily rollup (leads.models.RepDay / TeamDay, built nightly by leads.rollup): on PostgreSQL every
function reads the closed days of a period from the rollup and the rest (today, the edges of a
period cut in another zone, days not rolled up yet) from the raw rows, with identical results
(leads.metrics.rollup; one extra query finds what the rollup covers). The rows keep each day's
business and wall-clock minute values, so all four speed-to-lead percentiles stay exact. What the
rollup alone says about a period (sums, covered interval, the ranked minutes around each
percentile's rank) and the trends are cached per rollup version (leads.metrics.closedcache;
leads.rollup bumps it on every build), so a warm request reads only today's raw rows and merges
their minutes into the cached ranks, exactly. The raw
remainder is read through the same conditions (leads.metrics.rows) with a Window, per person or
team, in place of the Period. `rep_trends` gives weekly or
monthly series from the rollup alone (two queries for any number of people and weeks), and
`sla_counts_by_user` the breaches and escalations of a period.

Queries: every function runs a constant number of SQL aggregate queries, whatever the number of
users or rows (rep_scorecards: 6). On PostgreSQL the percentiles are computed in the database
with percentile_cont. SQLite (the laptop default of `make run`) has no percentile_cont: there,
and only for the two percentiles, the ordered minute values are fetched in one query and
interpolated in Python with the same formula. Everything else is the same SQL on both.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accountability.scoping import descendant_team_ids
from leads.metrics import rollup
from leads.metrics.catalogue import (
    LOGGABLE_KINDS,
    METRIC_CUMULATIVE,
    METRIC_DIRECTION,
    METRIC_UNITS,
    Metric,
    Scorecard,
)
from leads.metrics.compute import _compute, team_lead_totals
from leads.metrics.neglect import (
    NEGLECT_SILENT_DAYS,
    NEGLECT_UNTOUCHED_HOURS,
    neglect_condition,
    neglect_silent_days,
    neglect_untouched_hours,
    overdue_q,
    silent_q,
    untouched_q,
)
from leads.metrics.period import Period
from leads.metrics.queries import (
    PercentileCont,
    _group_of,
    _Scope,
    _user_ids,
    first_contact_minutes,
    neglected_counts,
    percentile,
)
from leads.metrics.rows import (
    rows_activities,
    rows_closed,
    rows_contacted,
    rows_follow_ups_decided,
    rows_never_contacted,
    rows_received,
    rows_saved,
    rows_speed_to_lead,
    rows_won,
    time_to_first_contact_minutes,
)
from leads.metrics.trends import MONTHS, WEEKS, Bucket, rep_trends, sla_counts_by_user, trend_buckets

__all__ = [
    "FIGURE_ROWS",
    "LOGGABLE_KINDS",
    "METRIC_CUMULATIVE",
    "METRIC_DIRECTION",
    "METRIC_UNITS",
    "MONTHS",
    "NEGLECT_SILENT_DAYS",
    "NEGLECT_UNTOUCHED_HOURS",
    "WEEKS",
    "Bucket",
    "Metric",
    "PercentileCont",
    "Period",
    "Scorecard",
    "figure_rows",
    "first_contact_minutes",
    "metric_value",
    "metric_values_by_user",
    "neglect_condition",
    "neglect_silent_days",
    "neglect_untouched_hours",
    "overdue_q",
    "percentile",
    "rep_scorecards",
    "rep_trends",
    "silent_q",
    "sla_counts_by_user",
    "team_scorecards",
    "team_totals",
    "time_to_first_contact_minutes",
    "total_scorecard",
    "trend_buckets",
    "untouched_q",
]

# --- The public interface ----------------------------------------------------------------------


def rep_scorecards(*, period: Period, users, now: datetime | None = None) -> dict[int, Scorecard]:
    """Every figure for each rep in `users` (User objects or ids), in 6 queries whatever their number."""
    return _compute(_Scope(user_ids=_user_ids(users)), period, now=now)


def total_scorecard(
    *, period: Period, team=None, team_ids: set[int] | None = None, now: datetime | None = None
) -> Scorecard:
    """The figures for a team including its sub-teams (each lead once), or everyone with no team.

    A caller that already has the team tree may pass `team_ids` (the team and its sub-teams)
    instead of `team` and save a query."""
    scope = _Scope(team_ids=set(team_ids)) if team_ids is not None else _team_scope(team)
    return _compute(scope, period, now=now)[None]


def team_scorecards(
    *, period: Period, team_ids: set[int], users, now: datetime | None = None
) -> tuple[dict[int, Scorecard], Scorecard]:
    """A team dashboard: one row per member and the team total, in a constant number of queries.

    `users` must be every member of the teams in `team_ids` (a team and its sub-teams). The
    total's follow-up, activity and saved figures count the members' own, so they are the sums
    of the rows; its lead figures (each lead once, queue included) take one pass over the
    team's leads. Equal to total_scorecard(team_ids=team_ids), with four queries fewer.
    """
    now = now or timezone.now()
    cards = _compute(
        _Scope(user_ids=_user_ids(users)),
        period,
        groups=["cohort", "follow_ups", "activities", "closed", "saved"],
        now=now,
    )
    scope = _Scope(team_ids=set(team_ids))
    total = Scorecard()
    for name, value in team_lead_totals(scope, period, now, {"cohort", "closed"})[None].items():
        setattr(total, name, value)
    # Neglected now: the reps' and the team's counts in one query (two index-only scans).
    by_owner, by_team = neglected_counts(now, user_ids=list(cards), team_ids=team_ids)
    for key, card in cards.items():
        card.neglected = by_owner.get(key, 0)
    total.neglected = sum(by_team.values())
    for card in cards.values():
        total.saved += card.saved
        total.follow_ups_on_time += card.follow_ups_on_time
        total.follow_ups_missed += card.follow_ups_missed
        for kind, n in card.activities_by_kind.items():
            total.activities_by_kind[kind] += n
    return cards, total


def team_totals(*, period: Period, teams: dict, members: dict, member_cards: dict, now: datetime | None = None) -> dict:
    """Several teams' totals (each with its sub-teams), e.g. a head of sales' row per team.

    `teams` maps a key to the team ids of one total; `members` a key to its members' ids, whose
    cards (`member_cards`, from rep_scorecards / team_scorecards) give the follow-up, activity and
    saved figures. Through the rollup: three queries for any number of teams; without it, one
    total_scorecard per team. Each equals total_scorecard(team_ids=...)."""
    now = now or timezone.now()
    if rollup.enabled():
        grouped = rollup.team_totals_grouped(
            period,
            now,
            teams,
            {key: [member_cards[m] for m in ids if m in member_cards] for key, ids in members.items()},
        )
        if grouped is not None:
            return grouped
    return {key: total_scorecard(period=period, team_ids=team_ids, now=now) for key, team_ids in teams.items()}


def _team_scope(team) -> _Scope:
    if team is None:
        return _Scope()

    return _Scope(team_ids=descendant_team_ids([team if isinstance(team, int) else team.pk]))


def metric_value(metric: Metric | str, *, period: Period, user=None, team=None, now=None) -> Decimal | None:
    """One figure for a rep (user), a team with its sub-teams (team), or everyone (neither)."""
    metric = Metric(metric)
    if user is not None and team is not None:
        raise ValueError("Pass a user or a team, not both.")
    scope = _Scope(user_ids=_user_ids([user])) if user is not None else _team_scope(team)
    cards = _compute(scope, period, groups=[_group_of(metric)], now=now)
    return next(iter(cards.values())).value(metric)


def metric_values_by_user(metric: Metric | str, *, period: Period, users, now=None) -> dict[int, Decimal | None]:
    """The same figure for many reps in one query (two on SQLite for the percentiles)."""
    metric = Metric(metric)
    cards = _compute(_Scope(user_ids=_user_ids(users)), period, groups=[_group_of(metric)], now=now)
    return {key: card.value(metric) for key, card in cards.items()}


# --- The rows behind the figures ----------------------------------------------------------------

# figure -> what the rows are. Both speed-to-lead figures open one list (the contacted leads,
# slowest first); value won opens the won leads; conversion the closed leads. Neglected has its
# own report (leads.reports.selectors.neglected_leads).
FIGURE_ROWS: dict[str, str] = {
    "received": "leads",
    "contacted": "leads",
    "not_contacted": "leads",
    "speed_to_lead": "leads",
    "follow_ups": "follow_ups",
    **dict.fromkeys(LOGGABLE_KINDS, "activities"),
    "won": "leads",
    "closed": "leads",
    "saved": "leads",
}


def figure_rows(figure: str, *, period: Period, user=None, team_ids: set[int] | None = None, now=None) -> QuerySet:
    """The rows behind one dashboard figure for a rep (user), a team tree (team_ids), or everyone.

    Exactly the rows the figure counts: the figure is their number (or their percentile, sum
    or rate). Leads, follow-ups (each with `kept`) or activities, as FIGURE_ROWS says."""
    if figure not in FIGURE_ROWS:
        raise ValueError(f"Unknown figure {figure!r}")
    if user is not None and team_ids is not None:
        raise ValueError("Pass a user or teams, not both.")
    if user is not None:
        scope = _Scope(user_ids=_user_ids([user]))
    else:
        scope = _Scope(team_ids=set(team_ids)) if team_ids is not None else _Scope()
    if FIGURE_ROWS[figure] == "activities":
        return rows_activities(scope, period, figure).order_by("occurred_at", "id")
    if figure == "follow_ups":
        return rows_follow_ups_decided(scope, period, now or timezone.now())
    select = {
        "received": rows_received,
        "contacted": rows_contacted,
        "not_contacted": rows_never_contacted,
        "speed_to_lead": rows_speed_to_lead,
        "won": rows_won,
        "closed": rows_closed,
        "saved": rows_saved,
    }[figure]
    rows = select(scope, period)
    if figure == "speed_to_lead":
        return rows  # slowest first
    order = {"won": "closed_at", "closed": "closed_at", "saved": "first_contacted_at"}.get(figure, "arrived_at")
    return rows.order_by(order, "id")
