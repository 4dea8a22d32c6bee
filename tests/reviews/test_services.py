"""Cycles, templates, assessments and the review workflow, through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.notifications.models import Notification
from reviews import services
from reviews.models import Assessment, Review, ReviewCycle, ReviewTemplate
from reviews.packet import rating_from_figure, weighted_score
from reviews.services import CriterionInput
from tests.expectations.factories import published
from tests.factories import LeadFactory
from tests.reviews.factories import answers_for, make_cycle, make_template, write

pytestmark = pytest.mark.django_db


# --- templates ---------------------------------------------------------------------------------


def test_editing_a_template_makes_a_new_version_and_leaves_the_opened_cycle_on_the_old(admin, opened, template):
    v2 = services.template_save(
        actor=admin,
        name="Quarterly review",
        scale_min=1,
        scale_max=10,
        scale_labels=[],
        criteria=[CriterionInput("value", "Courage", Decimal(1))],
        previous=template,
    )
    template.refresh_from_db()
    assert (v2.version, v2.family_id, v2.is_current) == (2, template.pk, True)
    assert not template.is_current
    opened.refresh_from_db()
    assert opened.template_id == template.pk
    assert [c.title for c in opened.reviews.first().criteria.all()] == ["Integrity", "What will you focus on next?"]


@pytest.mark.parametrize(
    ("scale", "weight", "message"),
    [((5, 5), Decimal(1), "scale"), ((1, 5), Decimal(0), "weights must be positive")],
)
def test_template_refuses_a_bad_scale_or_weight(admin, scale, weight, message):
    with pytest.raises(ValidationError, match=message):
        make_template(admin, scale=scale, criteria=[CriterionInput("value", "Integrity", weight)])
    assert not ReviewTemplate.objects.exists()


def test_only_an_admin_edits_templates(maria):
    with pytest.raises(PermissionDenied):
        make_template(maria)


# --- cycles ----------------------------------------------------------------------------------


def test_deadline_before_the_period_is_refused(admin, north, template):
    with pytest.raises(ValidationError, match="after the period starts"):
        make_cycle(admin, [north], template, self_days=0)
    assert not ReviewCycle.objects.exists()


def test_a_manager_creates_cycles_only_for_their_teams(maria, north, south, template):
    make_cycle(maria, [north], template)
    with pytest.raises(PermissionDenied):
        make_cycle(maria, [south], template)


def test_opening_creates_one_review_per_rep_with_the_team_manager_as_reviewer(admin, opened, alice, bob, maria):
    reviews = {r.rep: r for r in opened.reviews.all()}
    assert set(reviews) == {alice, bob}
    assert {r.reviewer for r in reviews.values()} == {maria}
    assert opened.state == ReviewCycle.State.OPEN
    assert Assessment.objects.filter(review__cycle=opened).count() == 4


def test_opening_the_whole_department_reviews_managers_by_the_manager_above(
    admin, sales, alice, bob, charlie, maria, sam, helen, template
):
    cycle = make_cycle(admin, [sales], template)
    services.cycle_open(actor=admin, cycle=cycle)
    reviewers = {r.rep.username: r.reviewer.username for r in cycle.reviews.all()}
    assert reviewers == {"alice": "maria", "bob": "maria", "charlie": "sam", "maria": "helen", "sam": "helen"}


def test_opening_twice_is_refused_and_creates_nothing_more(admin, opened):
    with pytest.raises(ValidationError, match="already open"):
        services.cycle_open(actor=admin, cycle=opened)
    assert opened.reviews.count() == 2


def test_a_cycle_with_no_reps_cannot_be_opened(admin, template, sales):
    from tests.factories import TeamFactory

    empty = TeamFactory(name="Empty", manager=None)
    cycle = make_cycle(admin, [empty], template)
    with pytest.raises(ValidationError, match="nobody to review"):
        services.cycle_open(actor=admin, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.state == ReviewCycle.State.DRAFT


def test_opening_tells_each_rep_and_each_reviewer_once(admin, opened, alice, maria):
    assert Notification.objects.filter(recipient=alice, kind="review_cycle_opened").count() == 1
    assert Notification.objects.filter(recipient=maria, kind="review_cycle_opened").count() == 1


def test_a_rep_who_joins_after_opening_can_be_added_once(admin, opened, north):
    from tests.factories import MembershipFactory, UserFactory

    dora = UserFactory(username="dora", role="rep")
    MembershipFactory(user=dora, team=north)
    review = services.cycle_add_rep(actor=admin, cycle=opened, rep=dora)
    assert review.reviewer.username == "maria"
    with pytest.raises(ValidationError, match="already has a review"):
        services.cycle_add_rep(actor=admin, cycle=opened, rep=dora)


def test_kpi_and_goal_lines_expand_for_the_rep_at_opening(admin, north, alice, bob, template):
    published(admin, kpis=2)  # conversion rate >= 20 monthly, activities >= 21 monthly
    cycle = make_cycle(admin, [north], template)
    services.cycle_open(actor=admin, cycle=cycle)
    review = cycle.reviews.get(rep=alice)
    kpis = [c for c in review.criteria.all() if c.kind == "kpi"]
    assert [c.metric for c in kpis] == ["conversion_rate", "activities"]
    # A level KPI keeps its target; a count is scaled from a month to the 92-day quarter.
    assert kpis[0].target == Decimal("20.00")
    assert kpis[1].target == Decimal("63.47")


def test_reviewer_can_be_reassigned_while_assessments_are_written(admin, alice_review, helen):
    review = services.review_reassign(actor=admin, review=alice_review, reviewer=helen)
    assert review.reviewer == helen
    assert Assessment.objects.get(review=review, side="manager").author == helen


# --- assessments -----------------------------------------------------------------------------


def test_a_rating_outside_the_scale_is_refused_and_nothing_is_saved(alice, alice_review):
    answers = answers_for(alice_review, rating=9)
    with pytest.raises(ValidationError, match="outside the scale"):
        services.assessment_save(
            actor=alice, review=alice_review, side="self", version=0, highlights="H", challenges="", answers=answers
        )
    a = Assessment.objects.get(review=alice_review, side="self")
    assert (a.version, a.highlights, a.answers.count()) == (0, "", 0)


def test_a_save_from_an_older_tab_is_refused_not_silently_lost(alice, alice_review):
    write(alice, alice_review, "self", highlights="from tab one")
    with pytest.raises(services.StaleDraft, match="another tab"):
        services.assessment_save(
            actor=alice,
            review=alice_review,
            side="self",
            version=0,
            highlights="from tab two",
            challenges="",
            answers={},
        )
    assert Assessment.objects.get(review=alice_review, side="self").highlights == "from tab one"


def test_submitting_needs_every_rating_and_keeps_the_draft(alice, alice_review):
    services.assessment_save(
        actor=alice, review=alice_review, side="self", version=0, highlights="draft", challenges="", answers={}
    )
    with pytest.raises(ValidationError, match="Rate every criterion"):
        services.review_submit_self(actor=alice, review=alice_review)
    alice_review.refresh_from_db()
    assert alice_review.state == Review.State.DRAFT
    assert Assessment.objects.get(review=alice_review, side="self").highlights == "draft"


def _full_flow_to_shared(alice, maria, review):
    write(alice, review, "self", rating=4)
    review = services.review_submit_self(actor=alice, review=review)
    write(maria, review, "manager", rating=3)
    review = services.review_submit_manager(actor=maria, review=review)
    return services.review_share(actor=maria, review=review)


def test_the_whole_workflow_and_each_transition_only_once(alice, maria, alice_review):
    review = _full_flow_to_shared(alice, maria, alice_review)
    assert review.state == Review.State.SHARED
    assert review.self_score == Decimal("4.00") and review.manager_score == Decimal("3.00")
    assert review.frozen_at is not None
    with pytest.raises(ValidationError, match="no longer share"):
        services.review_share(actor=maria, review=review)
    review = services.review_acknowledge(actor=alice, review=review, comment="seen")
    assert review.state == Review.State.ACKNOWLEDGED
    with pytest.raises(ValidationError):
        services.review_acknowledge(actor=alice, review=review)
    services.review_respond(actor=alice, review=review, response="I disagree on integrity.")
    with pytest.raises(ValidationError, match="already added"):
        services.review_respond(actor=alice, review=review, response="again")
    assert Notification.objects.filter(recipient=alice, kind="review_shared").count() == 1
    assert Notification.objects.filter(recipient=maria, kind="review_acknowledged").count() == 1


def test_a_stale_copy_cannot_apply_a_transition_twice(alice, alice_review):
    write(alice, alice_review, "self")
    stale = Review.objects.get(pk=alice_review.pk)
    services.review_submit_self(actor=alice, review=alice_review)
    with pytest.raises(ValidationError, match="changed meanwhile"):
        services.review_submit_self(actor=alice, review=stale)


def test_acknowledging_before_sharing_is_refused(alice, alice_review):
    with pytest.raises(ValidationError, match="no longer acknowledge"):
        services.review_acknowledge(actor=alice, review=alice_review)


def test_editing_after_submit_is_refused(alice, alice_review):
    write(alice, alice_review, "self")
    review = services.review_submit_self(actor=alice, review=alice_review)
    with pytest.raises(ValidationError, match="no longer edit"):
        write(alice, review, "self")


def test_another_rep_cannot_write_a_review(bob, alice_review):
    with pytest.raises(PermissionDenied):
        write(bob, alice_review, "self")


# --- scores and frozen packet ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "target", "direction", "expected"),
    [
        (Decimal(10), Decimal(10), "up", 4),  # on target: two thirds up a 1-5 scale
        (Decimal(5), Decimal(10), "up", 1),
        (Decimal(13), Decimal(10), "up", 5),
        (Decimal(60), Decimal(60), "down", 4),
        (Decimal(120), Decimal(60), "down", 1),
        (None, Decimal(10), "up", None),
    ],
)
def test_rating_from_figure(actual, target, direction, expected):
    assert rating_from_figure(actual, target, direction, 1, 5) == expected


def test_the_overall_score_renormalises_over_rated_criteria():
    assert weighted_score([(Decimal(2), 4), (Decimal(1), 1), (Decimal(5), None)]) == Decimal("3.00")
    assert weighted_score([(Decimal(1), None)]) is None


def test_a_kpi_rating_different_from_its_figure_needs_a_reason(admin, north, alice, bob, template):
    published(admin, kpis=2)  # conversion rate >= 20 % (no closed lead: no figure), activities >= 21 a month
    cycle = make_cycle(admin, [north], template)
    services.cycle_open(actor=admin, cycle=cycle)
    review = cycle.reviews.get(rep=alice)
    conversion, activities = review.criteria.filter(kind="kpi").order_by("position")
    computed = services.computed_ratings(review, services.review_packet(review).by_key(), [conversion, activities])
    assert computed == {activities.pk: 1}  # no activity at all: the lowest point; no conversion figure: none
    with pytest.raises(ValidationError, match="say why"):
        services.assessment_save(
            actor=alice,
            review=review,
            side="self",
            version=0,
            highlights="",
            challenges="",
            answers=answers_for(review, rating=5, reason=""),
        )
    answers = answers_for(review, rating=5, reason="")
    answers[activities.pk] = services.AnswerInput(rating="", comment="")  # left empty: the figure's rating
    assessment = services.assessment_save(
        actor=alice, review=review, side="self", version=0, highlights="", challenges="", answers=answers
    )
    answer = assessment.answers.get(criterion=activities)
    assert (answer.rating, answer.computed_rating, answer.is_override) == (1, 1, False)


def test_a_frozen_packet_does_not_change_and_shows_what_changed_since(admin, north, alice, bob, maria, template):
    now = timezone.now()
    cycle = make_cycle(
        admin, [north], template, start=now.date() - dt.timedelta(days=30), end=now.date() + dt.timedelta(days=1)
    )
    services.cycle_open(actor=admin, cycle=cycle)
    review = cycle.reviews.get(rep=alice)
    LeadFactory(owner=alice, received_by=alice, arrived_at=now - dt.timedelta(days=2))
    assert services.review_freeze(review=review)
    assert not services.review_freeze(review=review)  # once only
    frozen = review.frozen_figures.get(key="lead:leads_received")
    assert (frozen.value, frozen.rule) == ("1", "leads.metrics/v1")
    LeadFactory(owner=alice, received_by=alice, arrived_at=now - dt.timedelta(days=1))
    frozen.refresh_from_db()
    assert frozen.value == "1"
    live = services.review_packet(review).by_key()["lead:leads_received"]
    assert live.value == "2"


def test_the_manager_may_go_ahead_only_after_the_self_assessment_deadline(maria, alice_review, login):
    write(maria, alice_review, "manager")
    early = timezone.make_aware(dt.datetime.combine(alice_review.cycle.self_deadline, dt.time(9)))
    with pytest.raises(ValidationError, match="has until"):
        services.review_submit_manager(actor=maria, review=alice_review, now=early)
    late = timezone.make_aware(dt.datetime.combine(alice_review.cycle.self_deadline + dt.timedelta(days=1), dt.time(9)))
    review = services.review_submit_manager(actor=maria, review=alice_review, now=late)
    assert review.state == Review.State.MANAGER_SUBMITTED and review.self_submitted_at is None
    page = login(maria).get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="no-self-assessment"' in page and 'data-testid="assessment-self"' not in page


def test_a_count_kpi_is_rated_against_its_target_so_far_while_the_period_runs(admin, north, alice, bob, template):
    published(admin, kpis=2)  # activities >= 21 a month: 63.47 over the quarter
    cycle = make_cycle(admin, [north], template)  # 1 Jul to 30 Sep 2026
    services.cycle_open(actor=admin, cycle=cycle)
    review = cycle.reviews.get(rep=alice)
    activities = review.criteria.get(kind="kpi", metric="activities")
    halfway = dt.datetime(2026, 8, 15, 12, tzinfo=dt.UTC)
    assert services.target_so_far(activities, review, halfway) == Decimal("31.39")  # 45.5 of 92 days
    assert services.target_so_far(activities, review, dt.datetime(2026, 10, 2, tzinfo=dt.UTC)) == Decimal("63.47")
    conversion = review.criteria.get(kind="kpi", metric="conversion_rate")
    assert services.target_so_far(conversion, review, halfway) == Decimal("20.00")  # a rate: as it is
