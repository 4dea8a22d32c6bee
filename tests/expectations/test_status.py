import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.expectations import services
from tests.expectations.factories import published
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(body: str, testid: str) -> int:
    return body.count(f'data-testid="{testid}"')


def test_reps_cannot_see_the_status_page(org, login):
    assert login(org["alice"]).get("/expectations/status/").status_code == 403


def test_a_manager_sees_each_person_in_their_teams(org, login):
    v1 = published(org["admin"])
    services.acknowledgement_create(actor=org["alice"], version=v1)
    body = login(org["maria"]).get("/expectations/status/").content.decode()
    assert rows(body, "person-status-row") == 2  # alice, bob (maria herself is not listed)
    assert 'data-user="alice"' in body and 'data-user="bob"' in body and "charlie" not in body
    alice_row = body.split('data-user="alice"')[1].split("</tr>")[0]
    bob_row = body.split('data-user="bob"')[1].split("</tr>")[0]
    assert "Acknowledged" in alice_row and "Outstanding" in bob_row


def test_head_of_sales_sees_sub_team_managers_too(org, login):
    published(org["admin"])
    body = login(org["helen"]).get("/expectations/status/").content.decode()
    for username in ("alice", "bob", "charlie", "maria", "sam"):
        assert f'data-user="{username}"' in body
    assert 'data-user="helen"' not in body


def test_a_manager_gets_404_for_a_team_they_do_not_manage(org, login):
    published(org["admin"])
    assert login(org["maria"]).get(f"/expectations/status/?team={org['south'].pk}").status_code == 404
    assert login(org["maria"]).get("/expectations/status/?team=nonsense").status_code == 404
    assert login(org["maria"]).get(f"/expectations/status/?team={org['north'].pk}").status_code == 200


def test_admin_sees_a_line_per_team_and_can_open_one(org, login):
    v1 = published(org["admin"])
    for persona in ("alice", "maria"):
        services.acknowledgement_create(actor=org[persona], version=v1)
    client = login(org["admin"])
    body = client.get("/expectations/status/").content.decode()
    assert rows(body, "team-status-row") == 3  # North, Sales, South
    north = body.split('data-team="North"')[1].split("</tr>")[0]
    # North: alice, bob and maria (who leads it); alice and maria are done, bob owes one.
    assert "<td>3</td><td>2 of 3</td>" in north and ">1</span>" in north
    body = client.get(f"/expectations/status/?team={org['north'].pk}").content.decode()
    assert rows(body, "person-status-row") == 3


def test_home_panels_show_outstanding_acknowledgements(org, login):
    v1 = published(org["admin"])
    services.acknowledgement_create(actor=org["alice"], version=v1)
    maria = login(org["maria"])
    maria.get("/")  # maria signs too: first she is sent to the document, once
    body = maria.get("/").content.decode()
    assert 'data-testid="manager-expectations-panel"' in body
    assert '<span data-testid="outstanding-acks">1</span> acknowledgement outstanding' in body  # bob
    body = login(org["bob"]).get("/", follow=True).content.decode()
    assert "Please read and acknowledge" in body


def _grow_north(org, n):
    v1 = published(org["admin"])
    for i in range(n):
        rep = UserFactory(username=f"rep{i}", role="rep")
        MembershipFactory(user=rep, team=org["north"])
        if i % 2:
            services.acknowledgement_create(actor=rep, version=v1)
    return v1


@pytest.mark.parametrize("extra", [3, 30])
def test_manager_status_page_query_count_is_constant(org, login, extra, django_assert_num_queries):
    _grow_north(org, extra)
    client = login(org["maria"])
    # 2 session + user, 1 unread notices, 1 expectations banner, 2 managed teams (teams led + tree),
    # 1 team list, 5 status (people, current versions, team tree, memberships, acknowledgements).
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(13):
        response = client.get("/expectations/status/")
    assert response.content.decode().count('data-testid="person-status-row"') == extra + 2


@pytest.mark.parametrize("extra", [3, 30])
def test_admin_status_page_query_count_is_constant(org, login, extra, django_assert_num_queries):
    _grow_north(org, extra)
    client = login(org["admin"])
    # 2 session + user, 1 unread notices (no banner for admins), 1 team list, 5 status queries.
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(10):
        response = client.get("/expectations/status/")
    assert response.status_code == 200


@pytest.mark.parametrize(("teams", "people"), [(1, 0), (8, 30)])
def test_document_list_query_count_is_constant(org, login, teams, people, django_assert_num_queries):
    from tests.factories import TeamFactory

    v1 = published(org["admin"])
    for i in range(teams):
        published(org["admin"], team=TeamFactory(name=f"T{i}"), title=f"T{i} extras")
    for i in range(people):  # more reps under the org document, every third one acknowledged
        rep = UserFactory(username=f"rep{i}", role="rep")
        MembershipFactory(user=rep, team=org["north"])
        if i % 3 == 0:
            services.acknowledgement_create(actor=rep, version=v1)
    client = login(org["admin"])
    # 2 session + user, 1 unread notices, 2 documents + their live versions, 1 teams without a
    # document, 5 acknowledgement progress (versions, people, team tree, memberships, acknowledgements).
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(12):
        response = client.get("/expectations/manage/")
    body = response.content.decode()
    assert body.count('data-testid="document-row"') == teams + 1
    # The org document asks the 3 reps and 3 managers of the personas plus the extra reps (of whom
    # 10 of 30 acknowledged); each team document asks nobody (the teams are empty).
    acknowledged = len(range(0, people, 3))
    assert f"{acknowledged} of {6 + people} acknowledged" in body and body.count("0 of 0 acknowledged") == 0


