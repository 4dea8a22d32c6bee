"""The people admin without the Django admin (issue 15): invitations by email, the full person
form, filters, reactivation, and a manager setting their reps' time away."""

import datetime as dt
import re

import pytest
from django.core import mail, signing
from django.utils import timezone

from accountability import services
from accountability.models import Invitation, Membership, Team, User
from leads.services import eligible_reps
from tests.accountability.people_forms import person_post_data
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

INVITE_URL = "/settings/people/invite/"


@pytest.fixture
def eager():
    """Run enqueued tasks in place (the invitation email is sent by a task, on commit)."""
    from accountability.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def invite_data(org, **overrides):
    data = {
        "first_name": "Priya",
        "last_name": "Raman",
        "email": "Priya.Raman@Example.com",
        "role": "rep",
        "teams": [org["north"].pk],
        "phone": "+44 20 7946 0958",
        "time_zone": "Europe/London",
        "away_from": "",
        "away_until": "",
    }
    data.update(overrides)
    return data


def link_path(message) -> str:
    """The invitation link in an email, as a path (the host is SITE_URL)."""
    url = re.search(r"https?://\S+/invitation/\S+/", message.body).group(0)
    return "/" + url.split("/", 3)[3]


def can_log_in(client, username, password) -> bool:
    """Through the log-in form (django-axes needs the request)."""
    client.logout()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302


def invite(org, login, django_capture_on_commit_callbacks, **overrides):
    client = login(org["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITE_URL, invite_data(org, **overrides))
    assert response.status_code == 302, response.content.decode()[:3000]
    return User.objects.get(email="priya.raman@example.com")


# --- inviting ------------------------------------------------------------------------------


def test_admin_invites_a_person_who_sets_a_password_and_logs_in(
    org, login, client, eager, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "http://127.0.0.1:8123"
    priya = invite(org, login, django_capture_on_commit_callbacks, manages=[])
    assert priya.username == "priya.raman@example.com" and priya.role == "rep"
    assert priya.phone == "+442079460958" and priya.time_zone == "Europe/London"
    assert list(priya.teams.all()) == [org["north"]]
    assert not priya.has_usable_password()  # cannot log in before setting it
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["priya.raman@example.com"]
    assert "http://127.0.0.1:8123/invitation/" in message.body and "7 days" in message.body
    assert Invitation.objects.get(user=priya).sent_at is not None

    client.logout()
    path = link_path(message)
    page = client.get(path)
    assert page.status_code == 200 and "priya.raman@example.com" in page.content.decode()
    response = client.post(path, {"new_password1": "a-long-new-pass-42", "new_password2": "a-long-new-pass-42"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200  # logged in
    priya.refresh_from_db()
    assert priya.check_password("a-long-new-pass-42")
    # The link works once.
    client.logout()
    again = client.get(path)
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert can_log_in(client, "priya.raman@example.com", "a-long-new-pass-42")


def test_a_weak_password_is_refused_and_the_link_still_works(
    org, login, client, eager, django_capture_on_commit_callbacks
):
    invite(org, login, django_capture_on_commit_callbacks)
    client.logout()
    path = link_path(mail.outbox[0])
    response = client.post(path, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert not User.objects.get(email="priya.raman@example.com").has_usable_password()
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "ALICE@example.com"}, "email", "Someone already has this email address."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"phone": "12"}, "phone", "phone number"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"away_from": "2030-05-10", "away_until": "2030-05-01"}, "away_until", "comes before the first"),
        ({"away_from": "2030-05-10"}, "away_until", "Say until when"),
        ({"away_until": "1066-10-14"}, "away_until", "Pick a date between"),
        ({"role": "rep", "manages": ["NORTH"]}, "manages", "A sales rep manages no team"),
        ({"first_name": ""}, "first_name", "This field is required"),
        ({"role": "boss"}, "role", "Select a valid choice"),
        ({"teams": ["999999"]}, "teams", "Select a valid choice"),
    ],
)
def test_invitation_bad_input_keeps_the_input_and_creates_nobody(
    org, login, eager, django_capture_on_commit_callbacks, overrides, field, message
):
    if overrides.get("manages") == ["NORTH"]:
        overrides = {**overrides, "manages": [org["north"].pk]}
    before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(org["admin"]).post(INVITE_URL, invite_data(org, **overrides))
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert response.context["form"].errors[field]
    assert 'value="Priya"' in body or not overrides.get("first_name", "x")  # the input comes back
    assert User.objects.count() == before and not Invitation.objects.exists() and not mail.outbox


