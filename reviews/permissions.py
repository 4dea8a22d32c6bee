"""Who may do what to a review, in which state: the one table every view and service reads.

A person's role on a review is relative to it:
- "rep": the person reviewed;
- "reviewer": the manager writing it (fixed at opening, reassignable);
- "manager": another manager above the review's team (a head of sales), read-only;
- "admin": an admin who is neither, read-only except reassigning the reviewer.
Anyone else does not see the review at all (404 from the selectors).
"""

from __future__ import annotations

from accountability.scoping import managed_team_ids
from reviews.models import Review

S = Review.State
REP, REVIEWER, MANAGER, ADMIN = "rep", "reviewer", "manager", "admin"
ROLES = (REP, REVIEWER, MANAGER, ADMIN)

# action -> state -> roles allowed
ACTIONS: dict[str, dict[str, set[str]]] = {
    "self_edit": {S.DRAFT: {REP}},
    "self_submit": {S.DRAFT: {REP}},
    "manager_edit": {S.DRAFT: {REVIEWER}, S.SELF_SUBMITTED: {REVIEWER}},
    # From draft only once the self-assessment deadline has passed (checked by the service).
    "manager_submit": {S.DRAFT: {REVIEWER}, S.SELF_SUBMITTED: {REVIEWER}},
    "share": {S.MANAGER_SUBMITTED: {REVIEWER}},
    "acknowledge": {S.SHARED: {REP}},
    "respond": {S.ACKNOWLEDGED: {REP}},
    "reassign": {S.DRAFT: {MANAGER, ADMIN, REVIEWER}, S.SELF_SUBMITTED: {MANAGER, ADMIN, REVIEWER}},
    "add_action_item": {
        S.MANAGER_SUBMITTED: {REVIEWER},
        S.SHARED: {REVIEWER, REP},
        S.ACKNOWLEDGED: {REVIEWER, REP},
    },
}

# What each role reads of the two assessments, per state (their own side is always readable).
SEES_SELF: dict[str, set[str]] = {
    S.DRAFT: {REP},
    S.SELF_SUBMITTED: {REP},
    S.MANAGER_SUBMITTED: {REP, REVIEWER, MANAGER, ADMIN},
    S.SHARED: {REP, REVIEWER, MANAGER, ADMIN},
    S.ACKNOWLEDGED: {REP, REVIEWER, MANAGER, ADMIN},
}
SEES_MANAGER: dict[str, set[str]] = {
    S.DRAFT: {REVIEWER},
    S.SELF_SUBMITTED: {REVIEWER},
    S.MANAGER_SUBMITTED: {REVIEWER, MANAGER, ADMIN},
    S.SHARED: {REP, REVIEWER, MANAGER, ADMIN},
    S.ACKNOWLEDGED: {REP, REVIEWER, MANAGER, ADMIN},
}


def role_on(user, review: Review) -> str | None:
    """The user's role on a review they can see (callers fetch it through the selectors first)."""
    if review.rep_id == user.pk:
        return REP
    if review.reviewer_id == user.pk:
        return REVIEWER
    if user.is_admin:
        return ADMIN

    if review.team_id in managed_team_ids(user):
        return MANAGER
    return None


def can(user, action: str, review: Review) -> bool:
    role = role_on(user, review)
    return role is not None and role in ACTIONS[action].get(review.state, set())


def allowed_actions(user, review: Review) -> set[str]:
    return {action for action in ACTIONS if can(user, action, review)}


def sees_self(user, review: Review) -> bool:
    return role_on(user, review) in SEES_SELF[review.state]


def sees_manager(user, review: Review) -> bool:
    return role_on(user, review) in SEES_MANAGER[review.state]
