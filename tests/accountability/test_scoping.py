import pytest
from django.http import Http404

from accountability.models import Team, User
from accountability.scoping import (
    descendant_team_ids,
    get_visible_or_404,
    managed_team_ids,
    member_team_ids,
    scope_queryset,
    team_scope,
    teammates_of,
    teams_visible_to,
    users_visible_to,
)
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_superuser_is_always_admin_whatever_the_role_column():
    boss = UserFactory(username="root", role=User.Role.REP, is_superuser=True)
    assert boss.is_admin
    assert boss.effective_role == User.Role.ADMIN


def test_head_of_sales_manages_sub_teams(org):
    assert managed_team_ids(org["helen"]) == {org["sales"].pk, org["north"].pk, org["south"].pk}
    assert managed_team_ids(org["maria"]) == {org["north"].pk}
    assert managed_team_ids(org["alice"]) == set()


def test_managed_teams_follow_a_deep_chain(org):
    east = TeamFactory(name="North East", parent=org["north"])
    deeper = TeamFactory(name="North East Inbound", parent=east)
    assert deeper.pk in managed_team_ids(org["maria"])
    assert deeper.pk not in managed_team_ids(org["sam"])


def test_team_visibility_by_role(org):
    assert set(teams_visible_to(org["admin"])) == set(Team.objects.all())
    assert set(teams_visible_to(org["maria"])) == {org["north"]}
    assert set(teams_visible_to(org["alice"])) == {org["north"]}
    assert set(teams_visible_to(org["charlie"])) == {org["south"]}


def test_users_visible_by_role(org):
    assert set(users_visible_to(org["alice"])) == {org["alice"]}
    assert set(users_visible_to(org["maria"])) == {org["maria"], org["alice"], org["bob"]}
    helen_sees = set(users_visible_to(org["helen"]))
    assert {org["alice"], org["bob"], org["charlie"], org["maria"], org["sam"]} <= helen_sees
    assert org["admin"] not in helen_sees
    assert set(users_visible_to(org["admin"])) == set(User.objects.all())


def test_teammates_are_people_sharing_a_team(org):
    assert set(teammates_of(org["alice"])) == {org["alice"], org["bob"]}
    assert org["charlie"] not in teammates_of(org["alice"])


def test_scope_queryset_rep_sees_own_records_only(org):
    # Memberships are owned (user) and team-bound (team): the same shape as leads.
    from accountability.models import Membership

    qs = Membership.objects.all()
    assert {m.user for m in scope_queryset(qs, org["alice"], owner_field="user")} == {org["alice"]}
    assert {m.user for m in scope_queryset(qs, org["maria"], owner_field="user")} == {org["alice"], org["bob"]}
    assert {m.user for m in scope_queryset(qs, org["helen"], owner_field="user")} == {
        org["alice"],
        org["bob"],
        org["charlie"],
    }
    assert scope_queryset(qs, org["admin"], owner_field="user").count() == qs.count()


def test_a_manager_who_is_also_a_member_keeps_seeing_their_own_records(org):
    MembershipFactory(user=org["maria"], team=org["south"])
    from accountability.models import Membership

    seen = {m.user for m in scope_queryset(Membership.objects.all(), org["maria"], owner_field="user")}
    assert org["maria"] in seen
    assert org["charlie"] not in seen


def test_get_visible_or_404_hides_existence(org):
    from accountability.models import Membership

    charlies = Membership.objects.get(user=org["charlie"])
    visible = scope_queryset(Membership.objects.all(), org["alice"], owner_field="user")
    with pytest.raises(Http404):
        get_visible_or_404(visible, pk=charlies.pk)
    with pytest.raises(Http404):
        get_visible_or_404(visible, pk=999_999)
    with pytest.raises(Http404):
        get_visible_or_404(visible, pk="not-a-number")


def test_scoping_is_one_query_per_request_whatever_the_depth(org, django_assert_num_queries):
    for i in range(5):
        TeamFactory(name=f"Sub {i}", parent=org["north"])
    fresh = User.objects.get(pk=org["helen"].pk)
    with django_assert_num_queries(2):  # managed roots, then the whole team tree
        managed_team_ids(fresh)
    with django_assert_num_queries(0):  # cached on the user for the rest of the request
        managed_team_ids(fresh)


@pytest.mark.parametrize("persona", ["alice", "maria", "helen", "sam", "admin"])
def test_team_scope_reads_in_one_query_what_the_scoping_selectors_read(org, persona, django_assert_num_queries):
    """The neglected report asks team_scope once and the scoping caches it fills are the ones the
    selectors would have filled: the same teams visible, managed and joined."""
    TeamFactory(name="West", parent=org["south"])
    MembershipFactory(user=org["maria"], team=org["south"])  # a manager who is also a member elsewhere
    user = User.objects.get(pk=org[persona].pk)
    with django_assert_num_queries(1):
        scope = team_scope(user)
        managed, member = managed_team_ids(user), member_team_ids(user)
    fresh = User.objects.get(pk=user.pk)
    assert scope.teams == [(t.pk, t.name) for t in teams_visible_to(fresh).order_by("name", "id")]
    assert managed == managed_team_ids(fresh)
    assert member == member_team_ids(fresh)
    assert scope.managers == dict(Team.objects.values_list("id", "manager_id"))
    assert descendant_team_ids([org["sales"].pk], scope.children) == descendant_team_ids([org["sales"].pk])