def _home_queries(client) -> tuple[int, int]:
    """(all queries, queries touching expectations tables) of one home page view. The home page
    also holds other areas' panels, so these tests pin our own share and the page's constancy.
    Each view starts from an empty cache: the leads panel's counts are cached per data version
    and minute, and adding people writes no lead (the two views would differ by that query)."""
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    ours = [q for q in ctx.captured_queries if "expectations_" in q["sql"]]
    return len(ctx.captured_queries), len(ours)


def test_manager_home_panel_adds_a_constant_number_of_queries(org, login):
    v1 = published(org["admin"])
    client = login(org["maria"])
    services.acknowledgement_create(actor=org["maria"], version=v1)
    small = _home_queries(client)
    for i in range(30):
        rep = UserFactory(username=f"rep{i}", role="rep")
        MembershipFactory(user=rep, team=org["north"])
        if i % 2:
            services.acknowledgement_create(actor=rep, version=v1)
    large = _home_queries(client)
    # Ours: the banner (1), and the panel's current versions and acknowledgements (2); the panel
    # also reads the people, the team tree and their memberships (3 more, on accountability tables).
    assert small == large and small[1] == 3
    assert "acknowledgements outstanding in your teams" in client.get("/").content.decode()


@pytest.mark.parametrize(("chain", "kpis"), [(1, 1), (6, 3)])
def test_current_page_query_count(org, login, chain, kpis, django_assert_num_queries):
    from tests.factories import TeamFactory

    published(org["admin"], kpis=kpis)
    published(org["admin"], team=org["north"], title="North extras", summary="N", kpis=kpis)
    parent = org["north"]
    for i in range(chain):  # a chain of sub-teams under north, each with its own document
        parent = TeamFactory(name=f"North {i}", parent=parent)
        published(org["admin"], team=parent, title=f"North {i} extras", summary="N", kpis=kpis)
    MembershipFactory(user=org["alice"], team=parent)  # alice is in the last: every document covers her
    client = login(org["alice"])
    # 2 session + user, 1 unread, 1 banner, 1 member teams, 2 managed teams (led + tree),
    # 1 team tree (visible and covering documents), 2 current versions + their KPIs,
    # 1 alice's acknowledgements: the same 11 for 3 documents of 1 KPI and 8 documents of 3 KPIs.
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(12):
        response = client.get("/expectations/")
    body = response.content.decode()
    assert body.count('data-testid="current-document"') == chain + 2


def test_rep_home_panel_reuses_the_banner_query(org, login):
    from tests.factories import TeamFactory

    published(org["admin"])
    client = login(org["alice"])
    client.get("/")  # the once-per-session redirect
    small = _home_queries(client)
    parent = org["north"]
    for i in range(5):  # a chain of sub-teams, each with its own document; alice is in the last
        parent = TeamFactory(name=f"North {i}", parent=parent)
        published(org["admin"], team=parent, title=f"North {i} extras", summary="N")
    MembershipFactory(user=org["alice"], team=parent)
    client = login(org["alice"])
    client.get("/")
    large = _home_queries(client)
    # One expectations query (the banner's, shared with the redirect check and the rep panel),
    # however many documents are waiting.
    assert small == large and small[1] == 1
    assert "6 documents to read and acknowledge" in client.get("/").content.decode()


@pytest.mark.parametrize("extra", [3, 30])
def test_admin_status_page_for_one_team_query_count_is_constant(org, login, extra, django_assert_num_queries):
    _grow_north(org, extra)
    client = login(org["admin"])
    # 2 session + user, 1 unread notices (no banner for admins), 1 team list, 1 team tree of the
    # chosen team, 5 status queries (people, current versions, team tree, memberships, acknowledgements).
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(11):
        response = client.get(f"/expectations/status/?team={org['north'].pk}")
    # alice, bob, maria (north's manager) and the extra reps
    assert response.content.decode().count('data-testid="person-status-row"') == extra + 3


@pytest.mark.parametrize("versions", [2, 8])
def test_version_page_with_its_history_query_count_is_constant(org, login, versions, django_assert_num_queries):
    for i in range(versions):
        v = published(org["admin"], summary=f"Change {i}.")
    client = login(org["alice"])
    client.get("/")  # the once-per-session redirect
    # 2 session + user, 3 visibility (member teams, teams led, team tree), 1 team tree again (the
    # coverage check), 1 document, 2 version + its KPIs, 1 alice's acknowledgement, 1 unread notices,
    # 1 banner, 1 the history list; the bindings read nothing (no KPI is bound).
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(14):
        response = client.get(f"/expectations/{v.document_id}/v{v.number}/")
    assert response.content.decode().count('<li><a href="/expectations/') == versions
