"""Every dashboard figure opens the rows behind it, and the list holds exactly the rows counted.

Each figure is checked against its list for a rep, a team, a team tree and everyone, with rows
outside the period (before, on the end edge, after) and rows of other people around. Then the
page: what each role may open, and its query count at two sizes.

Fixed clock: NOW is 2026-11-25 12:00 UTC; PERIOD is November 2026 in UTC.
"""

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from leads.metrics import FIGURE_ROWS, Period, figure_rows, percentile, rep_scorecards, total_scorecard
from leads.models import Activity, FollowUp, Lead
from tests.factories import ActivityFactory, FollowUpFactory, LeadFactory
from tests.leads.factories_metrics import assign, received_lead

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PERIOD = Period.between(date(2026, 11, 1), date(2026, 11, 30), "UTC")
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
DEC = PERIOD.end  # the first instant after the period
M = timedelta(minutes=1)


def _story(org):
    """Rows of every figure, in and out of the period, for Alice, Bob, Charlie and North's queue."""
    alice, bob, charlie, north = org["alice"], org["bob"], org["charlie"], org["north"]
    for rep, minutes in ((alice, [5, 40, 300]), (bob, [12]), (charlie, [7, 8])):
        for n in minutes:
            received_lead(rep, arrived_at=NOV, contacted_after=n * M)
    received_lead(alice, arrived_at=NOV)  # never contacted
    received_lead(alice, arrived_at=OCT, contacted_after=M)  # before the period
    received_lead(alice, arrived_at=DEC, contacted_after=M)  # on the end edge: after
    LeadFactory(owner=None, team=north, arrived_at=NOV)  # North's queue
    # Reassigned to Bob, who saved it; Alice still received it.
    saved = received_lead(alice, arrived_at=NOV, contacted_after=90 * M, contacted_by=bob)
    Lead.objects.filter(pk=saved.pk).update(owner=bob)
    assign(saved, bob, from_owner=alice, at=NOV + 30 * M)
    received_lead(alice, arrived_at=OCT, contacted_after=timedelta(days=60), contacted_by=bob)  # saved after
    # Closed deals, in and out of the period.
    for owner, stage, closed_at, value in (
        (alice, "won", NOV, 1000),
        (alice, "won", NOV + timedelta(days=2), 250),
        (alice, "lost", NOV, 9),
        (alice, "won", OCT, 7),
        (alice, "won", DEC, 11),
        (bob, "lost", NOV, 5),
        (charlie, "won", NOV, 3),
    ):
        LeadFactory(owner=owner, stage=stage, closed_at=closed_at, value=value, arrived_at=OCT, lost_reason="x")
    # Follow-ups: kept, late, open past due, not yet due, cancelled, outside the period.
    due = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    for owner, due_at, state, done_at in (
        (alice, due, "done", due - M),
        (alice, due, "done", due + M),
        (alice, due, "open", None),
        (alice, NOW + timedelta(days=2), "open", None),
        (alice, due, "cancelled", None),
        (alice, OCT, "done", OCT),
        (alice, DEC, "done", DEC),
        (bob, due, "done", due),
        (charlie, due, "open", None),
    ):
        lead = LeadFactory(owner=owner, arrived_at=OCT)
        FollowUpFactory(lead=lead, owner=owner, due_at=due_at, state=state, done_at=done_at)
    # Activities of each kind, a correction, a system entry, and some outside the period.
    lead = LeadFactory(owner=alice, arrived_at=OCT)
    for actor, kind, at in (
        (alice, "email", NOV),
        (alice, "meeting", NOV),
        (alice, "sms", NOV),
        (alice, "note", NOV),
        (alice, "email", OCT),
        (alice, "sms", DEC),
        (bob, "meeting", NOV),
        (charlie, "note", NOV),
    ):
        ActivityFactory(lead=lead, actor=actor, kind=kind, occurred_at=at)
    first = ActivityFactory(lead=lead, actor=alice, kind="call", occurred_at=NOV)
    ActivityFactory(lead=lead, actor=alice, kind="call", occurred_at=NOV, corrects=first)
    ActivityFactory(lead=lead, actor=None, kind="reminder", occurred_at=NOV)


