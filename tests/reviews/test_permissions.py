"""The permissions table, walked per role and per state: the services obey it exactly."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from reviews import permissions as perms
from reviews import services
from reviews.models import Review
from tests.reviews.factories import write

pytestmark = pytest.mark.django_db

STATES = list(Review.State.values)


def _to_state(review, state, alice, maria):
    order = STATES.index(state)
    if order >= 1:
        write(alice, review, "self")
        review = services.review_submit_self(actor=alice, review=review)
    if order >= 2:
        write(maria, review, "manager")
        review = services.review_submit_manager(actor=maria, review=review)
    if order >= 3:
        review = services.review_share(actor=maria, review=review)
    if order >= 4:
        review = services.review_acknowledge(actor=alice, review=review)
    return review


def _attempt(action, user, review, helen):
    side = "self" if action.startswith("self") else "manager"
    calls = {
        "self_edit": lambda: write(user, review, side),
        "manager_edit": lambda: write(user, review, side),
        "self_submit": lambda: services.review_submit_self(actor=user, review=review),
        "manager_submit": lambda: services.review_submit_manager(actor=user, review=review),
        "share": lambda: services.review_share(actor=user, review=review),
        "acknowledge": lambda: services.review_acknowledge(actor=user, review=review),
        "respond": lambda: services.review_respond(actor=user, review=review, response="r"),
        "reassign": lambda: services.review_reassign(actor=user, review=review, reviewer=helen),
        "add_action_item": lambda: services.action_item_create(
            actor=user, text="t", owner=review.rep, due_date=review.cycle.period_end, review=review
        ),
    }
    calls[action]()


@pytest.mark.parametrize("state", STATES)
def test_each_role_may_do_exactly_what_the_table_says(state, alice_review, alice, maria, helen, admin):
    review = _to_state(alice_review, state, alice, maria)
    people = {perms.REP: alice, perms.REVIEWER: maria, perms.MANAGER: helen, perms.ADMIN: admin}
    for role, user in people.items():
        assert perms.role_on(user, review) == role
        for action, rule in perms.ACTIONS.items():
            allowed = role in rule.get(state, set())
            assert perms.can(user, action, review) is allowed, (role, action, state)
            if allowed or action in ("self_edit", "manager_edit", "self_submit", "manager_submit"):
                continue  # prerequisites (a complete draft) are tested in test_services
            with pytest.raises((PermissionDenied, ValidationError)):
                _attempt(action, user, Review.objects.get(pk=review.pk), helen)


@pytest.mark.parametrize("state", STATES)
def test_each_side_sees_the_other_only_after_submitting_its_own(state, alice_review, alice, maria, helen):
    review = _to_state(alice_review, state, alice, maria)
    assert perms.sees_self(alice, review)
    assert perms.sees_manager(maria, review)
    manager_submitted = STATES.index(state) >= 2
    shared = STATES.index(state) >= 3
    assert perms.sees_self(maria, review) is manager_submitted
    assert perms.sees_self(helen, review) is manager_submitted
    assert perms.sees_manager(alice, review) is shared