def test_reinviting_sends_a_fresh_link_and_the_old_one_stops(
    org, login, client, eager, django_capture_on_commit_callbacks
):
    priya = invite(org, login, django_capture_on_commit_callbacks)
    old = link_path(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        response = login(org["admin"]).post(f"/settings/people/{priya.pk}/resend/")
    assert response.status_code == 302 and len(mail.outbox) == 2
    new = link_path(mail.outbox[1])
    assert new != old
    client.logout()
    stale = client.get(old)
    assert stale.status_code == 410 and "newer invitation" in stale.content.decode()
    assert client.get(new).status_code == 200


def test_an_expired_link_says_so_and_the_invitee_can_ask_for_a_new_one(
    org, login, client, eager, django_capture_on_commit_callbacks
):
    priya = invite(org, login, django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])
    Invitation.objects.filter(user=priya).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    client.logout()
    page = client.get(path)
    assert page.status_code == 410
    body = page.content.decode()
    assert "expired" in body and "Send me a new link" in body
    response = client.post(path, {"new_password1": "a-long-new-pass-42", "new_password2": "a-long-new-pass-42"})
    assert response.status_code == 410 and not User.objects.get(pk=priya.pk).has_usable_password()
    with django_capture_on_commit_callbacks(execute=True):
        renewed = client.post(path + "renew/")
    assert renewed.status_code == 200 and "new link is on its way" in renewed.content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["priya.raman@example.com"]
    assert client.get(link_path(mail.outbox[1])).status_code == 200


def test_the_signed_token_expires_even_if_the_row_says_otherwise(org, login, client, settings, monkeypatch):
    invitation = services.person_invite(
        actor=org["admin"], first_name="Priya", email="priya@example.com", role="rep", teams=[org["north"]]
    )
    token = services.invitation_token(invitation)
    assert services.invitation_check(token).problem == ""
    real_loads = signing.loads

    def later(value, *args, **kwargs):  # eight days on, as signing sees it
        if kwargs.get("max_age") is not None:
            kwargs["max_age"] = kwargs["max_age"] - dt.timedelta(days=8)
        return real_loads(value, *args, **kwargs)

    monkeypatch.setattr(signing, "loads", later)
    assert services.invitation_check(token).problem == "expired"


def test_a_forged_or_garbled_link_is_not_found_and_offers_nothing(org, client):
    invitation = services.person_invite(actor=org["admin"], first_name="P", email="p@example.com", role="rep")
    forged = signing.dumps({"i": invitation.pk}, salt="something-else")
    for path in [f"/invitation/{forged}/", "/invitation/garbage/", f"/invitation/{forged}/renew/"]:
        response = client.get(path) if not path.endswith("renew/") else client.post(path)
        assert response.status_code in (404, 410)
        assert "Send me a new link" not in response.content.decode()
    assert not User.objects.get(pk=invitation.user_id).has_usable_password()