def _rows(figure, **scope):
    return figure_rows(figure, period=PERIOD, now=NOW, **scope)


def _assert_figures_match_rows(card, **scope):
    """Every figure of `card` equals what its list holds."""
    assert _rows("received", **scope).count() == card.leads_received
    assert _rows("contacted", **scope).count() == card.leads_contacted
    assert _rows("not_contacted", **scope).count() == card.never_contacted
    minutes = [row.minutes_to_first_contact for row in _rows("speed_to_lead", **scope)]
    assert len(minutes) == card.leads_contacted
    assert minutes == sorted(minutes, reverse=True)  # slowest first
    ascending = sorted(minutes)
    for value, fraction in ((card.speed_to_lead_median, 0.5), (card.speed_to_lead_p90, 0.9)):
        expected = percentile(ascending, fraction)
        assert value == (None if expected is None else Decimal(str(expected)).quantize(Decimal("0.1")))
    follow_ups = list(_rows("follow_ups", **scope))
    assert len(follow_ups) == card.follow_ups_decided
    assert sum(f.kept for f in follow_ups) == card.follow_ups_on_time
    assert all(f.kept == bool(f.on_time) for f in follow_ups)
    for kind, n in card.activities_by_kind.items():
        assert _rows(kind, **scope).count() == n, kind
    won = list(_rows("won", **scope))
    assert len(won) == card.deals_won
    assert sum((lead.value for lead in won), Decimal("0.00")) == card.value_won
    closed = list(_rows("closed", **scope))
    assert len(closed) == card.deals_closed
    assert sum(lead.stage == "won" for lead in closed) == card.deals_won
    assert _rows("saved", **scope).count() == card.saved


def test_every_figure_of_a_rep_is_the_number_of_its_rows(org):
    _story(org)
    cards = rep_scorecards(period=PERIOD, users=[org["alice"], org["bob"], org["charlie"]], now=NOW)
    alice = cards[org["alice"].pk]
    # The story gives every figure something to count (and something outside to leave out).
    assert (alice.leads_received, alice.leads_contacted, alice.never_contacted) == (5, 4, 1)
    assert (alice.follow_ups_on_time, alice.follow_ups_missed) == (1, 2)
    # Her three first contacts are calls (received_lead logs them), plus one call corrected once.
    assert alice.activities_by_kind == {"call": 4, "email": 1, "meeting": 1, "sms": 1, "note": 1}
    assert (alice.deals_won, alice.deals_lost, alice.value_won) == (2, 1, Decimal("1250.00"))
    assert cards[org["bob"].pk].saved == 1
    for user in (org["alice"], org["bob"], org["charlie"]):
        _assert_figures_match_rows(cards[user.pk], user=user)


@pytest.mark.parametrize("team_name", ["north", "south", "sales", None])
def test_every_figure_of_a_team_and_of_everyone_is_the_number_of_its_rows(org, team_name):
    _story(org)
    team_ids = {
        "north": {org["north"].pk},
        "south": {org["south"].pk},
        "sales": {org["sales"].pk, org["north"].pk, org["south"].pk},
        None: None,
    }[team_name]
    total = total_scorecard(period=PERIOD, team_ids=team_ids, now=NOW)
    if team_name == "north":
        assert total.leads_received == 7  # Alice's 5 (the reassigned one once), Bob's 1, the queue's 1
    _assert_figures_match_rows(total, team_ids=team_ids)


def test_every_figure_has_rows_and_an_unknown_one_is_refused(org):
    assert set(FIGURE_ROWS) >= {"received", "contacted", "speed_to_lead", "follow_ups", "won", "closed", "saved"}
    with pytest.raises(ValueError):
        figure_rows("nonsense", period=PERIOD)
    with pytest.raises(ValueError):
        figure_rows("received", period=PERIOD, user=org["alice"], team_ids={org["north"].pk})


