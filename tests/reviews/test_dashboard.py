"""The review dashboard and the rep page: scoping per role, figures, sorting, constant queries."""

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from leads.metrics import Period, rep_scorecards
from leads.rollup import rollup_build
from reviews.models import ActionItem
from tests.factories import ActivityFactory, MembershipFactory, UserFactory
from tests.leads.factories_metrics import received_lead

DASHBOARD = "reviews:dashboard"


def _history(rep, days=20):
    now = timezone.now()
    for i in range(days):
        lead = received_lead(rep, arrived_at=now - timedelta(days=i, hours=1), contacted_after=timedelta(minutes=5 + i))
        ActivityFactory(lead=lead, actor=rep, kind="email", occurred_at=now - timedelta(days=i, minutes=30))


# --- Scoping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("maria", 200), ("sam", 200), ("helen", 200), ("admin", 200), ("alice", 302)]
)
def test_who_opens_the_review_dashboard(org, login, who, status):
    response = login(org[who]).get(reverse(DASHBOARD))
    assert response.status_code == status
    if status == 302:  # a rep has one row: their own page
        assert response["Location"] == reverse("reviews:rep-page", args=[org["alice"].pk])


def test_manager_sees_only_their_teams_reps(org, login):
    response = login(org["maria"]).get(reverse(DASHBOARD))
    reps = {row.rep.username for row in response.context["rows"]}
    assert reps == {"alice", "bob"}
    assert b'data-rep="charlie"' not in response.content


def test_manager_cannot_open_another_team(org, login):
    assert login(org["maria"]).get(reverse(DASHBOARD), {"team": org["south"].pk}).status_code == 404
    assert login(org["maria"]).get(reverse(DASHBOARD), {"team": "x"}).status_code == 404


def test_head_of_sales_sees_the_department_with_one_row_per_team(org, login):
    response = login(org["helen"]).get(reverse(DASHBOARD))
    assert response.context["team"] == org["sales"]
    assert {row.rep.username for row in response.context["rows"]} == {"alice", "bob", "charlie"}
    assert [t.label for t in response.context["dashboard"].team_rows] == ["North", "South"]
    assert b'data-testid="team-total"' in response.content
    # ...and each team on its own.
    response = login(org["helen"]).get(reverse(DASHBOARD), {"team": org["south"].pk})
    assert {row.rep.username for row in response.context["rows"]} == {"charlie"}


@pytest.mark.parametrize(
    ("who", "whose", "status"),
    [
        ("alice", "alice", 200),
        ("alice", "bob", 404),
        ("alice", "charlie", 404),
        ("maria", "alice", 200),
        ("maria", "charlie", 404),
        ("sam", "alice", 404),
        ("helen", "charlie", 200),
        ("admin", "bob", 200),
        ("charlie", "alice", 404),
    ],
)
def test_rep_page_scoping(org, login, who, whose, status):
    assert login(org[who]).get(reverse("reviews:rep-page", args=[org[whose].pk])).status_code == status


def test_rep_page_of_nobody_is_404(org, login):
    assert login(org["admin"]).get(reverse("reviews:rep-page", args=[99999])).status_code == 404


@pytest.mark.parametrize("name", [DASHBOARD, "reviews:rep-page"])
def test_pages_are_get_only_and_need_login(org, client, login, name):
    url = reverse(name, args=[org["alice"].pk] if name.endswith("rep-page") else [])
    assert client.get(url).status_code == 302  # to the login page
    assert login(org["admin"]).post(url).status_code == 405


def test_rep_sees_exactly_what_their_manager_sees(org, login):
    _history(org["alice"], days=5)
    url = reverse("reviews:rep-page", args=[org["alice"].pk])
    own = login(org["alice"]).get(url).context
    managers = login(org["maria"]).get(url).context
    assert own["row"].card == managers["row"].card
    assert [c.value for c in own["row"].figures] == [c.value for c in managers["row"].figures]


# --- Figures ---------------------------------------------------------------------------------


def test_dashboard_figures_equal_the_leads_dashboards(org, login):
    _history(org["alice"], days=12)
    rollup_build(start=date.today() - timedelta(days=40), end=date.today())
    response = login(org["maria"]).get(reverse(DASHBOARD), {"period": "30"})
    row = next(r for r in response.context["rows"] if r.rep == org["alice"])
    leads = login(org["maria"]).get(reverse("leads:dashboard"), {"period": "30", "team": org["north"].pk})
    card = {rep.pk: c for rep, c in leads.context["rows"]}[org["alice"].pk]
    assert row.card == card
    assert row.card.leads_received == 12
    period = Period.last_days(30, tz="UTC")
    assert row.card == rep_scorecards(period=period, users=[org["alice"]])[org["alice"].pk]
    # The trend reads the rollup: 12 leads over the last weeks (today's are not rolled up yet).
    received = [s.leads_received for s in row.series]
    assert sum(received) == 11 and len(received) == 8


