import pytest
from django.core import mail

from accountability.models import Membership, Team, User
from tests.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("persona", "heading"), [("alice", "Good day, Alice"), ("maria", "Your team"), ("admin", "Configuration")]
)
def test_each_role_gets_its_own_home(org, login, persona, heading):
    response = login(org[persona]).get("/")
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_manager_home_lists_only_their_teams(org, login):
    body = login(org["maria"]).get("/").content.decode()
    assert "North" in body and "Alice" in body
    assert "South" not in body and "Charlie" not in body


def test_navigation_depends_on_role(org, login):
    assert "Configure" not in login(org["alice"]).get("/").content.decode()
    assert "Configure" in login(org["admin"]).get("/").content.decode()


def test_login_with_wrong_password_shows_error(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_is_throttled_after_repeated_failures(client, alice):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, alice):
    response = client.post("/accounts/password_reset/", {"email": alice.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": "a-new-long-pass-42", "new_password2": "a-new-long-pass-42"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-pass-42")


def test_logout_is_post_only(org, login):
    client = login(org["alice"])
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302


@pytest.mark.parametrize("url", ["/settings/teams/", "/settings/teams/new/", "/settings/people/"])
@pytest.mark.parametrize("persona", ["alice", "maria"])
def test_configuration_is_for_admins_only(org, login, url, persona):
    assert login(org[persona]).get(url).status_code == 403


def test_admin_creates_a_nested_team_with_members(org, login):
    client = login(org["admin"])
    response = client.post(
        "/settings/teams/new/",
        {
            "name": "Enterprise",
            "parent": org["sales"].pk,
            "manager": org["sam"].pk,
            "time_zone": "Europe/London",
            "members": [org["charlie"].pk, org["bob"].pk],
        },
    )
    assert response.status_code == 302
    team = Team.objects.get(name="Enterprise")
    assert team.parent == org["sales"] and team.manager == org["sam"]
    assert set(team.members.all()) == {org["charlie"], org["bob"]}


def test_team_form_bad_input_keeps_the_input_and_saves_nothing(org, login):
    client = login(org["admin"])
    response = client.post("/settings/teams/new/", {"name": "north", "time_zone": "Nowhere/Land"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "A team with this name already exists." in body
    assert "Select a valid choice" in body
    assert 'value="north"' in body
    assert Team.objects.count() == 3


def test_a_team_cannot_be_moved_under_its_own_sub_team(org, login):
    client = login(org["admin"])
    response = client.post(
        f"/settings/teams/{org['sales'].pk}/",
        {"name": "Sales", "parent": org["north"].pk, "time_zone": "UTC", "manager": org["helen"].pk},
    )
    assert response.status_code == 200
    assert "cannot sit under itself" in response.content.decode()
    org["sales"].refresh_from_db()
    assert org["sales"].parent is None


def test_editing_a_team_replaces_its_members(org, login):
    client = login(org["admin"])
    client.post(
        f"/settings/teams/{org['north'].pk}/",
        {"name": "North", "parent": org["sales"].pk, "time_zone": "UTC", "members": [org["alice"].pk]},
    )
    assert list(Membership.objects.filter(team=org["north"]).values_list("user__username", flat=True)) == ["alice"]


def test_user_names_render_as_text(org, login):
    org["alice"].first_name = "<script>alert(1)</script>"
    org["alice"].save()
    body = login(org["maria"]).get("/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_home_query_count_does_not_grow_with_members(org, login, django_assert_max_num_queries):
    client = login(org["admin"])
    client.get("/")
    # session, user, unread count, teams + prefetched memberships/users, people count
    with django_assert_max_num_queries(8) as small:
        client.get("/")
    for i in range(30):
        Membership.objects.create(user=UserFactory(username=f"extra{i}"), team=org["north"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/")


def test_seed_demo_is_deterministic_and_safe_to_run_twice(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    first = (User.objects.count(), Team.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Team.objects.count(), Membership.objects.count()) == first
    out = capsys.readouterr().out
    assert "helen" in out and "demo-pass-2026" in out
    assert Team.objects.get(name="Inbound East").parent.name == "Sales"
    assert User.objects.filter(role="rep").exclude(password__startswith="!").count() == 8
    ivy = User.objects.get(username="ivy@demo.example")  # invited, her password not set yet
    assert not ivy.has_usable_password() and ivy.invitations.get().is_pending


def _grow_org(org, rows):
    """`rows` more teams under Sales, each with its own manager and one member."""
    for i in range(rows):
        team = TeamFactory(name=f"Team {i}", parent=org["sales"], manager=UserFactory(username=f"m{i}", role="manager"))
        MembershipFactory(team=team, user=UserFactory(username=f"u{i}"))


@pytest.mark.parametrize("rows", [5, 50])
def test_team_list_query_count_is_constant(org, login, django_assert_num_queries, rows):
    _grow_org(org, rows)
    client = login(org["admin"])
    # session, user, the admin's time zone (UserTimeZoneMiddleware), unread count (navbar),
    # teams with parent and manager joined, their memberships with users (one prefetch): 6.
    with django_assert_num_queries(6):
        response = client.get("/settings/teams/")
    assert response.content.decode().count("/settings/teams/") >= rows + 3


def test_password_change_refuses_a_wrong_old_password_and_keeps_the_old_one(alice, login):
    client = login(alice)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "not-it", "new_password1": "a-new-long-pass-42", "new_password2": "a-new-long-pass-42"},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_change_sets_the_new_password(alice, login):
    response = login(alice).post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "a-new-long-pass-42", "new_password2": "a-new-long-pass-42"},
    )
    assert response.status_code == 302 and response.url == "/accounts/password_change/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-pass-42")
