"""The team dashboard ("My numbers") and the neglected leads report, by role."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accountability.models import User
from accountability.scoping import team_scope, users_visible_to
from leads.bulk_selectors import assignable_owners
from leads.reports.selectors import people_choices
from tests.factories import LeadFactory, MembershipFactory, UserFactory
from tests.leads.factories_metrics import received_lead

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("leads:dashboard")
NEGLECTED = reverse("leads:neglected")


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def rows_by_rep(response):
    return {rep.username: card for rep, card in response.context["rows"]}


# --- Dashboard -----------------------------------------------------------------------------------


def test_rep_sees_my_numbers_about_themselves_only(org, login):
    received_lead(org["alice"], arrived_at=ago(days=2), contacted_after=timedelta(minutes=12))
    received_lead(org["alice"], arrived_at=ago(days=3))
    received_lead(org["bob"], arrived_at=ago(days=1))
    response = login(org["alice"]).get(DASHBOARD)
    assert response.status_code == 200
    assert response.context["my_numbers"] is True
    assert list(rows_by_rep(response)) == ["alice"]
    card = rows_by_rep(response)["alice"]
    assert (card.leads_received, card.leads_contacted) == (2, 1)
    assert "My numbers" in response.content.decode()
    assert "12 min" in response.content.decode()


def test_manager_sees_a_row_per_rep_and_the_team_total(org, login):
    received_lead(org["alice"], arrived_at=ago(days=2), contacted_after=timedelta(minutes=5))
    received_lead(org["bob"], arrived_at=ago(days=2))
    LeadFactory(owner=None, team=org["north"], arrived_at=ago(days=1))  # in the queue
    response = login(org["maria"]).get(DASHBOARD)
    assert response.context["team"] == org["north"]
    rows = rows_by_rep(response)
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"].leads_received == 1 and rows["bob"].leads_received == 1
    assert response.context["total"].leads_received == 3
    body = response.content.decode()
    # Each figure leads to the leads behind it: the neglected count opens the report for that rep.
    assert f"{NEGLECTED}?owner={org['bob'].pk}" in body
    assert f"{NEGLECTED}?team={org['north'].pk}" in body
    # Received opens the leads first assigned to that rep in the period (tests/leads/test_figure_rows.py).
    received = reverse("leads:dashboard-rows", args=["received"])
    not_contacted = reverse("leads:dashboard-rows", args=["not_contacted"])
    assert f"{received}?team={org['north'].pk}&amp;rep={org['bob'].pk}" in body
    assert f"{not_contacted}?team={org['north'].pk}&amp;rep={org['bob'].pk}" in body  # never contacted


def test_received_link_lists_the_leads_behind_the_figure_after_a_reassignment(org, login):
    from leads.services import lead_reassign

    lead = received_lead(org["bob"], arrived_at=ago(days=2))
    lead_reassign(actor=org["maria"], lead=lead, to_owner=org["alice"], reason="Bob is on leave")
    client = login(org["maria"])
    rows = rows_by_rep(client.get(DASHBOARD))
    assert rows["bob"].leads_received == 1 and rows["alice"].leads_received == 0
    lead_list = reverse("leads:lead-list")
    assert client.get(f"{lead_list}?received_by={org['bob'].pk}").context["page"].paginator.count == 1
    assert client.get(f"{lead_list}?received_by={org['alice'].pk}").context["page"].paginator.count == 0
    assert client.get(f"{lead_list}?owner={org['alice'].pk}").context["page"].paginator.count == 1


def test_what_the_manager_sees_about_a_rep_is_what_the_rep_sees(org, login):
    received_lead(org["alice"], arrived_at=ago(days=2), contacted_after=timedelta(minutes=7))
    received_lead(org["alice"], arrived_at=ago(days=40), contacted_after=timedelta(minutes=70))
    query = "?period=90"
    mine = rows_by_rep(login(org["alice"]).get(DASHBOARD + query))["alice"]
    hers = rows_by_rep(login(org["maria"]).get(DASHBOARD + query))["alice"]
    assert mine == hers
    assert mine.leads_received == 2
    assert rows_by_rep(login(org["alice"]).get(DASHBOARD + "?period=7"))["alice"].leads_received == 1


def test_rep_and_manager_cut_the_period_in_the_teams_zone_whatever_the_reps_own_zone(org, login):
    org["north"].time_zone = "America/New_York"
    org["north"].save()
    org["alice"].time_zone = "Asia/Tokyo"  # reads the site in Tokyo; her figures are still North's
    org["alice"].save()
    for hour in range(0, 48, 2):  # leads every two hours across the start of "last 7 days"
        received_lead(org["alice"], arrived_at=ago(days=6, hours=hour))
    mine = rows_by_rep(login(org["alice"]).get(DASHBOARD + "?period=7"))["alice"]
    hers = rows_by_rep(login(org["maria"]).get(DASHBOARD + "?period=7"))["alice"]
    assert mine == hers
    assert 0 < mine.leads_received < 24


def test_head_of_sales_defaults_to_the_whole_department(org, login):
    response = login(org["helen"]).get(DASHBOARD)
    assert response.context["team"] == org["sales"]
    assert set(rows_by_rep(response)) == {"alice", "bob", "charlie"}


def test_head_of_sales_sees_each_reps_team_and_a_subtotal_per_team(org, login):
    from leads.metrics import total_scorecard

    for rep, days in ((org["alice"], 1), (org["bob"], 2), (org["charlie"], 3)):
        received_lead(rep, arrived_at=ago(days=days), contacted_after=timedelta(minutes=10 * days))
    response = login(org["helen"]).get(DASHBOARD)
    body = response.content.decode()
    assert response.context["by_team"]
    # Each rep's row names their team, and each team ends with its subtotal, then the department.
    north_at, south_at = body.index("North subtotal"), body.index("South subtotal")
    assert body.index('data-rep="alice"') < body.index('data-rep="bob"') < north_at
    assert north_at < body.index('data-rep="charlie"') < south_at < body.index("Team total")
    assert "<td>North</td>" in body and "<td>South</td>" in body
    period = response.context["period"]
    for team in (org["north"], org["south"]):
        expected = total_scorecard(period=period, team=team)
        at = body.index(f"{team.name} subtotal")
        row = body[body.rindex("<tr", 0, at) : body.index("</tr>", at)]
        received = row.split('data-figure="leads_received"')[1].split("</td>")[0]
        assert expected.leads_received > 0 and f">{expected.leads_received}</a>" in received
        # A subtotal's figures open that team's rows.
        assert f"team={team.pk}" in row
    # A manager of one team (no sub-teams) gets neither the column nor subtotals.
    maria = login(org["maria"]).get(DASHBOARD)
    assert not maria.context["by_team"] and "subtotal" not in maria.content.decode()


def test_manager_gets_404_for_another_managers_team_and_admin_may_pick_any(org, login):
    assert login(org["maria"]).get(DASHBOARD, {"team": org["south"].pk}).status_code == 404
    assert login(org["maria"]).get(DASHBOARD, {"team": "nope"}).status_code == 404
    assert login(org["alice"]).get(DASHBOARD, {"team": org["north"].pk}).status_code == 404
    response = login(org["admin"]).get(DASHBOARD, {"team": org["south"].pk})
    assert set(rows_by_rep(response)) == {"charlie"}


def test_dashboard_is_get_only_and_needs_a_login(org, client, login):
    assert client.get(DASHBOARD).status_code == 302
    assert login(org["maria"]).post(DASHBOARD).status_code == 405


def test_custom_period_and_bad_dates(org, login):
    received_lead(org["alice"], arrived_at=ago(days=10))
    client = login(org["alice"])
    today = timezone.localdate()
    inside = {"period": "custom", "date_from": today - timedelta(days=12), "date_to": today}
    assert rows_by_rep(client.get(DASHBOARD, inside))["alice"].leads_received == 1
    before = {"period": "custom", "date_from": today - timedelta(days=30), "date_to": today - timedelta(days=20)}
    assert rows_by_rep(client.get(DASHBOARD, before))["alice"].leads_received == 0
    reversed_dates = {"period": "custom", "date_from": today, "date_to": today - timedelta(days=3)}
    response = client.get(DASHBOARD, reversed_dates)
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert 'value="2' in response.content.decode()  # the dates the user typed are shown again
    assert client.get(DASHBOARD, {"period": "custom"}).status_code == 200


def test_names_render_as_text(org, login):
    evil = UserFactory(username="evil", first_name="<script>alert(1)</script>")
    MembershipFactory(user=evil, team=org["north"])
    body = login(org["maria"]).get(DASHBOARD).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def _reps(n, team):
    reps = []
    for i in range(n):
        rep = UserFactory(username=f"rep{i}")
        MembershipFactory(user=rep, team=team)
        received_lead(rep, arrived_at=ago(days=1), contacted_after=timedelta(minutes=i + 1))
        reps.append(rep)
    return reps


@pytest.mark.parametrize("n", [5, 50])
def test_dashboard_runs_a_constant_number_of_queries(org, login, django_assert_num_queries, n):
    _reps(n, org["north"])
    client = login(org["maria"])
    # session + user (2), unread notices (1), teams maria manages (ids 1, team tree 1, rows 1),
    # the chosen team's tree (1), its reps (1), 6 aggregates for the rep rows, and one pass
    # over the team's leads for the total (its other figures are sums of the rows), and
    # the expectations banner (1): 2 + 1 + 3 + 1 + 1 + 6 + 1 + 1 = 16 whatever the number of reps.
    # (SQLite: one more per percentile group, for the documented fallback.)
    fallback = 0 if connection.vendor == "postgresql" else 2
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    # +2: what the daily rollup covers, for the rep rows (RepDay) and the total (TeamDay).
    # +1 cold: the rollup's version (leads.metrics.closedcache), and its ranked minutes per side (+2)
    # beside their coverage; the neglected counts of the rows and the total share one query, and
    # the total's closings today are their own (+1). Warm, the closed days come from the cache.
    # +1: the data version of the page's figures cache (leads.reports.pagecache).
    cache.clear()
    with django_assert_num_queries(21 + fallback):
        response = client.get(DASHBOARD)
    assert len(response.context["rows"]) == n + 2  # alice and bob too
    # Repeated at the same data and minute: the figures and written rows come from the page cache
    # (session, user, zone, notices, banner, the teams (3), tree, reps and the data version).
    with django_assert_num_queries(11):
        client.get(DASHBOARD)
    # After a write the figures are computed again, the closed days still from the rollup's cache.
    received_lead(org["alice"], arrived_at=ago(hours=1))
    with django_assert_num_queries(18 + fallback):
        response = client.get(DASHBOARD)
    assert rows_by_rep(response)["alice"].leads_received == 1


# --- Neglected report ----------------------------------------------------------------------------


def neglected_for(owner, hours_ago, **kwargs):
    return LeadFactory(owner=owner, arrived_at=ago(hours=hours_ago), **kwargs)


def listed(response):
    return [row["name"] for row in response.context["page"]]


def test_manager_sees_their_teams_neglected_leads_longest_first(org, login):
    neglected_for(org["alice"], 30, name="Alice 30h")
    neglected_for(org["bob"], 100, name="Bob 100h")
    neglected_for(org["alice"], 2, name="Alice fresh")  # only 2 hours: not neglected yet
    neglected_for(org["charlie"], 200, name="Charlie 200h")  # South: not Maria's
    LeadFactory(
        owner=org["bob"],
        name="Bob overdue",
        stage="contacted",
        arrived_at=ago(days=3),
        first_contacted_at=ago(days=3),
        last_activity_at=ago(days=3),
        next_follow_up_at=ago(hours=50),
    )
    response = login(org["maria"]).get(NEGLECTED)
    assert response.status_code == 200
    assert listed(response) == ["Bob 100h", "Bob overdue", "Alice 30h"]
    body = response.content.decode()
    assert "Never contacted" in body and "Follow-up overdue" in body
    assert "4 d 4 h" in body  # Bob's 100 hours


def test_filters_by_owner_reason_team_and_thresholds(org, login):
    neglected_for(org["alice"], 30, name="Alice 30h")
    neglected_for(org["bob"], 100, name="Bob 100h")
    LeadFactory(owner=None, team=org["north"], arrived_at=ago(hours=40), name="Queued")
    LeadFactory(
        owner=org["alice"],
        name="Alice silent",
        stage="qualified",
        arrived_at=ago(days=30),
        first_contacted_at=ago(days=29),
        last_activity_at=ago(days=10),
    )
    client = login(org["maria"])
    assert listed(client.get(NEGLECTED, {"owner": org["bob"].pk})) == ["Bob 100h"]
    assert listed(client.get(NEGLECTED, {"owner": "queue"})) == ["Queued"]
    assert listed(client.get(NEGLECTED, {"reason": "silent"})) == ["Alice silent"]
    assert listed(client.get(NEGLECTED, {"reason": "silent", "days": 11})) == []
    assert listed(client.get(NEGLECTED, {"reason": "untouched", "hours": 35})) == ["Bob 100h", "Queued"]
    assert len(listed(client.get(NEGLECTED, {"team": org["north"].pk}))) == 4
    helen = login(org["helen"])
    assert len(listed(helen.get(NEGLECTED, {"team": org["sales"].pk}))) == 4  # sub-teams included


def test_bad_filter_values_are_explained(org, login):
    response = login(org["maria"]).get(NEGLECTED, {"hours": "abc", "days": "0"})
    assert response.status_code == 200
    assert response.context["page"] is None
    body = response.content.decode()
    assert "Enter a whole number." in body
    assert "Ensure this value is greater than or equal to 1." in body


def test_scoping_of_the_neglected_report(org, login):
    neglected_for(org["alice"], 30, name="Alice 30h")
    neglected_for(org["bob"], 30, name="Bob 30h")
    maria = login(org["maria"])
    assert maria.get(NEGLECTED, {"owner": org["charlie"].pk}).status_code == 404
    assert maria.get(NEGLECTED, {"team": org["south"].pk}).status_code == 404
    alice = login(org["alice"])
    response = alice.get(NEGLECTED)
    assert listed(response) == ["Alice 30h"]  # a rep sees their own
    assert alice.get(NEGLECTED, {"owner": org["bob"].pk}).status_code == 404
    assert alice.get(NEGLECTED, {"team": org["north"].pk}).status_code == 404
    assert listed(login(org["sam"]).get(NEGLECTED)) == []
    assert len(listed(login(org["admin"]).get(NEGLECTED))) == 2


def test_neglected_is_get_only_and_escapes_names(org, client, login):
    assert client.get(NEGLECTED).status_code == 302
    assert login(org["maria"]).post(NEGLECTED).status_code == 405
    neglected_for(org["alice"], 30, name="<script>x()</script>")
    body = login(org["maria"]).get(NEGLECTED).content.decode()
    assert "<script>x()</script>" not in body and "&lt;script&gt;x()&lt;/script&gt;" in body


@pytest.mark.parametrize("n", [5, 50])
def test_neglected_runs_a_constant_number_of_queries(org, login, django_assert_num_queries, n):
    for i in range(n):
        neglected_for(org["alice"] if i % 2 else org["bob"], 30 + i)
    client = login(org["maria"])
    # session + user (2), the user's time zone (1, UserTimeZoneMiddleware: they have none of
    # their own), unread notices (1), the expectations banner (1): every page's.
    # The report's: every team with the user's managed and member teams (1), the people of the
    # owner filter and of the action bar's "Give them to" (1), the leads' data version (1: the
    # page cache, tests/leads/test_neglected_cache.py) and the page of leads with the count of
    # all (1).
    with django_assert_num_queries(9):
        response = client.get(NEGLECTED)
    assert len(listed(response)) == n


def test_neglected_pages_like_django_paginator(org, login, django_assert_num_queries):
    for i in range(53):
        neglected_for(org["alice"], 30 + i, name=f"Lead {i:02d}")
    client = login(org["maria"])
    first = client.get(NEGLECTED)
    assert listed(first)[:2] == ["Lead 52", "Lead 51"] and len(listed(first)) == 50
    assert "53 neglected leads" in first.content.decode()
    second = client.get(NEGLECTED, {"page": 2})
    assert listed(second) == ["Lead 02", "Lead 01", "Lead 00"]
    assert "Page 2 of 2" in second.content.decode()
    # Not a number: the first page; past the last or below the first: the last (Paginator.get_page).
    assert listed(client.get(NEGLECTED, {"page": "abc"})) == listed(first)
    for stale in ("3", "99", "0", "-1"):
        response = client.get(NEGLECTED, {"page": stale})
        assert listed(response) == listed(second), stale
        assert response.context["page"].number == 2 and "53 neglected leads" in response.content.decode()
    # A page past the end: 9 as every page (test_neglected_runs_a_constant_number_of_queries),
    # then the count and the last page.
    with django_assert_num_queries(11):
        client.get(NEGLECTED, {"page": 5})


def test_nothing_neglected_is_one_empty_page(org, login):
    for page in ("", "1", "2", "x"):
        response = login(org["maria"]).get(NEGLECTED, {"page": page} if page else {})
        assert response.context["page"].number == 1 and listed(response) == []
        body = response.content.decode()
        assert "0 neglected leads" in body and 'data-testid="neglected-empty"' in body


@pytest.mark.parametrize("persona", ["alice", "maria", "helen", "sam", "admin"])
def test_owner_filter_and_give_to_choices_are_the_selectors_choices(org, persona):
    """One query gives the owner filter (users_visible_to) and the action bar's "Give them to"
    (assignable_owners), each in its own order."""
    MembershipFactory(user=UserFactory(username="gone", first_name="Ann", last_name="Lee", is_active=False),
                      team=org["north"])  # fmt: skip
    # The same name twice: users_visible_to breaks the tie by username, assignable_owners by id.
    MembershipFactory(user=UserFactory(username="zed", first_name="Ann", last_name="Lee"), team=org["north"])
    MembershipFactory(user=UserFactory(username="abe", first_name="Ann", last_name="Lee"), team=org["north"])
    MembershipFactory(user=UserFactory(username="far", first_name="Far"), team=org["south"])
    UserFactory(username="loner", first_name="Lone")  # on no team
    user = User.objects.get(pk=org[persona].pk)
    owners_wanted = persona != "alice"
    owners, give_to = people_choices(user, team_scope(user), owners=owners_wanted)
    expected_owners = users_visible_to(user).order_by("first_name", "last_name", "username")
    assert owners == ([(u.pk, str(u)) for u in expected_owners] if owners_wanted else [])
    assert give_to == [(u.pk, str(u)) for u in assignable_owners(user)]
    if persona == "maria":
        assert [name for _pk, name in give_to].count("Ann Lee") == 2  # not the inactive one
        assert [name for _pk, name in owners].count("Ann Lee") == 3


def test_owner_filter_and_give_to_options_keep_the_choice(org, login):
    body = login(org["maria"]).get(NEGLECTED, {"owner": org["bob"].pk, "team": org["north"].pk}).content.decode()
    assert f'<option value="{org["bob"].pk}" selected>{org["bob"]}</option>' in body
    assert f'<option value="{org["north"].pk}" selected>North</option>' in body
    assert '<option value="" selected>Choose…</option>' in body  # "Give them to": nobody chosen yet
    assert f'<option value="{org["alice"].pk}">{org["alice"]}</option>' in body