def test_every_figure_links_to_its_rows(org, login):
    _history(org["alice"], days=2)
    response = login(org["maria"]).get(reverse(DASHBOARD))
    row = next(r for r in response.context["rows"] if r.rep == org["alice"])
    received = next(c for c in row.cells if c.metric == "leads_received")
    assert f"received_by={org['alice'].pk}" in received.href and "arrived_from=" in received.href
    assert login(org["maria"]).get(received.href).status_code == 200
    assert reverse("reviews:rep-page", args=[org["alice"].pk]).encode() in response.content


def test_sort_by_any_column(org, login):
    _history(org["bob"], days=3)
    _history(org["alice"], days=1)
    client = login(org["maria"])
    rows = client.get(reverse(DASHBOARD), {"sort": "-kpi:leads_received"}).context["rows"]
    assert [r.rep.username for r in rows] == ["bob", "alice"]
    rows = client.get(reverse(DASHBOARD), {"sort": "kpi:leads_received"}).context["rows"]
    assert [r.rep.username for r in rows] == ["alice", "bob"]
    rows = client.get(reverse(DASHBOARD), {"sort": "-name"}).context["rows"]
    assert [r.rep.username for r in rows] == ["bob", "alice"]
    assert client.get(reverse(DASHBOARD), {"sort": "nonsense"}).status_code == 200


def test_bad_period_says_so_and_shows_30_days(org, login):
    response = login(org["maria"]).get(reverse(DASHBOARD), {"period": "custom", "date_from": "2026-02-01"})
    assert response.status_code == 200
    assert b"Pick both dates" in response.content


# --- Queries ---------------------------------------------------------------------------------


def _action_item(org):
    ActionItem.objects.create(
        text="Call back", rep=org["alice"], team=org["north"], owner=org["alice"], due_date=date.today(),
        created_by=org["maria"],
    )  # fmt: skip


def _big_team(org, n):
    for i in range(n):
        rep = UserFactory(username=f"big{i}")
        MembershipFactory(user=rep, team=org["north"])
        _history(rep, days=2)


@pytest.mark.parametrize(("reps", "trend"), [(3, "weeks"), (30, "months")])
def test_dashboard_queries_do_not_grow_with_reps_or_weeks(org, login, django_assert_num_queries, reps, trend):
    _big_team(org, reps)
    rollup_build(start=date.today() - timedelta(days=200), end=date.today())
    client = login(org["maria"])
    # The page's shell (session, user, time zone, banner, unread notices, the user's teams: 7),
    # the team tree and its reps (2), team_scorecards through the rollup (10), expectations status
    # (1: nothing published), trends from the rollup (2: sums and percentiles), goals at risk,
    # commitments, open escalations, SLA counts (4), open flags (1), sub-teams (1), and the
    # KPI columns (1), and one each for open and overdue action items, last and next 1:1 and last
    # recognition (5): 34, whatever the number of reps and of weeks.
    # Cold: +1 for the rollup's version (leads.metrics.closedcache) and +1 for the rollup's
    # ranked minutes beside its coverage, per side. Warm: the closed days and trends come from the cache.
    # A team without sub-teams no longer looks them up (-1).
    # Action items open and overdue, last and next 1:1: one query each pair (-2).
    # +1: the data version of the team's cached figures (leads.metrics.pagecache). Warm, the
    # figures come from that cache, the same entry as the team dashboard's.
    # Warm: the whole row set comes from its cache too (reviews.dashboard.cached_dashboard): the
    # shell and the user's teams (7), the team's reps (1), the data version (1) and the banner's
    # versions (1) of the 35; the rows' tables' counters are one cache read, the team's sub-teams
    # come from the user's teams (no second tree query).
    # -1: the chosen team's sub-teams come from the user's teams, not a second tree query.
    cache.clear()
    with django_assert_num_queries(34):
        response = client.get(reverse(DASHBOARD), {"trend": trend})
    assert len(response.context["rows"]) == reps + 2
    with django_assert_num_queries(10):
        client.get(reverse(DASHBOARD), {"trend": trend})
    # After a write to one of the rows' tables, the rows are read again (+9: expectations, goals,
    # commitments, escalations, SLA counts, flags, action items, 1:1s, recognition), the team's
    # figures and the trends still from their caches.
    _action_item(org)
    with django_assert_num_queries(19):
        client.get(reverse(DASHBOARD), {"trend": trend})


