"""Demo goals and commitments: on track, at risk, behind, met and proposed, for both teams.

Built-in metric goals show whatever the leads demo produced (targets sized for roughly 300
leads over 90 days across 8 reps); manual goals with check-ins guarantee the states the demo
story needs. Dates are relative to ctx.now, so the same day always gives the same data; a
second run finds every goal and commitment by owner and title and creates nothing.
"""

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from accountability.demo import DemoContext
from accountability.expectations.models import Kpi
from goals import metric_source, services
from goals.forms import preset_end
from goals.models import Commitment, Goal
from goals.selectors import week_start

# rep, title, unit, target, wanted share of the expected-by-now figure (None: check in the target: met)
MANUAL_GOALS = [
    ("alice", "Book discovery demos", "demos", 12, Decimal("1.1")),  # on track
    ("bob", "Ask happy customers for referrals", "referrals", 20, Decimal("0.7")),  # at risk
    ("carlos", "Publish two customer case studies", "case studies", 2, None),  # met
    ("erin", "Book discovery demos", "demos", 10, Decimal("1.0")),  # on track
    ("frank", "Run product webinars", "attendees", 60, Decimal("0.5")),  # behind
    ("grace", "Collect written testimonials", "testimonials", 3, None),  # met
]
PROPOSALS = [
    ("dana", "Contact every new lead within an hour", "speed_to_lead_median", 60),
    ("henry", "Close five deals this month", "deals_won", 5),
]
COMMITMENTS = {
    "alice": [("call 30 new leads", True), ("two demos booked", False)],
    "bob": [("follow up every open proposal", False), ("ask three customers for referrals", True)],
    "carlos": [("clean up my stale leads", True)],
    "dana": [("reply to every web form the same hour", False)],
    "erin": [("call 25 new leads", False), ("book one webinar slot", True)],
    "frank": [("invite 40 prospects to the webinar", False)],
    "grace": [("send two testimonial requests", True)],
    "henry": [("send proposals to the two hottest leads", False)],
}


def _fields(title, description, metric, unit, target, reason, start, end, preset=Goal.Preset.CUSTOM, direction=None):
    return {
        "title": title,
        "description": description,
        "metric": metric,
        "unit": unit,
        "target": Decimal(target),
        "direction": direction or ("up" if metric == "manual" else metric_source.metric_direction(metric)),
        "reason": reason,
        "preset": preset,
        "start_date": start,
        "end_date": end,
    }


def _manager_of(ctx: DemoContext, rep: str):
    east = {"alice", "bob", "carlos", "dana"}
    return ctx.users["maria"] if rep in east else ctx.users["sam"]


def seed(ctx: DemoContext) -> None:
    today = ctx.now.date()
    created = 0
    # A 30-day window centred on today, so "expected by now" is about half the target.
    start, end = today - dt.timedelta(days=15), today + dt.timedelta(days=14)
    fraction = Decimal(16) / Decimal(30)  # at the end of today: 16 of 30 days elapsed
    for rep, title, unit, target, share in MANUAL_GOALS:
        owner = ctx.users[rep]
        if Goal.objects.filter(owner=owner, title=title).exists():
            continue
        goal = services.goal_assign(
            actor=_manager_of(ctx, rep),
            owner=owner,
            comment="Agreed in our 1:1.",
            **_fields(
                title,
                f"{title}: {target} {unit} in these 30 days.",
                "manual",
                unit,
                target,
                "Part of this quarter's plan for the team.",
                start,
                end,
            ),
        )
        value = (
            Decimal(target)
            if share is None
            else (Decimal(target) * fraction * share).quantize(Decimal(1), rounding=ROUND_CEILING)
        )
        services.goal_check_in(actor=owner, goal=goal, value=value, comment="Update from my week.")
        created += 1

    # Built-in metric goals for every rep this month, live from the leads demo.
    month_start = today.replace(day=1)
    month_end = preset_end(month_start, Goal.Preset.MONTHLY)
    for rep in ("alice", "bob", "carlos", "dana", "erin", "frank", "grace", "henry"):
        owner = ctx.users[rep]
        title = "Contact new leads"
        if Goal.objects.filter(owner=owner, title=title).exists():
            continue
        goal = services.goal_assign(
            actor=_manager_of(ctx, rep),
            owner=owner,
            **_fields(
                title,
                "Make first contact with at least 10 new leads this month.",
                "leads_contacted",
                "",
                10,
                "Speed to lead is our first KPI.",
                month_start,
                month_end,
                Goal.Preset.MONTHLY,
            ),
        )
        services.goal_snapshots_backfill(goal=goal)
        created += 1

    # Team goals.
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    team_goals = [
        (
            "Inbound East",
            "maria",
            "Win 12 deals this quarter",
            "deals_won",
            12,
            quarter_start,
            preset_end(quarter_start, Goal.Preset.QUARTERLY),
            Goal.Preset.QUARTERLY,
        ),
        ("Inbound West", "sam", "Log 400 calls this month", "calls", 400, month_start, month_end, Goal.Preset.MONTHLY),
    ]
    for team_name, manager, title, metric, target, g_start, g_end, preset in team_goals:
        team = ctx.teams[team_name]
        if Goal.objects.filter(team=team, title=title).exists():
            continue
        goal = services.goal_assign(
            actor=ctx.users[manager],
            team=team,
            **_fields(
                title,
                f"{title}, together.",
                metric,
                "",
                target,
                "The team's share of the sales plan.",
                g_start,
                g_end,
                preset,
            ),
        )
        services.goal_snapshots_backfill(goal=goal)
        created += 1

    # A team goal that serves a KPI of the team's expectations document (when the expectations
    # demo has written one; otherwise it says why in words).
    east = ctx.teams["Inbound East"]
    title = "Log 160 calls this month"
    if not Goal.objects.filter(team=east, title=title).exists():
        kpi = Kpi.objects.filter(version__is_current=True, version__document__team=east, metric="calls").first()
        fields = _fields(
            title,
            "Forty calls a week each, together.",
            "calls",
            "",
            160,
            "" if kpi else "Calls are how our leads get contacted.",
            month_start,
            month_end,
            Goal.Preset.MONTHLY,
        )
        goal = services.goal_assign(actor=ctx.users["maria"], team=east, kpi=kpi, **fields)
        services.goal_snapshots_backfill(goal=goal)
        created += 1

    # Proposals waiting for the manager.
    next_month = month_end + dt.timedelta(days=1)
    for rep, title, metric, target in PROPOSALS:
        owner = ctx.users[rep]
        if Goal.objects.filter(owner=owner, title=title).exists():
            continue
        services.goal_propose(
            actor=owner,
            **_fields(
                title,
                f"{title}.",
                metric,
                "",
                target,
                "I want to grow into a senior role.",
                next_month,
                preset_end(next_month, Goal.Preset.MONTHLY),
                Goal.Preset.MONTHLY,
            ),
        )
        created += 1

    # This week's commitments, some already checked off.
    this_week = week_start(today)
    n_commitments = 0
    for rep, items in COMMITMENTS.items():
        owner = ctx.users[rep]
        for text, done in items:
            if Commitment.objects.filter(owner=owner, week_start=this_week, text=text).exists():
                continue
            commitment = services.commitment_create(actor=owner, text=text, week=this_week)
            if done:
                services.commitment_set_done(actor=owner, commitment=commitment, done=True)
            n_commitments += 1
    ctx.created.append(f"goals: {created} goals, {n_commitments} commitments this week")