def test_renewing_is_limited_per_person(org, client, eager, django_capture_on_commit_callbacks):
    invitation = services.person_invite(actor=org["admin"], first_name="P", email="p@example.com", role="rep")
    token = services.invitation_token(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    statuses = []
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            statuses.append(client.post(f"/invitation/{token}/renew/").status_code)
        # Each renewal replaces the invitation: the old link stays renewable ("replaced").
    assert statuses == [200, 200, 200, 429]


def test_a_deactivated_persons_invitation_no_longer_works(org):
    invitation = services.person_invite(actor=org["admin"], first_name="P", email="p@example.com", role="rep")
    User.objects.filter(pk=invitation.user_id).update(is_active=False)
    check = services.invitation_check(services.invitation_token(invitation))
    assert check.problem == "inactive" and not check.renewable


# --- editing ---------------------------------------------------------------------------------


def test_admin_edits_every_field_of_a_person(org, login):
    bob = org["bob"]
    data = person_post_data(
        bob,
        first_name="Robert",
        email="robert@example.com",
        role="manager",
        teams=[org["south"].pk],
        manages=[org["north"].pk],
        phone="+1 415 555 2671",
        time_zone="America/Chicago",
        away_from="2099-01-01",
        away_until="2099-01-10",
    )
    response = login(org["admin"]).post(f"/settings/people/{bob.pk}/", data)
    assert response.status_code == 302
    bob.refresh_from_db()
    assert (bob.first_name, bob.email, bob.role, bob.phone, bob.time_zone) == (
        "Robert", "robert@example.com", "manager", "+14155552671", "America/Chicago",
    )  # fmt: skip
    assert (bob.away_from, bob.away_until) == (dt.date(2099, 1, 1), dt.date(2099, 1, 10))
    assert list(bob.teams.all()) == [org["south"]]
    assert Team.objects.get(pk=org["north"].pk).manager == bob  # maria no longer manages North


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "alice@example.com"}, "Someone already has this email address."),
        ({"phone": "12"}, "phone number"),
        ({"time_zone": "Nowhere/Land"}, "Select a valid choice"),
        ({"away_from": "2030-05-10", "away_until": "2030-05-01"}, "comes before the first"),
    ],
)
def test_edit_bad_input_is_refused_and_nothing_changes(org, login, overrides, message):
    bob = org["bob"]
    data = person_post_data(bob, first_name="Robert", **overrides)
    response = login(org["admin"]).post(f"/settings/people/{bob.pk}/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and 'value="Robert"' in body
    fresh = User.objects.get(pk=bob.pk)
    assert (fresh.first_name, fresh.email, fresh.phone, fresh.time_zone) == (bob.first_name, bob.email, "", "")


def test_admin_cannot_remove_their_own_admin_role(org, login):
    admin = org["admin"]
    response = login(admin).post(f"/settings/people/{admin.pk}/", person_post_data(admin, role="rep"))
    assert response.status_code == 200
    assert "cannot remove your own admin access" in response.content.decode()
    assert User.objects.get(pk=admin.pk).role == "admin"


def test_reactivating_lets_a_person_log_in_again(org, login, client):
    User.objects.filter(pk=org["bob"].pk).update(is_active=False)
    assert not can_log_in(client, "bob", "test-pass-123")
    response = login(org["admin"]).post(f"/settings/people/{org['bob'].pk}/reactivate/")
    assert response.status_code == 302
    assert can_log_in(client, "bob", "test-pass-123")


@pytest.mark.parametrize("persona", ["alice", "maria", "helen"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/settings/people/"),
        ("get", INVITE_URL),
        ("post", INVITE_URL),
        ("get", "/settings/people/{bob}/"),
        ("post", "/settings/people/{bob}/"),
        ("post", "/settings/people/{bob}/resend/"),
        ("post", "/settings/people/{bob}/reactivate/"),
    ],
)
def test_people_admin_is_for_admins_only(org, login, persona, method, url):
    client = login(org[persona])
    response = getattr(client, method)(url.format(bob=org["bob"].pk), {"first_name": "X", "role": "admin"})
    assert response.status_code == 403
    assert User.objects.get(pk=org["bob"].pk).first_name != "X"


def test_admin_pages_for_an_unknown_person_are_404(org, login):
    client = login(org["admin"])
    assert client.get("/settings/people/999999/").status_code == 404
    assert client.post("/settings/people/999999/resend/").status_code == 404


# --- the list --------------------------------------------------------------------------------


def names(response):
    return sorted(p.username for p in response.context["people"])


def test_people_list_filters_by_team_role_and_status(org, login, eager, django_capture_on_commit_callbacks):
    client = login(org["admin"])
    User.objects.filter(pk=org["charlie"].pk).update(is_active=False)
    User.objects.filter(pk=org["bob"].pk).update(away_until=timezone.localdate() + dt.timedelta(days=3))
    services.person_invite(actor=org["admin"], first_name="Priya", email="priya@example.com", role="rep")
    assert names(client.get("/settings/people/", {"team": org["north"].pk})) == ["alice", "bob", "maria"]
    assert names(client.get("/settings/people/", {"role": "manager"})) == ["helen", "maria", "sam"]
    assert names(client.get("/settings/people/", {"status": "inactive"})) == ["charlie"]
    assert names(client.get("/settings/people/", {"status": "invited"})) == ["priya@example.com"]
    assert names(client.get("/settings/people/", {"status": "away"})) == ["bob"]
    assert "charlie" not in names(client.get("/settings/people/"))  # active (and invited) by default
    assert "charlie" in names(client.get("/settings/people/", {"status": "all"}))
    assert names(client.get("/settings/people/", {"q": "ALICE@EXAMPLE"})) == ["alice"]  # case-insensitive
    body = client.get("/settings/people/", {"status": "invited"}).content.decode()
    assert "invited, link valid until" in body


@pytest.mark.parametrize("params", [{"team": "abc"}, {"role": "boss"}, {"status": "x" * 300}, {"team": "99999"}])
def test_people_list_junk_filters_are_shown_and_ignored(org, login, params):
    response = login(org["admin"]).get("/settings/people/", params)
    assert response.status_code == 200
    assert "Showing everyone active" in response.content.decode()
    assert "alice" in names(response)


def _grow_org(org, rows):
    """`rows` more teams, each with a manager and a member, plus one invited person each."""
    for i in range(rows):
        team = TeamFactory(name=f"Team {i}", parent=org["sales"], manager=UserFactory(username=f"m{i}", role="manager"))
        MembershipFactory(team=team, user=UserFactory(username=f"u{i}"))
        services.person_invite(actor=org["admin"], first_name=f"New {i}", email=f"new{i}@example.com", role="rep")


@pytest.mark.parametrize("rows", [5, 50])
def test_people_list_query_count_is_constant(org, login, django_assert_num_queries, rows):
    _grow_org(org, rows)
    client = login(org["admin"])
    # session, user, the admin's time zone (UserTimeZoneMiddleware), unread count (navbar), the
    # filter's team choices, people, their teams, the teams they manage, their invitations: 9.
    with django_assert_num_queries(9):
        response = client.get("/settings/people/")
    assert len(response.context["people"]) == 7 + 3 * rows
    assert response.content.decode().count('data-testid="person-row"') == 7 + 3 * rows


# --- a manager's person page: time away -------------------------------------------------------


def test_manager_sets_their_reps_time_away_and_sees_it(org, login):
    client = login(org["maria"])
    start, end = timezone.localdate(), timezone.localdate() + dt.timedelta(days=4)
    response = client.post(
        f"/people/{org['alice'].pk}/", {"away_from": start.isoformat(), "away_until": end.isoformat()}
    )
    assert response.status_code == 302
    page = client.get(f"/people/{org['alice'].pk}/").content.decode()
    assert f"{start:%a} {start.day} {start:%b %Y} to {end:%a} {end.day} {end:%b %Y}" in page
    alice = User.objects.get(pk=org["alice"].pk)
    assert alice.is_away
    assert eligible_reps(org["north"]) == [org["bob"]]  # away: no new leads
    # Cleared: both dates empty.
    client.post(f"/people/{org['alice'].pk}/", {"away_from": "", "away_until": ""})
    assert not User.objects.get(pk=org["alice"].pk).is_away


def test_planned_time_away_starts_on_its_first_day(org):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.time_away_set(
        actor=org["maria"], person=org["alice"], away_from=tomorrow, away_until=tomorrow + dt.timedelta(days=2)
    )
    alice = User.objects.get(pk=org["alice"].pk)
    assert not alice.is_away and alice.away_planned
    assert org["alice"] in eligible_reps(org["north"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"away_from": "2030-05-10", "away_until": "2030-05-01"}, "comes before the first"),
        ({"away_from": "2030-05-10", "away_until": ""}, "Say until when"),
        ({"away_from": "", "away_until": "not a date"}, "Enter a valid date"),
        ({"away_from": "", "away_until": "3000-01-01"}, "Pick a date between"),
    ],
)
def test_time_away_bad_input_is_refused_and_nothing_changes(org, login, data, message):
    response = login(org["maria"]).post(f"/people/{org['alice'].pk}/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    for value in data.values():
        if value:
            assert f'value="{value}"' in body
    alice = User.objects.get(pk=org["alice"].pk)
    assert (alice.away_from, alice.away_until) == (None, None)


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("maria", "charlie", 404),  # another team's rep
        ("maria", "sam", 404),  # another manager
        ("maria", "maria", 404),  # herself
        ("sam", "alice", 404),
        ("helen", "alice", 200),  # head of sales: North is under Sales
        ("helen", "charlie", 200),
        ("admin", "charlie", 200),
        ("alice", "bob", 403),  # reps do not set time away
        ("alice", "alice", 403),
    ],
)
def test_person_page_is_scoped_to_the_managers_own_reps(org, login, persona, target, status):
    client = login(org[persona])
    url = f"/people/{org[target].pk}/"
    assert client.get(url).status_code == status
    response = client.post(url, {"away_until": "2099-01-01"})
    assert response.status_code == (302 if status == 200 else status)
    assert (User.objects.get(pk=org[target].pk).away_until is not None) == (status == 200)