@pytest.mark.parametrize(("reps", "trend"), [(3, "weeks"), (30, "months")])
def test_head_of_sales_view_queries_do_not_grow(org, login, django_assert_num_queries, reps, trend):
    _big_team(org, reps)
    rollup_build(start=date.today() - timedelta(days=200), end=date.today())
    client = login(org["helen"])
    # As a manager's page, plus one row per team through the rollup: the sub-teams, their tree and
    # members (3), TeamDay coverage, the grouped speed UNION, one pass over the teams' leads (3).
    # The sub-teams' trees and members: the department's teams and memberships (2 queries, not a
    # tree query per sub-team).
    # +1 the data version of the cached figures (leads.metrics.pagecache); warm, they come from it.
    # -1: the chosen team's sub-teams come from the user's teams, not a second tree query.
    cache.clear()
    with django_assert_num_queries(41):
        response = client.get(reverse(DASHBOARD), {"trend": trend})
    assert len(response.context["rows"]) == reps + 3
    # Warm: the rows from their cache (as the manager's page), plus the sub-teams' trees and
    # members (2) that key them.
    with django_assert_num_queries(12):
        client.get(reverse(DASHBOARD), {"trend": trend})
    _action_item(org)
    with django_assert_num_queries(21):
        client.get(reverse(DASHBOARD), {"trend": trend})
    assert [t.label for t in response.context["dashboard"].team_rows] == ["North", "South"]


@pytest.mark.parametrize(("days", "trend"), [(2, "weeks"), (60, "months")])
def test_rep_page_queries_do_not_grow_with_weeks(org, login, django_assert_num_queries, days, trend):
    _history(org["alice"], days=days)
    rollup_build(start=date.today() - timedelta(days=200), end=date.today())
    client = login(org["alice"])
    client.get(reverse("reviews:rep-page", args=[org["alice"].pk]))  # warm the session
    # The shell (session, user, zones, banner, notices: 6), the rep (1), their figures through the
    # rollup (7), expectations (1), trends (2), goals at risk, commitments, escalations, SLA counts,
    # open flags (5), the page's goals and flags (2), more shell and zone lookups, and the action
    # items, 1:1 and recognition columns (5): 32, for a week's trend or six months'.
    # Action items open and overdue, last and next 1:1: one query each pair (-2).
    cache.clear()
    with django_assert_num_queries(32):
        response = client.get(reverse("reviews:rep-page", args=[org["alice"].pk]), {"trend": trend})
    assert response.status_code == 200
    with django_assert_num_queries(27):
        client.get(reverse("reviews:rep-page", args=[org["alice"].pk]), {"trend": trend})


def test_kpi_cells_show_the_target_pacing_and_trend(org, login):
    from tests.expectations.factories import published

    published(org["admin"], kpis=2)
    body = login(org["maria"]).get(reverse(DASHBOARD)).content.decode()
    # Each rep's KPI cell: the figure linking to its rows, the target pro-rated to the period with
    # the KPI in words, the pacing as a class and attribute, and the trend's values for the chart.
    cell = body[body.index('data-figure="activities" data-pacing=') :].split("</td>")[0]
    assert 'class="kpi-value"' in cell and "/ " in cell
    assert 'title="Target for this period: Activities logged at least 21, monthly"' in cell
    assert 'data-pacing="behind"' in cell or 'data-pacing="at_risk"' in cell or 'data-pacing="on_track"' in cell
    assert 'class="sparkline d-block"' in cell and 'data-values="' in cell


def test_head_of_sales_view_queries_do_not_grow_with_sub_teams(org, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accountability.models import Team

    client = login(org["helen"])
    counts = []
    for extra in (0, 3):
        for i in range(extra):
            team = Team.objects.create(name=f"Extra {i}", parent=org["sales"], manager=org["maria"])
            MembershipFactory(user=UserFactory(username=f"extra{i}"), team=team)
        # Rolled up, as every night: the sub-teams' rows come from one grouped read (without the
        # rollup, team_totals reads each team raw).
        rollup_build(start=date.today() - timedelta(days=40), end=date.today())
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(DASHBOARD))
        counts.append(len(captured.captured_queries))
        assert len(response.context["dashboard"].team_rows) == 2 + extra
    assert counts[0] == counts[1], counts
