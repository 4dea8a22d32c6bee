"""Reading the daily rollup (leads.models.RepDay / TeamDay, built by leads.rollup).

A period is answered from the rollup rows that lie wholly inside it (closed days) plus the raw
rows for the rest (today, the edges of a period cut in another zone, days not rolled up yet):
the same numbers as reading raw rows only, in far less work. Per key (a person, or a team for
team totals), the rows used must be contiguous; a key whose rows have a gap (a day missing, a
zone changed) is read raw for the whole period, so a gap never changes an answer.

Speed to lead: each row keeps its cohort's minute values, business (first_contact_minutes) and
wall-clock (first_contact_wall_minutes), as float8[], so each median and 90th percentile is exact
over the rows' values and the raw remainder's.

What comes from rollup rows alone (each key's sums and covered interval, and the ranked minute
values around the percentiles' ranks) is cached per rollup version (leads.metrics.closedcache):
a request reads only the raw remainder (today) and merges its values into the cached ranks,
exactly. When the cache cannot decide a percentile (a remainder larger than the cached window),
one percentile_cont over the rows' values and the remainder's answers it in SQL (one UNION ALL
for the four), as before the cache.

PostgreSQL only (arrays, percentile_cont); on SQLite leads.metrics reads raw rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DurationField, F, FloatField, IntegerField, Max, Min, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce

from accountability.models import Team
from leads.metrics import closedcache
from leads.metrics.catalogue import Scorecard, _round
from leads.metrics.period import Period, Window
from leads.metrics.queries import (
    SPEED_FIGURES,
    _activities,
    _closed,
    _follow_ups,
    _lead_totals,
    _neglected,
    _saved,
    _Scope,
    first_contact_minutes,
    first_contact_wall_minutes,
    neglected_counts,
)
from leads.metrics.rows import closed_q, received_q
from leads.models import Lead, RepDay, TeamDay

REP_SUMS = (
    "received",
    "contacted",
    "follow_ups_kept",
    "follow_ups_missed",
    "calls",
    "emails",
    "meetings",
    "sms",
    "notes",
    "won",
    "lost",
    "value_won",
    "saved",
)
TEAM_SUMS = ("received", "contacted", "won", "lost", "value_won")
KIND_COLUMNS = {"call": "calls", "email": "emails", "meeting": "meetings", "sms": "sms", "note": "notes"}


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _coverage(model, key_field: str, keys, period: Period, now: datetime, sums) -> tuple[dict, dict]:
    """One query: per key, the sums of its rows inside [period.start, min(end, now)) and the
    interval they cover. Returns ({key: sums}, {key: raw intervals}) for the keys whose rows are
    contiguous; empty when the rollup covers nothing."""
    cutoff = min(period.end, now)
    if cutoff <= period.start or not keys:
        return {}, {}
    rows = (
        model.objects.filter(
            **{f"{key_field}__in": list(keys)},
            # `day` first: the unique (key, day) index narrows the scan; the exact bounds follow.
            day__gte=period.start.date() - timedelta(days=1),
            day__lte=cutoff.date() + timedelta(days=1),
            starts_at__gte=period.start,
            ends_at__lte=cutoff,
        )
        .values(key_field)
        .annotate(
            first=Min("starts_at"),
            last=Max("ends_at"),
            span=Sum(F("ends_at") - F("starts_at"), output_field=DurationField()),
            **{f"sum_{name}": Sum(name) for name in sums},
        )
    )
    covered: dict = {}
    intervals: dict = {}
    for row in rows:
        # Contiguous and not overlapping: the rows' lengths add up to the span they cover.
        if row["last"] - row["first"] != row["span"]:
            continue
        key = row[key_field]
        covered[key] = {name: row[f"sum_{name}"] for name in sums}
        intervals[key] = [
            (start, end) for start, end in ((period.start, row["first"]), (row["last"], period.end)) if end > start
        ]
    if not covered:
        return {}, {}
    for key in keys:
        intervals.setdefault(key, [(period.start, period.end)])
    return covered, intervals


def _closed_days(
    model, key_field: str, keys, period: Period, now: datetime, sums, *, speed: tuple | None = None
) -> tuple[dict, dict, dict]:
    """_coverage and, with `speed` = (table, key column, per_key, groups), the ranked minute
    values of the covered rows per key (or all together under None, or per group): what the
    rollup alone says about this period, cached per rollup version (leads.metrics.closedcache).
    Returns (covered, intervals, ranked), ranked = {key: (business Ranked, wall-clock Ranked)}."""
    cutoff = min(period.end, now)
    if cutoff <= period.start or not keys:
        return {}, {}, {}

    def fill():
        covered, intervals = _coverage(model, key_field, keys, period, now, sums)
        ranked = _ranked_minutes(*speed, covered, period, cutoff) if speed and covered else {}
        return covered, intervals, ranked

    speed_spec = None
    if speed:
        table, key_column, per_key, groups = speed
        speed_spec = (table, key_column, per_key, _groups_spec(groups))
    return closedcache.cached(
        "closed-days",
        (model._meta.label, tuple(sorted(keys)), tuple(sums), period.start.isoformat(), speed_spec),
        fill,
        period_end=period.end,
        cutoff=cutoff,
    )


def _groups_spec(groups: dict | None):
    if not groups:
        return None
    return tuple((repr(key), tuple(sorted(ids))) for key, ids in groups.items())


def _key_sql(per_key: bool, groups: dict | None, column: str) -> tuple[str, str, list]:
    """The SELECT key, GROUP BY and parameters of a per key / all together / per group query."""
    if groups:
        branches = []
        params: list = []
        for index, keys in enumerate(groups.values()):
            branches.append(f"WHEN {column} = ANY(%s) THEN {index}")
            params.append(list(keys))
        return f"CASE {' '.join(branches)} END", " GROUP BY 1", params
    if per_key:
        return column, " GROUP BY 1", []
    return "NULL", "", []


def _group_name(groups: dict | None, k):
    return list(groups)[k] if groups and k is not None else k


def _ranked_minutes(table: str, key_column: str, per_key: bool, groups, covered: dict, period: Period, cutoff):
    """{key: (Ranked business minutes, Ranked wall-clock minutes)} of the covered rollup rows."""
    key, group_by, key_params = _key_sql(per_key, groups, f"r.{key_column}")
    # table and key_column are constants of this module (never input); values go in as parameters.
    sql = (
        f"SELECT {key}, array_agg(e.b ORDER BY e.b) FILTER (WHERE e.b IS NOT NULL), "  # noqa: S608
        "array_agg(e.w ORDER BY e.w) FILTER (WHERE e.w IS NOT NULL) "
        f"FROM {table} r CROSS JOIN LATERAL unnest(r.first_contact_minutes, r.first_contact_wall_minutes) AS e(b, w) "
        f"WHERE r.{key_column} = ANY(%s) AND r.day >= %s AND r.day <= %s AND r.starts_at >= %s AND r.ends_at <= %s"
        f"{group_by}"
    )
    params = [
        *key_params,
        list(covered),
        period.start.date() - timedelta(days=1),
        cutoff.date() + timedelta(days=1),
        period.start,
        cutoff,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    days = max(1, (cutoff - period.start).days)
    out = {}
    for k, business, wall in rows:
        if groups and k is None:
            continue
        out[_group_name(groups, k)] = (
            closedcache.Ranked.of(business or [], days),
            closedcache.Ranked.of(wall or [], days),
        )
    return out


def _speeds(
    table: str,
    key_column: str,
    covered: dict,
    ranked: dict,
    period: Period,
    now: datetime,
    window: Window,
    lead_key,
    *,
    per_key=True,
    groups: dict | None = None,
) -> dict:
    """What _speed_union returns, from the cached ranks of the rollup rows and one query on the
    raw remainder (its counts and sorted minute values); exact. Falls back to _speed_union when
    the cached ranks do not decide a percentile."""
    remainder: dict = {}
    if not window.is_empty:
        raw = (
            Lead.objects.filter(received_q(window, key=lead_key))
            .annotate(
                k=F(lead_key),
                b=Cast(first_contact_minutes(), FloatField()),
                w=Cast(first_contact_wall_minutes(), FloatField()),
            )
            .order_by()
            .values_list("k", "b", "w")
        )
        raw_sql, raw_params = raw.query.sql_with_params()
        key, group_by, key_params = _key_sql(per_key, groups, "u.k")
        # Built from this module's constants and Django-compiled SQL; every value is a parameter.
        sql = (
            f"SELECT {key}, COUNT(*), COUNT(u.w), array_agg(u.b ORDER BY u.b) FILTER (WHERE u.b IS NOT NULL), "  # noqa: S608
            f"array_agg(u.w ORDER BY u.w) FILTER (WHERE u.w IS NOT NULL) FROM ({raw_sql}) u{group_by}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*key_params, *raw_params])
            for k, received, contacted, business, wall in cursor.fetchall():
                if groups and k is None:
                    continue
                remainder[_group_name(groups, k)] = (received, contacted, business or [], wall or [])
    keys = set(ranked) | set(remainder)
    if not per_key and not groups:
        keys = {None}
    out = {}
    try:
        for k in keys:
            received, contacted, business, wall = remainder.get(k, (0, 0, [], []))
            ranks = ranked.get(k, (None, None))
            figures = []
            for values, rank in ((business, ranks[0]), (wall, ranks[1])):
                figures += [closedcache.union_percentile(rank, values, f) for f in closedcache.FRACTIONS]
            out[k] = (received, contacted, {n: _round(v) for n, v in zip(SPEED_FIGURES, figures, strict=True)})
    except closedcache.Miss:
        return _speed_union(table, key_column, covered, period, now, window, lead_key, per_key=per_key, groups=groups)
    return out


def _speed_union(
    table: str,
    key_column: str,
    covered: dict,
    period: Period,
    now: datetime,
    window: Window,
    lead_key,
    *,
    per_key=True,
    groups: dict | None = None,
) -> dict:
    """Per key (or for all keys together, `per_key=False`, under the key None): raw received and
    contacted of the remainder, and the four speed-to-lead percentiles (business median and p90,
    wall-clock median and p90) over the rollup rows' minute values and the remainder's, in one
    query. Returns {key: (received, contacted, {figure: Decimal | None})}."""
    cutoff = min(period.end, now)
    # table and key_column are constants of this module (never input); values go in as parameters.
    # unnest(a, b) pairs the two lists and pads the shorter with NULLs (a contacted lead without
    # business minutes is in the wall-clock list only); percentile_cont skips NULLs, and the order
    # of the pairs does not matter to a percentile.
    rollup_sql = (
        f"SELECT r.{key_column} AS k, e.b AS b, e.w AS w, 0 AS src FROM {table} r "  # noqa: S608
        "CROSS JOIN LATERAL unnest(r.first_contact_minutes, r.first_contact_wall_minutes) AS e(b, w) "
        f"WHERE r.{key_column} = ANY(%s) AND r.day >= %s AND r.day <= %s AND r.starts_at >= %s AND r.ends_at <= %s"
    )
    params: list = [
        list(covered),
        period.start.date() - timedelta(days=1),
        cutoff.date() + timedelta(days=1),
        period.start,
        cutoff,
    ]
    parts = [rollup_sql]
    if not window.is_empty:
        # The remainder's cohort (received_q, keyed per person or team), its values through the
        # same expressions as the raw figures (queries._speed_aggregates) and the rollup build.
        raw = (
            Lead.objects.filter(received_q(window, key=lead_key))
            .annotate(
                k=F(lead_key),
                b=Cast(first_contact_minutes(), FloatField()),
                w=Cast(first_contact_wall_minutes(), FloatField()),
                src=Value(1, output_field=IntegerField()),
            )
            .order_by()
            .values_list("k", "b", "w", "src")
        )
        raw_sql, raw_params = raw.query.sql_with_params()
        parts.append(raw_sql)
        params.extend(raw_params)
    key, group_by = ("u.k", " GROUP BY u.k") if per_key else ("NULL", "")
    if groups:
        # Several keys per answer (a head of sales' teams, each with its sub-teams): one CASE
        # branch per group, its keys as one array parameter.
        branches = []
        case_params: list = []
        for index, keys in enumerate(groups.values()):
            branches.append(f"WHEN u.k = ANY(%s) THEN {index}")
            case_params.append(list(keys))
        key, group_by = f"CASE {' '.join(branches)} END AS g", " GROUP BY 1"
        params = case_params + params
    # Built from this module's constants and Django-compiled SQL; every value is a parameter.
    # The remainder's contacted leads are its rows with wall-clock minutes (first contact set).
    sql = (
        f"SELECT {key}, COUNT(*) FILTER (WHERE u.src = 1), COUNT(u.w) FILTER (WHERE u.src = 1), "  # noqa: S608
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY u.b), percentile_cont(0.9) WITHIN GROUP (ORDER BY u.b), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY u.w), percentile_cont(0.9) WITHIN GROUP (ORDER BY u.w) "
        f"FROM ({' UNION ALL '.join(f'({p})' for p in parts)}) u{group_by}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = {}
    names = list(groups) if groups else None
    for k, received, contacted, *percentiles in rows:
        if groups:
            if k is None:
                continue
            k = names[k]
        out[k] = (received, contacted, {name: _round(v) for name, v in zip(SPEED_FIGURES, percentiles, strict=True)})
    return out


NO_SPEED = (0, 0, dict.fromkeys(SPEED_FIGURES))


def _add(cards: dict, part: dict) -> None:
    for key, values in part.items():
        card = cards.get(key)
        if card is None:
            continue
        for name, value in values.items():
            if name == "activities_by_kind":
                for kind, n in value.items():
                    card.activities_by_kind[kind] += n
            elif name.startswith("speed_to_lead"):
                setattr(card, name, value)
            else:
                setattr(card, name, getattr(card, name) + value)


def rep_cards(scope, period: Period, *, groups: set[str], now: datetime) -> dict | None:
    """Per-person cards from the rollup and the raw remainder; None when the rollup covers none
    of these people in this period (the caller reads raw rows)."""
    keys = scope.user_ids
    speed = ("leads_repday", "user_id", True, None) if "cohort" in groups else None
    covered, intervals, ranked = _closed_days(_rep_model(), "user_id", keys, period, now, REP_SUMS, speed=speed)
    if not covered:
        return None
    window = Window(period, intervals)
    cards = {key: Scorecard() for key in keys}
    for key, sums in covered.items():
        card = cards[key]
        card.leads_received, card.leads_contacted = sums["received"], sums["contacted"]
        card.follow_ups_on_time, card.follow_ups_missed = sums["follow_ups_kept"], sums["follow_ups_missed"]
        card.activities_by_kind = {kind: sums[column] for kind, column in KIND_COLUMNS.items()}
        card.deals_won, card.deals_lost = sums["won"], sums["lost"]
        card.value_won = sums["value_won"] or Decimal("0.00")
        card.saved = sums["saved"]
    if "cohort" in groups:
        speeds = _speeds("leads_repday", "user_id", covered, ranked, period, now, window, "received_by_id")
        for key, (received, contacted, figures) in speeds.items():
            if key in cards:
                cards[key].leads_received += received
                cards[key].leads_contacted += contacted
                for name, value in figures.items():
                    setattr(cards[key], name, value)
    if not window.is_empty:
        if "follow_ups" in groups:
            _add(cards, _follow_ups(scope, window, now))
        if "activities" in groups:
            _add(cards, _activities(scope, window))
        if "closed" in groups:
            _add(cards, _closed(scope, window))
        if "saved" in groups:
            _add(cards, _saved(scope, window))
    if "neglected" in groups:
        for key, values in _neglected(scope, now).items():
            cards[key].neglected = values["neglected"]
    for card in cards.values():
        if card.value_won == 0:
            card.value_won = Decimal("0.00")
    return cards


def team_lead_totals(scope, period: Period, now: datetime, groups: set[str]) -> dict | None:
    """A team's (or everyone's) lead figures (received, contacted, speed, closed deals, neglected)
    from TeamDay rows and the raw remainder; None when the rollup covers none of its teams."""
    team_ids = scope.team_ids
    if team_ids is None:
        team_ids = set(Team.objects.values_list("id", flat=True))
    speed = ("leads_teamday", "team_id", False, None) if "cohort" in groups else None
    covered, intervals, ranked = _closed_days(_team_model(), "team_id", team_ids, period, now, TEAM_SUMS, speed=speed)
    if not covered:
        return None
    window = Window(period, intervals)
    total = {"leads_received": 0, "leads_contacted": 0}
    if "closed" in groups:
        total.update(deals_won=0, deals_lost=0, value_won=Decimal("0.00"))
    for sums in covered.values():
        total["leads_received"] += sums["received"]
        total["leads_contacted"] += sums["contacted"]
        if "closed" in groups:
            total["deals_won"] += sums["won"]
            total["deals_lost"] += sums["lost"]
            total["value_won"] += sums["value_won"] or 0
    if "cohort" in groups:
        speeds = _speeds("leads_teamday", "team_id", covered, ranked, period, now, window, "team_id", per_key=False)
        received, contacted, figures = speeds.get(None, NO_SPEED)
        total["leads_received"] += received
        total["leads_contacted"] += contacted
        total.update(figures)
    else:
        total.pop("leads_received")
        total.pop("leads_contacted")
    if "closed" in groups and not window.is_empty:
        # Deals closed in the remainder (today): through lead_closed_at.
        raw = _lead_totals(_Scope(team_ids=set(team_ids)), window, now, {"closed"})[None]
        for name, value in raw.items():
            total[name] += value
    if "neglected" in groups:
        total["neglected"] = sum(neglected_counts(now, team_ids=team_ids)[1].values())
    return {None: total}


def _rep_model():
    return RepDay


def _team_model():
    return TeamDay


def team_totals_grouped(period: Period, now: datetime, groups: dict, member_cards: dict) -> dict | None:
    """Several team totals at once (a head of sales' teams, each with its sub-teams), in three
    queries whatever their number: TeamDay coverage, one speed UNION grouped by team, one pass
    over the teams' open leads and remainder closings. `groups` maps a key to its team ids;
    `member_cards` a key to its members' cards (their follow-ups, activities and saves are the
    sums of those, as in team_scorecards). None when the rollup covers none of the teams."""
    team_to_group = {team_id: key for key, team_ids in groups.items() for team_id in team_ids}
    all_teams = set(team_to_group)
    speed = ("leads_teamday", "team_id", False, groups)
    covered, intervals, ranked = _closed_days(_team_model(), "team_id", all_teams, period, now, TEAM_SUMS, speed=speed)
    if not covered:
        return None
    window = Window(period, intervals)
    cards = {key: Scorecard() for key in groups}
    for team_id, sums in covered.items():
        card = cards[team_to_group[team_id]]
        card.leads_received += sums["received"]
        card.leads_contacted += sums["contacted"]
        card.deals_won += sums["won"]
        card.deals_lost += sums["lost"]
        card.value_won += sums["value_won"] or 0
    speeds = _speeds(
        "leads_teamday", "team_id", covered, ranked, period, now, window, "team_id", per_key=False, groups=groups
    )
    for key, (received, contacted, figures) in speeds.items():
        cards[key].leads_received += received
        cards[key].leads_contacted += contacted
        for name, value in figures.items():
            setattr(cards[key], name, value)
    if not window.is_empty:
        # Deals closed in the remainder (today), through lead_closed_at.
        won = Q(stage=Lead.Stage.WON)
        rows = (
            Lead.objects.filter(closed_q(window, key="team_id"))
            .order_by()
            .values("team_id")
            .annotate(
                won=Count("closed_at", filter=won),
                lost=Count("closed_at", filter=Q(stage=Lead.Stage.LOST)),
                value=Coalesce(Sum("value", filter=won), Decimal("0.00")),
            )
        )
        for r in rows:
            card = cards[team_to_group[r["team_id"]]]
            card.deals_won += r["won"]
            card.deals_lost += r["lost"]
            card.value_won += r["value"]
    for team_id, n in neglected_counts(now, team_ids=all_teams)[1].items():
        cards[team_to_group[team_id]].neglected += n
    for key, card in cards.items():
        for member in member_cards.get(key, []):
            card.saved += member.saved
            card.follow_ups_on_time += member.follow_ups_on_time
            card.follow_ups_missed += member.follow_ups_missed
            for kind, n in member.activities_by_kind.items():
                card.activities_by_kind[kind] += n
        card.value_won = Decimal(card.value_won).quantize(Decimal("0.01"))
    return cards