def test_manager_home_links_members_to_their_person_page(org, login):
    body = login(org["maria"]).get("/").content.decode()
    assert f'href="/people/{org["alice"].pk}/"' in body
    assert 'href="/people/' not in login(org["alice"]).get("/").content.decode()


def test_the_menu_points_to_the_people_pages_not_the_django_admin(org, login):
    body = login(org["admin"]).get("/settings/people/").content.decode()
    assert "/admin/accountability/user/add/" not in body
    assert 'href="/settings/people/invite/"' in body
    assert "Django admin (raw data)" in body


def test_membership_is_kept_in_join_order(org):
    """A person's first team (their zone) stays the one they joined first when teams are added."""
    services.person_update(
        actor=org["admin"], person=org["alice"], role="rep", teams=[org["south"], org["north"]], manages=[]
    )
    assert list(Membership.objects.filter(user=org["alice"]).order_by("id").values_list("team__name", flat=True)) == [
        "North",
        "South",
    ]


def test_an_invited_rep_gets_leads_only_once_they_can_log_in(org):
    invitation = services.person_invite(
        actor=org["admin"], first_name="Priya", email="priya@example.com", role="rep", teams=[org["north"]]
    )
    priya = invitation.user
    assert priya not in eligible_reps(org["north"])
    services.invitation_accept(token=services.invitation_token(invitation), password="a-long-new-pass-42")
    assert priya in eligible_reps(org["north"])