# --- The page behind each figure ------------------------------------------------------------------

NOVEMBER = "period=custom&date_from=2026-11-01&date_to=2026-11-30"
DASHBOARD = reverse("leads:dashboard")
FIGURE_OF_CELL = {
    "leads_received": lambda c: c.leads_received,
    "leads_contacted": lambda c: c.leads_contacted,
    "speed_to_lead_median": lambda c: c.leads_contacted,  # the rows the percentile is taken over
    "speed_to_lead_p90": lambda c: c.leads_contacted,
    "follow_up_compliance": lambda c: c.follow_ups_decided,
    "calls": lambda c: c.activities_by_kind["call"],
    "emails": lambda c: c.activities_by_kind["email"],
    "meetings": lambda c: c.activities_by_kind["meeting"],
    "sms": lambda c: c.activities_by_kind["sms"],
    "notes": lambda c: c.activities_by_kind["note"],
    "conversion_rate": lambda c: c.deals_closed,
    "deals_won": lambda c: c.deals_won,
    "value_won": lambda c: c.deals_won,
    "saved": lambda c: c.saved,
}


def _links(body: str) -> dict[tuple[str, str], str]:
    """{(row, figure): href} of the dashboard's figure cells (row: a rep's username or 'total')."""
    links = {}
    for row in re.findall(r"<tr data-testid=\"scorecard-row\".*?</tr>", body, re.S):
        rep = re.search(r'data-rep="([^"]+)"', row)
        cells = re.findall(r'<td data-figure="(\w+)"[^>]*><a href="([^"]+)"', row)
        # speed to lead: the business figure and its wall-clock twin share a cell, each a link
        cells += re.findall(r'<span data-figure="(\w+)"[^>]*>(?:/ )?<a[^>]* href="([^"]+)"', row)
        for figure, href in cells:
            links[(rep.group(1) if rep else "total", figure)] = html.unescape(href)
    return links


@pytest.mark.parametrize("viewer", ["maria", "helen", "admin"])
def test_each_figure_on_the_team_dashboard_opens_exactly_its_rows(org, login, viewer):
    _story(org)
    client = login(org[viewer])
    team = org["sales"] if viewer != "maria" else org["north"]
    response = client.get(f"{DASHBOARD}?team={team.pk}&{NOVEMBER}")
    cards = {rep.username: card for rep, card in response.context["rows"]}
    cards["total"] = response.context["total"]
    links = _links(response.content.decode())
    assert {figure for _row, figure in links} == {*FIGURE_OF_CELL, "neglected"}
    for (row, figure), href in links.items():
        if figure == "neglected":
            continue
        page = client.get(href)
        assert page.status_code == 200, href
        assert page.context["summary"]["count"] == FIGURE_OF_CELL[figure](cards[row]), (row, figure)
        assert page.context["page"].paginator.count == FIGURE_OF_CELL[figure](cards[row])
        if figure == "value_won":
            assert page.context["summary"]["value"] == cards[row].value_won
        if figure == "follow_up_compliance":
            assert page.context["summary"]["kept"] == cards[row].follow_ups_on_time
    # The "not contacted" link of Alice's row too.
    alice_rep = f"rep={org['alice'].pk}"
    hrefs = re.findall(r'href="([^"]*/not_contacted/[^"]*)"', response.content.decode())
    not_contacted = next(html.unescape(h) for h in hrefs if h.endswith(alice_rep))
    page = client.get(not_contacted)
    assert page.context["summary"]["count"] == cards["alice"].never_contacted == 1


def test_a_rep_opens_the_rows_of_their_own_figures_only(org, login):
    _story(org)
    client = login(org["alice"])
    response = client.get(f"{DASHBOARD}?{NOVEMBER}")
    card = response.context["rows"][0][1]
    links = _links(response.content.decode())
    assert {row for row, _figure in links} == {"alice"}
    page = client.get(links[("alice", "leads_received")])
    assert page.status_code == 200 and page.context["summary"]["count"] == card.leads_received == 5
    rows_url = reverse("leads:dashboard-rows", args=["won"])
    assert client.get(f"{rows_url}?{NOVEMBER}").context["summary"]["count"] == 2  # no rep given: their own
    assert client.get(f"{rows_url}?rep={org['bob'].pk}&{NOVEMBER}").status_code == 404
    assert client.get(f"{rows_url}?team={org['north'].pk}&{NOVEMBER}").status_code == 404
    assert client.get(f"{rows_url}?rep=abc").status_code == 404


