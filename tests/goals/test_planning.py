"""Proposing, assigning, approving, rejecting and editing goals, with their history and scoping."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accountability.notifications.models import Notification
from goals.models import Goal, GoalEvent
from tests.goals.factories import GoalFactory

pytestmark = pytest.mark.django_db

VALID = {
    "title": "Book more demos",
    "description": "Book demos with qualified inbound leads.",
    "metric": "manual",
    "unit": "demos",
    "direction": "up",
    "target": "12",
    "reason": "Demos convert best.",
    "preset": "monthly",
    "start_date": "2026-12-01",
    "end_date": "",
}


def post_goal(client, **overrides):
    return client.post(reverse("goals:goal-create"), {**VALID, **overrides})


def test_rep_proposes_a_goal_and_the_manager_is_told(login, alice, maria):
    response = post_goal(login(alice))
    goal = Goal.objects.get()
    assert response.status_code == 302
    assert (goal.owner, goal.status, goal.target) == (alice, Goal.Status.PROPOSED, Decimal(12))
    # the monthly preset sets the end from the start
    assert (goal.start_date, goal.end_date) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert list(goal.events.values_list("kind", "actor")) == [(GoalEvent.Kind.PROPOSED, alice.pk)]
    assert Notification.objects.filter(recipient=maria, kind="goal_proposed").count() == 1


@pytest.mark.parametrize(
    ("preset", "end"),
    [("quarterly", dt.date(2027, 2, 28)), ("yearly", dt.date(2027, 11, 30))],
)
def test_presets_set_the_end_date(login, alice, preset, end):
    post_goal(login(alice), preset=preset, start_date="2026-12-01")
    assert Goal.objects.get().end_date == end


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("title", "", "specific (title)"),
        ("description", "  ", "specific (description)"),
        ("metric", "", "measurable (metric)"),
        ("unit", "", "measurable (unit)"),
        ("target", "", "measurable (target)"),
        ("reason", "", "relevant (reason or KPI)"),
        ("start_date", "", "time-bound (start date)"),
    ],
)
def test_form_refuses_a_goal_that_is_not_smart_naming_what_is_missing(login, alice, field, value, named):
    response = post_goal(login(alice), **{field: value})
    assert response.status_code == 200
    assert "This goal is not SMART yet" in response.text
    assert named in response.text
    assert not Goal.objects.exists()
    # the user's input is redisplayed
    if field != "title":
        assert "Book more demos" in response.text


def test_several_missing_elements_are_all_named(login, alice):
    response = post_goal(login(alice), description="", reason="", target="")
    assert "specific (description), measurable (target), relevant (reason or KPI)" in response.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target": "0"}, "The target must be a positive number"),
        ({"target": "-5"}, "The target must be a positive number"),
        ({"target": "lots"}, "Enter a number"),
        ({"preset": "custom", "end_date": "2026-11-30"}, "The end date must be after the start date"),
        ({"preset": "custom", "end_date": "2026-12-01"}, "The end date must be after the start date"),
        ({"preset": "custom", "end_date": ""}, "time-bound (end date)"),
        ({"metric": "vibes"}, "Select a valid choice"),
        ({"start_date": "not-a-date"}, "Enter a valid date"),
    ],
)
def test_bad_input_is_refused(login, alice, overrides, message):
    response = post_goal(login(alice), **overrides)
    assert response.status_code == 200
    assert message in response.text
    assert not Goal.objects.exists()


def test_built_in_metric_takes_its_unit_and_default_direction(login, alice):
    post_goal(login(alice), metric="speed_to_lead_median", unit="", direction="", target="30")
    goal = Goal.objects.get()
    assert (goal.unit, goal.direction) == ("minutes", "down")


def test_user_text_is_escaped(login, alice):
    post_goal(login(alice), title="<script>alert(1)</script>")
    goal = Goal.objects.get()
    response = login(alice).get(reverse("goals:goal-detail", args=[goal.pk]))
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_manager_approves_a_proposal(login, alice, maria):
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    response = login(maria).post(reverse("goals:goal-approve", args=[goal.pk]), {"comment": "Go for it"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.status, goal.decided_by) == (Goal.Status.APPROVED, maria)
    event = goal.events.get(kind=GoalEvent.Kind.APPROVED)
    assert (event.actor, event.comment) == (maria, "Go for it")
    assert Notification.objects.filter(recipient=alice, kind="goal_approved").exists()


def test_approving_twice_changes_nothing(login, alice, maria):
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    client = login(maria)
    client.post(reverse("goals:goal-approve", args=[goal.pk]))
    client.post(reverse("goals:goal-approve", args=[goal.pk]))
    assert goal.events.filter(kind=GoalEvent.Kind.APPROVED).count() == 1


def test_reject_needs_a_reason(login, alice, maria):
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    client = login(maria)
    client.post(reverse("goals:goal-reject", args=[goal.pk]), {"reason": " "})
    goal.refresh_from_db()
    assert goal.status == Goal.Status.PROPOSED
    client.post(reverse("goals:goal-reject", args=[goal.pk]), {"reason": "Too low: aim for 15."})
    goal.refresh_from_db()
    assert goal.status == Goal.Status.REJECTED
    assert goal.events.get(kind=GoalEvent.Kind.REJECTED).comment == "Too low: aim for 15."


def edit_data(goal, **overrides):
    data = {
        "title": goal.title,
        "description": goal.description,
        "metric": goal.metric,
        "unit": goal.unit,
        "direction": goal.direction,
        "target": str(goal.target),
        "reason": goal.reason,
        "preset": goal.preset,
        "start_date": goal.start_date.isoformat(),
        "end_date": goal.end_date.isoformat(),
    }
    return {**data, **overrides}


def test_manager_edits_with_a_comment_and_the_history_keeps_the_change(login, alice, maria):
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED, target=Decimal(10))
    client = login(maria)
    response = client.post(reverse("goals:goal-edit", args=[goal.pk]), edit_data(goal, target="15"))
    assert "Say why you changed the goal" in response.text
    goal.refresh_from_db()
    assert goal.target == 10
    client.post(reverse("goals:goal-edit", args=[goal.pk]), edit_data(goal, target="15", comment="Stretch a bit"))
    goal.refresh_from_db()
    assert goal.target == 15
    event = goal.events.get(kind=GoalEvent.Kind.EDITED)
    assert (event.actor, event.comment, event.changes) == (maria, "Stretch a bit", {"target": ["10.00", "15"]})
    history = client.get(reverse("goals:goal-detail", args=[goal.pk])).text
    assert "Stretch a bit" in history and "10.00 → 15" in history


def test_rep_cannot_edit_an_approved_goal(login, alice):
    goal = GoalFactory(owner=alice, status=Goal.Status.APPROVED)
    client = login(alice)
    assert client.get(reverse("goals:goal-edit", args=[goal.pk])).status_code == 403
    response = client.post(reverse("goals:goal-edit", args=[goal.pk]), edit_data(goal, target="1"))
    assert response.status_code == 403
    goal.refresh_from_db()
    assert goal.target == 10


def test_rep_edits_a_rejected_goal_which_proposes_it_again(login, alice):
    goal = GoalFactory(owner=alice, status=Goal.Status.REJECTED)
    login(alice).post(reverse("goals:goal-edit", args=[goal.pk]), edit_data(goal, target="15"))
    goal.refresh_from_db()
    assert (goal.status, goal.target) == (Goal.Status.PROPOSED, 15)


def test_manager_assigns_goals_to_a_rep_and_to_a_team(login, maria, alice, bob, north):
    client = login(maria)
    client.post(reverse("goals:goal-create"), {**VALID, "owner": f"user:{alice.pk}"})
    client.post(reverse("goals:goal-create"), {**VALID, "owner": f"team:{north.pk}", "title": "Team demos"})
    rep_goal, team_goal = Goal.objects.order_by("pk")
    assert (rep_goal.owner, rep_goal.team, rep_goal.status) == (alice, None, Goal.Status.APPROVED)
    assert (team_goal.owner, team_goal.team) == (None, north)
    assert rep_goal.events.get().kind == GoalEvent.Kind.ASSIGNED
    assert Notification.objects.filter(kind="goal_assigned", recipient__in=[alice, bob]).count() == 3


def test_manager_cannot_assign_to_another_team(login, maria, charlie, south):
    client = login(maria)
    for owner in (f"user:{charlie.pk}", f"team:{south.pk}"):
        response = client.post(reverse("goals:goal-create"), {**VALID, "owner": owner})
        assert response.status_code == 200  # not an offered choice: the form refuses it
    assert not Goal.objects.exists()


def test_a_goal_belongs_to_exactly_one_rep_or_team(alice, north):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        GoalFactory(owner=alice, team=north)
    with pytest.raises(IntegrityError), transaction.atomic():
        GoalFactory(owner=None, team=None, created_by=alice)


# --- Scoping per view ------------------------------------------------------------------


@pytest.fixture
def north_goal(alice, bob):
    return GoalFactory(owner=alice, status=Goal.Status.PROPOSED)


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("goals:goal-detail", "get"),
        ("goals:goal-edit", "get"),
        ("goals:goal-approve", "post"),
        ("goals:goal-reject", "post"),
        ("goals:checkin-create", "post"),
    ],
)
def test_other_team_gets_404_on_norths_goals(login, north_goal, charlie, sam, name, method):
    for user in (charlie, sam):
        response = getattr(login(user), method)(reverse(name, args=[north_goal.pk]))
        assert response.status_code == 404


def test_teammate_gets_404_on_another_reps_goal(login, north_goal, bob):
    assert login(bob).get(reverse("goals:goal-detail", args=[north_goal.pk])).status_code == 404


def test_team_goal_is_visible_to_its_members_only(login, alice, charlie, north):
    goal = GoalFactory(owner=None, team=north, created_by=alice)
    assert login(alice).get(reverse("goals:goal-detail", args=[goal.pk])).status_code == 200
    assert login(charlie).get(reverse("goals:goal-detail", args=[goal.pk])).status_code == 404


def test_rep_gets_403_on_approve_and_reject(login, north_goal, alice):
    client = login(alice)
    assert client.post(reverse("goals:goal-approve", args=[north_goal.pk])).status_code == 403
    assert client.post(reverse("goals:goal-reject", args=[north_goal.pk]), {"reason": "x"}).status_code == 403
    north_goal.refresh_from_db()
    assert north_goal.status == Goal.Status.PROPOSED


@pytest.mark.parametrize("name", ["goals:goal-approve", "goals:goal-reject", "goals:checkin-create"])
def test_get_on_post_only_goal_views_is_405(login, north_goal, maria, name):
    assert login(maria).get(reverse(name, args=[north_goal.pk])).status_code == 405


def test_head_of_sales_sees_goals_of_sub_teams(login, north_goal, helen):
    assert login(helen).get(reverse("goals:goal-detail", args=[north_goal.pk])).status_code == 200


def test_rep_gets_403_on_the_board(login, alice):
    assert login(alice).get(reverse("goals:board")).status_code == 403


def test_manager_gets_404_on_a_team_they_do_not_manage_on_the_board(login, maria, north, south):
    assert login(maria).get(reverse("goals:board"), {"team": south.pk}).status_code == 404


@pytest.mark.parametrize(
    ("who", "owner"),
    [
        ("maria", "user:charlie"),  # another team's rep
        ("maria", "team:south"),  # another team
        ("alice", "user:bob"),  # a rep sees only their own figures
        ("maria", "user:999999"),  # nobody
        ("maria", "x"),  # malformed
    ],
)
def test_recent_figure_for_an_owner_not_visible_is_404(login, org, who, owner):
    kind, _, name = owner.partition(":")
    if name in org:
        owner = f"{kind}:{org[name].pk}"
    response = login(org[who]).get(reverse("goals:goal-recent-figure"), {"metric": "calls", "owner": owner})
    assert response.status_code == 404


def test_recent_figure_for_a_rep_the_manager_runs(login, maria, alice):
    response = login(maria).get(reverse("goals:goal-recent-figure"), {"metric": "calls", "owner": f"user:{alice.pk}"})
    assert response.status_code == 200
    assert "last 30 days" in response.text


def test_goal_form_shows_no_recent_figure_for_an_owner_not_visible(login, maria, charlie):
    response = login(maria).get(reverse("goals:goal-create"), {"metric": "calls", "owner": f"user:{charlie.pk}"})
    assert response.status_code == 200
    assert "Choose a built-in metric" in response.text


def test_history_reads_as_sentences(login, alice, maria):
    goal = GoalFactory(owner=alice, target=Decimal(10))
    GoalEvent.objects.create(goal=goal, kind=GoalEvent.Kind.PACING, changes={"from": "on_track", "to": "at_risk"})
    GoalEvent.objects.create(goal=goal, actor=alice, kind=GoalEvent.Kind.CHECK_IN, changes={"value": "4"})
    text = login(maria).get(reverse("goals:goal-detail", args=[goal.pk])).text
    assert "On track → At risk" in text and "value: 4" in text


@pytest.mark.parametrize("value", ["", "abc", "-1"])
def test_check_in_bad_input_records_nothing(login, alice, value):
    goal = GoalFactory(owner=alice)
    response = login(alice).post(reverse("goals:checkin-create", args=[goal.pk]), {"value": value}, follow=True)
    assert "Check-in not recorded" in response.text
    assert not goal.check_ins.exists()


def test_check_in_on_a_built_in_goal_is_refused(login, alice):
    goal = GoalFactory(owner=alice, metric="calls", unit="activities")
    response = login(alice).post(reverse("goals:checkin-create", args=[goal.pk]), {"value": "3"}, follow=True)
    assert "takes no check-ins" in response.text
    assert not goal.check_ins.exists()


def test_manager_checks_in_for_a_rep_and_teammate_cannot(login, alice, bob, maria):
    goal = GoalFactory(owner=alice)
    login(maria).post(reverse("goals:checkin-create", args=[goal.pk]), {"value": "3", "comment": "From our 1:1"})
    assert goal.check_ins.get().author == maria
    assert login(bob).post(reverse("goals:checkin-create", args=[goal.pk]), {"value": "9"}).status_code == 404


def test_thresholds_must_be_ordered(db):
    from django.db import IntegrityError

    from goals.models import GoalSettings

    with pytest.raises(IntegrityError):
        GoalSettings.objects.create(pk=1, at_risk_below=60, behind_below=70)


def test_head_of_sales_board_opens_on_the_whole_org(login, helen, alice, charlie):
    from django.utils import timezone

    today = timezone.localdate()
    dates = {"start_date": today.replace(day=1), "end_date": today + dt.timedelta(days=20)}
    GoalFactory(owner=alice, title="Alice demos", **dates)
    GoalFactory(owner=charlie, title="Charlie demos", **dates)
    text = login(helen).get(reverse("goals:board")).text
    assert "Team goals board: Sales" in text and "Alice demos" in text and "Charlie demos" in text


def test_refused_reject_redisplays_the_typed_reason_with_the_message(login, alice, maria):
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    typed = "Too low <b>aim</b> for 15. " + "x" * 1000  # over the 1000-character limit
    response = login(maria).post(reverse("goals:goal-reject", args=[goal.pk]), {"reason": typed})
    assert response.status_code == 200  # the page again, not a redirect that drops the text
    assert "Not rejected" in response.text and "at most 1000 characters" in response.text
    assert "Too low &lt;b&gt;aim&lt;/b&gt; for 15. xxx" in response.text
    goal.refresh_from_db()
    assert goal.status == Goal.Status.PROPOSED
    assert not goal.events.filter(kind=GoalEvent.Kind.REJECTED).exists()


def test_refused_check_in_redisplays_the_typed_figure_and_comment(login, alice):
    goal = GoalFactory(owner=alice)
    response = login(alice).post(
        reverse("goals:checkin-create", args=[goal.pk]), {"value": "-3", "comment": "after the <i>Acme</i> call"}
    )
    assert response.status_code == 200
    assert "Check-in not recorded" in response.text
    assert 'value="-3"' in response.text
    assert 'value="after the &lt;i&gt;Acme&lt;/i&gt; call"' in response.text
    assert not goal.check_ins.exists()
    assert not goal.events.filter(kind=GoalEvent.Kind.CHECK_IN).exists()


def test_approve_with_an_over_long_comment_redisplays_it_and_approves_nothing(login, alice, maria):
    goal = GoalFactory(owner=alice, status=Goal.Status.PROPOSED)
    typed = "Good <b>stretch</b>. " + "z" * 1000  # over the 1000-character limit: it was silently dropped
    response = login(maria).post(reverse("goals:goal-approve", args=[goal.pk]), {"comment": typed})
    assert response.status_code == 200
    assert "Not approved" in response.text and "at most 1000 characters" in response.text
    assert "Good &lt;b&gt;stretch&lt;/b&gt;. zzz" in response.text
    goal.refresh_from_db()
    assert goal.status == Goal.Status.PROPOSED
    assert not goal.events.filter(kind=GoalEvent.Kind.APPROVED).exists()