@pytest.mark.parametrize(
    ("viewer", "param", "who", "status"),
    [
        ("maria", "rep", "alice", 200),
        ("maria", "team", "north", 200),
        ("maria", "rep", "charlie", 404),
        ("maria", "team", "south", 404),
        ("maria", "team", "sales", 404),
        ("sam", "rep", "alice", 404),
        ("helen", "rep", "charlie", 200),
        ("helen", "team", "sales", 200),
        ("admin", "team", "south", 200),
        ("admin", "rep", "bob", 200),
        ("charlie", "rep", "alice", 404),
    ],
)
def test_who_may_open_which_rows(org, login, viewer, param, who, status):
    url = reverse("leads:dashboard-rows", args=["received"])
    assert login(org[viewer]).get(f"{url}?{param}={org[who].pk}").status_code == status


def test_the_rows_page_is_get_only_and_knows_its_figures(org, login):
    client = login(org["maria"])
    assert client.post(reverse("leads:dashboard-rows", args=["received"])).status_code == 405
    assert client.get(reverse("leads:dashboard-rows", args=["nonsense"])).status_code == 404


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("figure", ["speed_to_lead", "follow_ups", "call", "closed"])
def test_the_rows_page_runs_a_constant_number_of_queries(org, login, django_assert_num_queries, n, figure):
    alice = org["alice"]
    for i in range(n):
        lead = received_lead(alice, arrived_at=NOV, contacted_after=(i + 1) * M, stage="won", closed_at=NOV)
        FollowUpFactory(lead=lead, owner=alice, due_at=NOV, state=FollowUp.State.DONE, done_at=NOV)
        ActivityFactory(lead=lead, actor=alice, kind=Activity.Kind.CALL, occurred_at=NOV)
    client = login(org["maria"])
    url = f"{reverse('leads:dashboard-rows', args=[figure])}?team={org['north'].pk}&{NOVEMBER}"
    # The page's frame (session, user, the user's zone, unread notices, unread expectations: 5),
    # the teams the viewer manages and the team tree (2), the team (1), the team tree for its
    # sub-teams (1), the summary aggregate (1), the page of rows (1): 11. Follow-ups and
    # activities of a team are its members': one more query for them.
    with django_assert_num_queries(12 if figure in ("follow_ups", "call") else 11):
        response = client.get(url)
    assert response.context["summary"]["count"] == (2 * n if figure == "call" else n)


def test_the_rows_are_cut_in_the_teams_zone_like_the_figure(org, login):
    """A Tokyo team read from New York: a lead that arrived at 01:00 on 1 November in Tokyo
    (31 October in New York) is in November's figure and in its rows."""
    north = org["north"]
    north.time_zone = "Asia/Tokyo"
    north.save(update_fields=["time_zone"])
    org["maria"].time_zone = "America/New_York"
    org["maria"].save(update_fields=["time_zone"])
    received_lead(org["alice"], arrived_at=datetime(2026, 10, 31, 16, 0, tzinfo=UTC), contacted_after=3 * M)
    received_lead(org["alice"], arrived_at=datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 1 Dec in Tokyo: out
    client = login(org["maria"])
    response = client.get(f"{DASHBOARD}?team={north.pk}&{NOVEMBER}")
    card = {rep.username: c for rep, c in response.context["rows"]}["alice"]
    assert card.leads_received == 1
    for (row, figure), href in _links(response.content.decode()).items():
        if row == "alice" and figure in ("leads_received", "leads_contacted", "speed_to_lead_p90"):
            assert client.get(href).context["summary"]["count"] == 1, figure
