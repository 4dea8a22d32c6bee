"""Every write of reviews and 1:1s. One service per transition; each checks the state with a
conditional UPDATE (or a row lock), so a double click or a second tab never applies it twice,
and refuses with PermissionDenied (not allowed) or ValidationError (bad input, wrong state)."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.kpis import kpi_target
from accountability.expectations.models import Kpi
from accountability.expectations.selectors import documents_visible_to
from accountability.models import Membership, Team, User
from accountability.notifications.services import notification_create
from accountability.scoping import descendant_team_ids, managed_team_ids
from goals.metric_source import is_cumulative
from goals.models import Goal
from recognition.auto import auto_review_actions_done
from reviews import notices
from reviews import permissions as perms
from reviews.models import (
    ActionItem,
    AgendaItem,
    Answer,
    AnswerKind,
    Assessment,
    CriterionKind,
    FrozenFigure,
    Meeting,
    OneOnOneSeries,
    Review,
    ReviewCriterion,
    ReviewCycle,
    ReviewEvent,
    ReviewTemplate,
    TemplateCriterion,
)
from reviews.packet import KpiSpec, Packet, kpi_target_for_period, packet_build, rating_from_figure, weighted_score
from reviews.suggestions import suggestions_for

logger = logging.getLogger(__name__)

ACTION_LABELS = {
    "self_edit": "edit the self-assessment",
    "self_submit": "submit the self-assessment",
    "manager_edit": "edit the manager assessment",
    "manager_submit": "submit the manager assessment",
    "share": "share the review",
    "acknowledge": "acknowledge the review",
    "respond": "add a response",
    "reassign": "change the reviewer",
    "add_action_item": "add an action item",
}


def review_url(review: Review) -> str:
    return reverse("reviews:review-detail", args=[review.pk])


def _check(actor: User, action: str, review: Review) -> None:
    """403 when the actor's role may never do this; a clear error when only the state is wrong."""
    role = perms.role_on(actor, review)
    rule = perms.ACTIONS[action]
    if role is None or not any(role in roles for roles in rule.values()):
        raise PermissionDenied
    if role not in rule.get(review.state, set()):
        raise ValidationError(
            f"This review is now “{review.get_state_display()}”: you can no longer {ACTION_LABELS[action]}."
        )


def _event(review: Review, actor: User | None, kind: str, **data) -> None:
    ReviewEvent.objects.create(review=review, actor=actor, kind=kind, data=data)


def _transition(review: Review, *, actor: User, action: str, to: str, **fields) -> Review:
    """Move the review from its current state to `to`, only if nobody moved it meanwhile."""
    _check(actor, action, review)
    changed = Review.objects.filter(pk=review.pk, state=review.state).update(state=to, **fields)
    if changed != 1:
        raise ValidationError(f"This review was changed meanwhile: you can no longer {ACTION_LABELS[action]}.")
    review.refresh_from_db()
    _event(review, actor, action)
    return review


# --- Templates --------------------------------------------------------------------------------


@dataclass
class CriterionInput:
    kind: str
    title: str
    weight: Decimal
    answer: str = AnswerKind.RATING


def _clean_template(name: str, scale_min: int, scale_max: int, criteria: list[CriterionInput]) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = "Give the template a name."
    if scale_min < 0 or scale_max <= scale_min or scale_max > 100:
        errors["scale_max"] = "The scale needs a lowest point below its highest (at most 100)."
    if not criteria:
        errors["criteria"] = "List at least one criterion."
    for c in criteria:
        if c.weight is None or c.weight <= 0:
            errors["criteria"] = f"“{c.title}”: weights must be positive."
        if c.kind not in CriterionKind.values:
            errors["criteria"] = f"“{c.title}”: unknown kind {c.kind!r}."
        if c.answer == AnswerKind.TEXT and c.kind != CriterionKind.QUESTION:
            errors["criteria"] = f"“{c.title}”: only questions can be answered in text."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def template_save(
    *,
    actor: User,
    name: str,
    scale_min: int,
    scale_max: int,
    scale_labels: list[str],
    criteria: list[CriterionInput],
    previous: ReviewTemplate | None = None,
) -> ReviewTemplate:
    """A new template, or a new version of `previous` (which stays as it was for its cycles)."""
    if not actor.is_admin:
        raise PermissionDenied
    _clean_template(name, scale_min, scale_max, criteria)
    family = None
    version = 1
    if previous is not None:
        family_id = previous.family_id or previous.pk
        locked = list(
            ReviewTemplate.objects.select_for_update().filter(pk=family_id)
            | ReviewTemplate.objects.select_for_update().filter(family_id=family_id)
        )
        family = next(t for t in locked if t.pk == family_id)
        version = max(t.version for t in locked) + 1
        ReviewTemplate.objects.filter(pk__in=[t.pk for t in locked]).update(is_current=False)
    template = ReviewTemplate.objects.create(
        name=name.strip(),
        family=family,
        version=version,
        scale_min=scale_min,
        scale_max=scale_max,
        scale_labels=[label.strip() for label in scale_labels if label.strip()],
        created_by=actor,
    )
    TemplateCriterion.objects.bulk_create(
        TemplateCriterion(template=template, position=i, kind=c.kind, title=c.title, weight=c.weight, answer=c.answer)
        for i, c in enumerate(criteria)
    )
    return template


# --- Cycles -----------------------------------------------------------------------------------


def can_run_cycles(user: User) -> bool:
    return user.is_admin or bool(user.is_manager and managed_team_ids(user))


def _clean_cycle(*, name, period_start, period_end, self_deadline, manager_deadline, teams, actor) -> None:
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Give the cycle a name."
    if period_start and period_end and period_end <= period_start:
        errors["period_end"] = "The period must end after it starts."
    if period_start and self_deadline and self_deadline <= period_start:
        errors["self_deadline"] = "The self-assessment deadline must be after the period starts."
    if self_deadline and manager_deadline and manager_deadline < self_deadline:
        errors["manager_deadline"] = "The manager deadline cannot be before the self-assessment deadline."
    if not teams:
        errors["teams"] = "Choose at least one team."
    elif not actor.is_admin:
        allowed = managed_team_ids(actor)
        if any(t.pk not in allowed for t in teams):
            raise PermissionDenied
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cycle_create(
    *,
    actor: User,
    name: str,
    preset: str,
    period_start: dt.date,
    period_end: dt.date,
    teams: list[Team],
    self_deadline: dt.date,
    manager_deadline: dt.date,
    template: ReviewTemplate,
    include_subteams: bool = True,
) -> ReviewCycle:
    if not can_run_cycles(actor):
        raise PermissionDenied
    _clean_cycle(
        name=name,
        period_start=period_start,
        period_end=period_end,
        self_deadline=self_deadline,
        manager_deadline=manager_deadline,
        teams=teams,
        actor=actor,
    )
    cycle = ReviewCycle.objects.create(
        name=name.strip(),
        preset=preset,
        period_start=period_start,
        period_end=period_end,
        self_deadline=self_deadline,
        manager_deadline=manager_deadline,
        template=template,
        include_subteams=include_subteams,
        created_by=actor,
    )
    cycle.teams.set(teams)
    return cycle


def _check_cycle_actor(actor: User, cycle: ReviewCycle) -> None:
    if actor.is_admin:
        return
    allowed = managed_team_ids(actor)
    if not allowed or any(tid not in allowed for tid in cycle.teams.values_list("pk", flat=True)):
        raise PermissionDenied


def cycle_team_ids(cycle: ReviewCycle) -> set[int]:
    roots = list(cycle.teams.values_list("pk", flat=True))
    return descendant_team_ids(roots) if cycle.include_subteams else set(roots)


def _reviewer_for(team: Team, teams_by_id: dict[int, Team], exclude: int) -> User | None:
    """The team's manager, or the first manager up the chain (never the person reviewed)."""
    seen = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        if team.manager_id and team.manager_id != exclude:
            return team.manager
        team = teams_by_id.get(team.parent_id)
    return None


def _kpis_for(rep: User):

    return list(
        Kpi.objects.filter(version__is_current=True, version__document__in=documents_visible_to(rep)).order_by(
            "version__document__team_id", "position", "pk"
        )
    )


def _criteria_for(review: Review, template_criteria: list[TemplateCriterion]) -> list[ReviewCriterion]:

    cycle = review.cycle
    days = (cycle.period_end - cycle.period_start).days + 1
    sla_cache: dict = {}  # the SLA policy book, read once for the review's KPIs
    out: list[ReviewCriterion] = []
    for line in template_criteria:
        base = {"review": review, "kind": line.kind, "weight": line.weight, "answer": line.answer}
        if line.kind == CriterionKind.KPI:
            for kpi in _kpis_for(review.rep):
                out.append(
                    ReviewCriterion(
                        **base,
                        title=kpi.line()[:200],
                        metric=kpi.metric,
                        # THE target (a KPI bound to the SLA: the team's live first-contact minutes)
                        target=kpi_target_for_period(
                            kpi_target(kpi, review.team, sla_cache), kpi.period, kpi.metric, days
                        ),
                        direction="up" if kpi.direction == "at_least" else "down",
                        kpi=kpi,
                    )
                )
        elif line.kind == CriterionKind.GOAL:
            goals = Goal.objects.filter(
                owner=review.rep,
                status=Goal.Status.APPROVED,
                start_date__lte=cycle.period_end,
                end_date__gte=cycle.period_start,
            )
            for goal in goals:
                out.append(
                    ReviewCriterion(
                        **base,
                        title=goal.title,
                        metric=goal.metric,
                        target=goal.target,
                        direction=goal.direction,
                        goal=goal,
                    )
                )
        else:
            out.append(ReviewCriterion(**base, title=line.title))
    for i, criterion in enumerate(out):
        criterion.position = i
    return out


def _open_review(cycle: ReviewCycle, rep: User, team: Team, reviewer: User, template_criteria) -> Review:
    review = Review.objects.create(cycle=cycle, rep=rep, team=team, reviewer=reviewer)
    ReviewCriterion.objects.bulk_create(_criteria_for(review, template_criteria))
    Assessment.objects.bulk_create(
        [
            Assessment(review=review, side=Assessment.Side.SELF, author=rep),
            Assessment(review=review, side=Assessment.Side.MANAGER, author=reviewer),
        ]
    )
    return review


def people_to_review(cycle: ReviewCycle) -> list[tuple[User, Team, User | None]]:
    """(person, team, reviewer): each active rep of the covered teams, and each manager of a
    covered sub-team whose parent team is covered too (reviewed by the manager above)."""
    covered = cycle_team_ids(cycle)
    teams_by_id = {t.pk: t for t in Team.objects.select_related("manager")}
    out: list[tuple[User, Team, User | None]] = []
    seen: set[int] = set()
    memberships = (
        Membership.objects.filter(team_id__in=covered, user__is_active=True, user__role=User.Role.REP)
        .select_related("user")
        .order_by("user_id", "id")
    )
    for m in memberships:
        if m.user_id in seen:
            continue
        seen.add(m.user_id)
        team = teams_by_id[m.team_id]
        out.append((m.user, team, _reviewer_for(team, teams_by_id, m.user_id)))
    for team_id in sorted(covered):
        team = teams_by_id[team_id]
        parent = teams_by_id.get(team.parent_id)
        if team.manager_id and parent is not None and parent.pk in covered and team.manager_id not in seen:
            seen.add(team.manager_id)
            out.append((team.manager, parent, _reviewer_for(parent, teams_by_id, team.manager_id)))
    return out


@transaction.atomic
def cycle_open(*, actor: User, cycle: ReviewCycle, now: dt.datetime | None = None) -> int:
    """Draft -> open: one review per person, the reviewer fixed now. Returns how many."""
    _check_cycle_actor(actor, cycle)
    cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.state != ReviewCycle.State.DRAFT:
        raise ValidationError(f"This cycle is already {cycle.get_state_display().lower()}.")
    people = people_to_review(cycle)
    if not people:
        raise ValidationError("These teams have no active reps: there is nobody to review.")
    missing = [str(person) for person, _, reviewer in people if reviewer is None]
    if missing:
        raise ValidationError(f"No manager to review {', '.join(missing)}: give their team a manager first.")
    template_criteria = list(cycle.template.criteria.all())
    for person, team, reviewer in people:
        review = _open_review(cycle, person, team, reviewer, template_criteria)
        _event(review, actor, "opened", reviewer=reviewer.pk)
    now = now or timezone.now()
    ReviewCycle.objects.filter(pk=cycle.pk).update(state=ReviewCycle.State.OPEN, opened_at=now)
    _notify_opened(cycle)
    return len(people)


def _notify_opened(cycle: ReviewCycle) -> None:
    reviews = list(cycle.reviews.select_related("rep", "reviewer"))
    told: set[int] = set()
    for review in reviews:
        notification_create(
            recipient=review.rep,
            kind=notices.CYCLE_OPENED,
            title=f"{cycle.name}: write your self-assessment by {cycle.self_deadline:%d %b}",
            key=f"review:{review.pk}:opened",
            url=review_url(review),
        )
        if review.reviewer_id not in told:
            told.add(review.reviewer_id)
            count = sum(1 for r in reviews if r.reviewer_id == review.reviewer_id)
            plural = "s" if count != 1 else ""
            notification_create(
                recipient=review.reviewer,
                kind=notices.CYCLE_OPENED,
                title=f"{cycle.name}: {count} review{plural} to write by {cycle.manager_deadline:%d %b}",
                key=f"cycle:{cycle.pk}:opened",
                url=reverse("reviews:cycle-detail", args=[cycle.pk]),
            )


@transaction.atomic
def cycle_add_rep(*, actor: User, cycle: ReviewCycle, rep: User) -> Review:
    """A rep who joined a covered team after opening gets their review."""
    _check_cycle_actor(actor, cycle)
    cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.state != ReviewCycle.State.OPEN:
        raise ValidationError("Reps can be added only while the cycle is open.")
    candidates = {p.pk: (p, team, reviewer) for p, team, reviewer in people_to_review(cycle)}
    if rep.pk not in candidates:
        raise ValidationError(f"{rep} is not an active member of the cycle's teams.")
    if cycle.reviews.filter(rep=rep).exists():
        raise ValidationError(f"{rep} already has a review in this cycle.")
    _, team, reviewer = candidates[rep.pk]
    if reviewer is None:
        raise ValidationError(f"No manager to review {rep}: give their team a manager first.")
    review = _open_review(cycle, rep, team, reviewer, list(cycle.template.criteria.all()))
    _event(review, actor, "added", reviewer=reviewer.pk)
    notification_create(
        recipient=rep,
        kind=notices.CYCLE_OPENED,
        title=f"{cycle.name}: write your self-assessment by {cycle.self_deadline:%d %b}",
        key=f"review:{review.pk}:opened",
        url=review_url(review),
    )
    return review


@transaction.atomic
def cycle_close(*, actor: User, cycle: ReviewCycle, now: dt.datetime | None = None) -> ReviewCycle:
    """Open -> closed: every packet not yet frozen is frozen now (the cut-off)."""
    _check_cycle_actor(actor, cycle)
    now = now or timezone.now()
    changed = ReviewCycle.objects.filter(pk=cycle.pk, state=ReviewCycle.State.OPEN).update(
        state=ReviewCycle.State.CLOSED, closed_at=now
    )
    if changed != 1:
        raise ValidationError("Only an open cycle can be closed.")
    for review in cycle.reviews.filter(frozen_at__isnull=True).select_related("rep", "cycle"):
        review_freeze(review=review, now=now)
    cycle.refresh_from_db()
    return cycle


# --- Reviews ----------------------------------------------------------------------------------


@transaction.atomic
def review_reassign(*, actor: User, review: Review, reviewer: User) -> Review:
    """A new reviewer while assessments are still being written (a manager changed mid-cycle)."""
    _check(actor, "reassign", review)
    if reviewer.pk == review.rep_id:
        raise ValidationError("Nobody reviews themselves.")
    if not reviewer.is_active or not (reviewer.is_admin or review.team_id in managed_team_ids(reviewer)):
        raise ValidationError(f"{reviewer} does not manage {review.team}.")
    previous = review.reviewer_id
    changed = Review.objects.filter(pk=review.pk, state=review.state).update(reviewer=reviewer)
    if changed != 1:
        raise ValidationError("This review was changed meanwhile; reload and try again.")
    Assessment.objects.filter(review=review, side=Assessment.Side.MANAGER).update(author=reviewer)
    review.refresh_from_db()
    _event(review, actor, "reassigned", **{"from": previous, "to": reviewer.pk})
    return review


def review_previous(review: Review) -> Review | None:
    return (
        Review.objects.filter(rep_id=review.rep_id, cycle__period_end__lt=review.cycle.period_start)
        .select_related("cycle")
        .prefetch_related("action_items")
        .order_by("-cycle__period_end")
        .first()
    )


def review_packet(review: Review, *, now: dt.datetime | None = None, slim: bool = False) -> Packet:
    """The live packet of a review (its KPI criteria with their targets, the previous review)."""
    criteria = list(review.criteria.all())
    kpis = [KpiSpec(c.metric, c.target, c.direction, c.title) for c in criteria if c.kind == CriterionKind.KPI]
    return packet_build(
        rep=review.rep,
        start=review.cycle.period_start,
        end=review.cycle.period_end,
        kpis=kpis,
        previous_review=None if slim else review_previous(review),
        now=now,
        slim=slim,
    )


@transaction.atomic
def review_freeze(*, review: Review, now: dt.datetime | None = None) -> bool:
    """Store each packet figure with when and by which rule it was computed. Once only: a
    second call (or a racing one) finds frozen_at set and does nothing."""
    now = now or timezone.now()
    if Review.objects.filter(pk=review.pk, frozen_at__isnull=True).update(frozen_at=now) != 1:
        return False
    packet = review_packet(review, now=now)
    FrozenFigure.objects.bulk_create(
        FrozenFigure(
            review=review,
            key=f.key[:80],
            position=i,
            section=f.section,
            label=f.label[:200],
            value=f.value[:200],
            number=f.number,
            detail=f.detail[:300],
            url=f.url[:500],
            rule=f.rule,
            computed_at=now,
        )
        for i, f in enumerate(packet.figures)
    )
    review.frozen_at = now
    _event(review, None, "frozen")
    return True


@dataclass
class AnswerInput:
    rating: str | int | None = None
    comment: str = ""
    override_reason: str = ""


def target_so_far(criterion: ReviewCriterion, review: Review, at: dt.datetime) -> Decimal | None:
    """A KPI's target for the part of the period elapsed at `at`: a count or sum is expected to
    grow evenly over the period (as goal pacing reads it); a rate or median is judged as it is."""
    if criterion.target is None or criterion.kind != CriterionKind.KPI or not is_cumulative(criterion.metric):
        return criterion.target
    cycle = review.cycle
    start = dt.datetime.combine(cycle.period_start, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(cycle.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    if at >= end:
        return criterion.target
    fraction = max(Decimal(0), Decimal((at - start).total_seconds()) / Decimal((end - start).total_seconds()))
    return (criterion.target * fraction).quantize(Decimal("0.01"))


def computed_ratings(review: Review, figures: dict, criteria: list[ReviewCriterion]) -> dict[int, int]:
    """The default rating of each KPI/goal criterion from its packet figure against its target
    (the target so far while the period is running; frozen figures are read at their freeze time)."""
    template = review.cycle.template
    out = {}
    now = timezone.now()
    for c in criteria:
        figure = figures.get(c.figure_key)
        if figure is None or c.kind not in (CriterionKind.KPI, CriterionKind.GOAL):
            continue
        target = target_so_far(c, review, getattr(figure, "computed_at", None) or now)
        rating = rating_from_figure(figure.number, target, c.direction, template.scale_min, template.scale_max)
        if rating is not None:
            out[c.pk] = rating
    return out


def _parse_rating(raw, template: ReviewTemplate, title: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise ValidationError(f"“{title}”: the rating must be a whole number.") from None
    if not template.scale_min <= value <= template.scale_max:
        raise ValidationError(
            f"“{title}”: ratings go from {template.scale_min} to {template.scale_max}; {value} is outside the scale."
        )
    return value


class StaleDraft(ValidationError):
    """Another tab saved this assessment after this one was loaded."""


@transaction.atomic
def assessment_save(
    *,
    actor: User,
    review: Review,
    side: str,
    version: int,
    highlights: str,
    challenges: str,
    answers: dict[int, AnswerInput],
    figures: dict | None = None,
) -> Assessment:
    """Save a draft of one side. Refused whole (nothing written) on bad input, or when another
    tab saved since `version` was read, so no text is silently overwritten."""
    _check(actor, "self_edit" if side == Assessment.Side.SELF else "manager_edit", review)
    template = review.cycle.template
    criteria = {c.pk: c for c in review.criteria.all()}
    if figures is None:
        figures = figures_for_rating(review)
    computed = computed_ratings(review, figures, list(criteria.values()))
    rows = []
    for criterion_id, given in answers.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise ValidationError("An answer refers to a criterion of another review.")
        rating = None
        if criterion.answer == AnswerKind.RATING:
            rating = _parse_rating(given.rating, template, criterion.title)
        default = computed.get(criterion_id)
        if rating is None and default is not None:
            rating = default
        reason = (given.override_reason or "").strip()
        if default is not None and rating != default and not reason:
            raise ValidationError(
                f"“{criterion.title}”: the figure gives {default}; say why you rate it {rating} (a written reason)."
            )
        rows.append(
            Answer(
                criterion=criterion,
                rating=rating,
                comment=(given.comment or "").strip(),
                computed_rating=default,
                override_reason=reason if default is not None and rating != default else "",
            )
        )
    assessment = Assessment.objects.get(review=review, side=side)
    changed = Assessment.objects.filter(pk=assessment.pk, version=version, submitted_at__isnull=True).update(
        version=F("version") + 1,
        highlights=highlights.strip(),
        challenges=challenges.strip(),
        updated_at=timezone.now(),
    )
    if changed != 1:
        assessment.refresh_from_db()
        if assessment.submitted_at:
            raise ValidationError("This assessment was already submitted; it can no longer be edited.")
        raise StaleDraft(
            f"This draft was saved in another tab or window at {timezone.localtime(assessment.updated_at):%H:%M:%S}. "
            "Your text is still in the form below: copy what you need, reload, and save again."
        )
    for row in rows:
        row.assessment = assessment
    Answer.objects.filter(assessment=assessment, criterion_id__in=[r.criterion_id for r in rows]).delete()
    Answer.objects.bulk_create(rows)
    assessment.refresh_from_db()
    return assessment


def figures_for_rating(review: Review) -> dict:
    """Frozen figures once frozen, else the live packet: what the default ratings read."""
    if review.frozen_at:
        return {f.key: f for f in review.frozen_figures.all()}
    return review_packet(review, slim=True).by_key()


def _score(assessment: Assessment) -> Decimal | None:
    pairs = [
        (c.weight, a.rating if a else None)
        for c in assessment.review.criteria.all()
        if c.answer == AnswerKind.RATING
        for a in [next((x for x in assessment.answers.all() if x.criterion_id == c.pk), None)]
    ]
    return weighted_score(pairs)


def _check_complete(assessment: Assessment) -> None:
    answered = {a.criterion_id: a for a in assessment.answers.all()}
    missing = [
        c.title
        for c in assessment.review.criteria.all()
        if c.answer == AnswerKind.RATING and (answered.get(c.pk) is None or answered[c.pk].rating is None)
    ]
    if missing:
        raise ValidationError(f"Rate every criterion before submitting (missing: {'; '.join(missing[:5])}).")


@transaction.atomic
def review_submit_self(*, actor: User, review: Review, now: dt.datetime | None = None) -> Review:
    _check(actor, "self_submit", review)
    now = now or timezone.now()
    assessment = Assessment.objects.select_for_update().get(review=review, side=Assessment.Side.SELF)
    _check_complete(assessment)
    score = _score(assessment)
    review = _transition(
        review,
        actor=actor,
        action="self_submit",
        to=Review.State.SELF_SUBMITTED,
        self_submitted_at=now,
        self_score=score,
    )
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=now)
    return review


@transaction.atomic
def review_submit_manager(*, actor: User, review: Review, now: dt.datetime | None = None) -> Review:
    """The manager's assessment is final: the packet freezes now (if the cut-off has not already).

    Normally after the rep's self-assessment; once the self-assessment deadline has passed without
    one, the manager may go ahead (the review then records that none was submitted)."""
    _check(actor, "manager_submit", review)
    now = now or timezone.now()
    if review.state == Review.State.DRAFT and timezone.localdate(now) <= review.cycle.self_deadline:
        raise ValidationError(
            f"{review.rep} has until {review.cycle.self_deadline:%d %b} to submit their self-assessment; "
            "you can submit without it after that."
        )
    assessment = Assessment.objects.select_for_update().get(review=review, side=Assessment.Side.MANAGER)
    _check_complete(assessment)
    score = _score(assessment)
    review = _transition(
        review,
        actor=actor,
        action="manager_submit",
        to=Review.State.MANAGER_SUBMITTED,
        manager_submitted_at=now,
        manager_score=score,
    )
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=now)
    review_freeze(review=review, now=now)
    return review


@transaction.atomic
def review_share(*, actor: User, review: Review, now: dt.datetime | None = None) -> Review:
    now = now or timezone.now()
    review = _transition(review, actor=actor, action="share", to=Review.State.SHARED, shared_at=now)
    notification_create(
        recipient=review.rep,
        kind=notices.REVIEW_SHARED,
        title=f"{review.cycle.name}: {review.reviewer} shared your review",
        key=f"review:{review.pk}:shared",
        url=review_url(review),
    )
    return review


@transaction.atomic
def review_acknowledge(*, actor: User, review: Review, comment: str = "", now: dt.datetime | None = None) -> Review:
    """The rep has seen the shared review ("seen", not "agreed")."""
    now = now or timezone.now()
    review = _transition(
        review,
        actor=actor,
        action="acknowledge",
        to=Review.State.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledgement_comment=(comment or "").strip(),
    )
    notification_create(
        recipient=review.reviewer,
        kind=notices.REVIEW_ACKNOWLEDGED,
        title=f"{review.rep} acknowledged their review ({review.cycle.name})",
        key=f"review:{review.pk}:acknowledged",
        url=review_url(review),
    )
    return review


@transaction.atomic
def review_respond(*, actor: User, review: Review, response: str, now: dt.datetime | None = None) -> Review:
    """The rep's written response after acknowledging: once."""
    _check(actor, "respond", review)
    response = (response or "").strip()
    if not response:
        raise ValidationError({"response": "Write your response first."})
    changed = Review.objects.filter(pk=review.pk, state=Review.State.ACKNOWLEDGED, response="").update(
        response=response, responded_at=now or timezone.now()
    )
    if changed != 1:
        raise ValidationError("You have already added your response.")
    review.refresh_from_db()
    _event(review, actor, "responded")
    return review


# --- Action items -----------------------------------------------------------------------------


def _clean_item(text: str, due_date, owner: User, rep: User, manager_ids: set[int]) -> str:
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = "Say what is to be done."
    if due_date is None:
        errors["due_date"] = "Give a due date."
    if owner.pk != rep.pk and owner.pk not in manager_ids:
        errors["owner"] = "The owner is the rep or their manager."
    if errors:
        raise ValidationError(errors)
    return text


@transaction.atomic
def action_item_create(
    *,
    actor: User,
    text: str,
    owner: User,
    due_date: dt.date,
    review: Review | None = None,
    meeting: Meeting | None = None,
    lead_filter: str = "",
) -> ActionItem:
    if (review is None) == (meeting is None):
        raise ValidationError("An action item comes from a review or a 1:1.")
    if review is not None:
        _check(actor, "add_action_item", review)
        rep, team, manager_ids = review.rep, review.team, {review.reviewer_id}
    else:
        series = meeting.series
        if actor.pk not in (series.manager_id, series.rep_id):
            raise PermissionDenied
        if meeting.state == Meeting.State.CANCELLED:
            raise ValidationError("This 1:1 was cancelled.")
        rep, team, manager_ids = series.rep, series.team, {series.manager_id}
    text = _clean_item(text, due_date, owner, rep, manager_ids)
    lead_filter = (lead_filter or "").strip().lstrip("?")
    return ActionItem.objects.create(
        text=text[:300],
        rep=rep,
        team=team,
        owner=owner,
        due_date=due_date,
        review=review,
        meeting=meeting,
        lead_filter=lead_filter[:300],
        created_by=actor,
    )


@transaction.atomic
def action_item_close(
    *, actor: User, item: ActionItem, status: str, reason: str = "", now: dt.datetime | None = None
) -> ActionItem:
    """Open -> done, or dropped with a reason. The owner closes it (or the rep's manager drops it)."""
    if status not in (ActionItem.Status.DONE, ActionItem.Status.DROPPED):
        raise ValidationError("Close an item as done or dropped.")
    is_manager = item.team_id in managed_team_ids(actor) or actor.is_admin
    if actor.pk != item.owner_id and not is_manager:
        raise PermissionDenied
    reason = (reason or "").strip()
    if status == ActionItem.Status.DROPPED and not reason:
        raise ValidationError({"reason": "Say why the item is dropped."})
    changed = ActionItem.objects.filter(pk=item.pk, status=ActionItem.Status.OPEN).update(
        status=status,
        drop_reason=reason if status == ActionItem.Status.DROPPED else "",
        closed_at=now or timezone.now(),
    )
    if changed != 1:
        raise ValidationError("This item is already closed.")
    item.refresh_from_db()
    if item.review_id and status == ActionItem.Status.DONE:
        transaction.on_commit(partial(review_actions_recognise, review_id=item.review_id))
    return item


def review_actions_recognise(*, review_id: int) -> bool:
    """Recognise the rep when every action item of a review is done, each by its due date (in the
    team's zone). Re-reads the rows, so a repeat or a late call decides the same; recognition keys
    the kudos per review, so it is posted once. Returns whether the rule's condition holds."""
    items = list(ActionItem.objects.filter(review_id=review_id).select_related("rep", "team"))
    if not items or any(i.status != ActionItem.Status.DONE or i.closed_at is None for i in items):
        return False
    zone = zoneinfo.ZoneInfo(items[0].team.time_zone or "UTC")
    if any(timezone.localtime(i.closed_at, zone).date() > i.due_date for i in items):
        return False
    try:
        auto_review_actions_done(
            review_id=review_id, rep=items[0].rep, items=len(items), done_at=max(i.closed_at for i in items)
        )
    except Exception:  # recognition must never undo or fail the rep's own act, already committed
        logger.exception("automatic recognition for review %s failed", review_id)
    return True


# --- 1:1s -------------------------------------------------------------------------------------


def _series_zone(series: OneOnOneSeries):
    return zoneinfo.ZoneInfo(series.team.time_zone or "UTC")


def next_slot(series: OneOnOneSeries, after: dt.datetime) -> dt.datetime:
    """The first meeting time strictly after `after`, on the series' weekday and time in the team's zone."""
    zone = _series_zone(series)
    local = after.astimezone(zone)
    day = local.date()
    while True:
        if day.weekday() == series.weekday:
            candidate = dt.datetime.combine(day, series.time, tzinfo=zone)
            if candidate > after:
                return candidate
        day += dt.timedelta(days=1)


STEP = {
    OneOnOneSeries.Cadence.WEEKLY: dt.timedelta(days=7),
    OneOnOneSeries.Cadence.BIWEEKLY: dt.timedelta(days=14),
}


def following_slot(series: OneOnOneSeries, previous: dt.datetime) -> dt.datetime:
    if series.cadence in STEP:
        return next_slot(series, previous + STEP[series.cadence] - dt.timedelta(hours=12))
    # Monthly: the same weekday about four weeks later, then the first such weekday of the next month window.
    return next_slot(series, previous + dt.timedelta(days=27))


@transaction.atomic
def series_create(
    *, actor: User, rep: User, cadence: str, weekday: int, time: dt.time, now: dt.datetime | None = None
) -> OneOnOneSeries:
    team = (
        Team.objects.filter(memberships__user=rep, id__in=managed_team_ids(actor)).order_by("memberships__id").first()
        if not actor.is_admin
        else Team.objects.filter(memberships__user=rep).order_by("memberships__id").first()
    )
    if team is None:
        raise PermissionDenied
    errors = {}
    if cadence not in OneOnOneSeries.Cadence.values:
        errors["cadence"] = "Choose weekly, every two weeks or monthly."
    if not 0 <= int(weekday) <= 6:
        errors["weekday"] = "Choose a day of the week."
    if rep.pk == actor.pk:
        errors["rep"] = "A 1:1 is with someone else."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            series = OneOnOneSeries.objects.create(
                manager=actor, rep=rep, team=team, cadence=cadence, weekday=weekday, time=time
            )
    except IntegrityError:
        raise ValidationError(f"You already have a 1:1 series with {rep}.") from None
    meeting_schedule_next(series=series, now=now)
    return series


def meeting_schedule_next(*, series: OneOnOneSeries, now: dt.datetime | None = None) -> Meeting | None:
    """Make sure the series has its next meeting: after the last one, at the cadence. Safe to
    call again (the slot is unique; a meeting already ahead means nothing to do)."""
    now = now or timezone.now()
    if not series.is_active:
        return None
    last = series.meetings.order_by("-scheduled_at").first()
    if last is not None and last.scheduled_at > now and last.state == Meeting.State.SCHEDULED:
        return None
    if last is None:
        when = next_slot(series, now)
        since = now - dt.timedelta(days=14)
    else:
        when = following_slot(series, last.scheduled_at)
        while when <= now:
            when = following_slot(series, when)
        since = last.scheduled_at
    try:
        with transaction.atomic():
            meeting = Meeting.objects.create(series=series, scheduled_at=when, since=since)
    except IntegrityError:
        return None
    agenda_suggest(meeting=meeting, now=now)
    return meeting


def agenda_suggest(*, meeting: Meeting, now: dt.datetime | None = None) -> int:
    """Suggest agenda items from what happened since the last meeting; one per source, once."""

    made = 0
    for source, text, url in suggestions_for(meeting.series.rep, since=meeting.since, now=now or timezone.now()):
        try:
            with transaction.atomic():
                AgendaItem.objects.create(
                    meeting=meeting,
                    text=text[:300],
                    source=source,
                    evidence_url=url[:500],
                    state=AgendaItem.State.SUGGESTED,
                )
                made += 1
        except IntegrityError:
            continue
    return made


def _check_meeting_person(actor: User, meeting: Meeting, *, manager_only: bool = False) -> None:
    series = meeting.series
    allowed = {series.manager_id} if manager_only else {series.manager_id, series.rep_id}
    if actor.pk not in allowed:
        raise PermissionDenied


@transaction.atomic
def agenda_add(*, actor: User, meeting: Meeting, text: str) -> AgendaItem:
    _check_meeting_person(actor, meeting)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the agenda item."})
    if meeting.state != Meeting.State.SCHEDULED:
        raise ValidationError("The agenda closes when the meeting is held, skipped or cancelled.")
    return AgendaItem.objects.create(meeting=meeting, text=text[:300], added_by=actor)


@transaction.atomic
def agenda_decide(*, actor: User, item: AgendaItem, keep: bool) -> AgendaItem:
    """The manager keeps or dismisses a suggestion (once)."""
    _check_meeting_person(actor, item.meeting, manager_only=True)
    new = AgendaItem.State.KEPT if keep else AgendaItem.State.DISMISSED
    if AgendaItem.objects.filter(pk=item.pk, state=AgendaItem.State.SUGGESTED).update(state=new) != 1:
        raise ValidationError("This suggestion was already decided.")
    item.refresh_from_db()
    return item


@transaction.atomic
def meeting_notes_save(*, actor: User, meeting: Meeting, shared_notes: str, private_note: str | None = None) -> Meeting:
    """Shared notes by either person; the private note only by the manager (the rep's form has none)."""
    _check_meeting_person(actor, meeting)
    fields = {"shared_notes": (shared_notes or "").strip()}
    if private_note is not None:
        if actor.pk != meeting.series.manager_id:
            raise PermissionDenied
        fields["private_note"] = private_note.strip()
    Meeting.objects.filter(pk=meeting.pk).update(**fields)
    meeting.refresh_from_db()
    return meeting


@transaction.atomic
def meeting_close(*, actor: User, meeting: Meeting, state: str, now: dt.datetime | None = None) -> Meeting:
    """Scheduled -> held, skipped or cancelled (the manager), then the next meeting is scheduled."""
    _check_meeting_person(actor, meeting, manager_only=True)
    if state not in (Meeting.State.HELD, Meeting.State.SKIPPED, Meeting.State.CANCELLED):
        raise ValidationError("Mark the meeting held, skipped or cancelled.")
    now = now or timezone.now()
    if state == Meeting.State.HELD and meeting.scheduled_at - now > dt.timedelta(hours=12):
        raise ValidationError("A meeting cannot be held before its day.")
    changed = Meeting.objects.filter(pk=meeting.pk, state=Meeting.State.SCHEDULED).update(state=state, closed_at=now)
    if changed != 1:
        raise ValidationError("This meeting is already closed.")
    meeting.refresh_from_db()
    meeting_schedule_next(series=meeting.series, now=max(now, meeting.scheduled_at))
    return meeting


# --- Reminders (sweeps) -----------------------------------------------------------------------


def reviews_remind(*, now: dt.datetime | None = None) -> int:
    """Deadline notices for open cycles: due in 3 days and overdue, self and manager. Each is
    keyed by review and kind, so running this any number of times tells each person once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    open_reviews = Review.objects.filter(cycle__state=ReviewCycle.State.OPEN).select_related("cycle", "rep", "reviewer")
    for review in open_reviews.filter(state=Review.State.DRAFT, cycle__self_deadline__lte=today + dt.timedelta(days=3)):
        overdue = review.cycle.self_deadline < today
        kind = notices.SELF_OVERDUE if overdue else notices.SELF_DUE
        title = (
            f"Your self-assessment for {review.cycle.name} is overdue (due {review.cycle.self_deadline:%d %b})"
            if overdue
            else f"Your self-assessment for {review.cycle.name} is due {review.cycle.self_deadline:%d %b}"
        )
        key = f"review:{review.pk}:{'self_overdue' if overdue else 'self_due'}"
        sent += bool(notification_create(recipient=review.rep, kind=kind, title=title, key=key, url=review_url(review)))
    pending_manager = open_reviews.filter(
        state__in=[Review.State.DRAFT, Review.State.SELF_SUBMITTED],
        cycle__manager_deadline__lte=today + dt.timedelta(days=3),
    )
    for review in pending_manager:
        overdue = review.cycle.manager_deadline < today
        kind = notices.MANAGER_OVERDUE if overdue else notices.MANAGER_DUE
        what = "overdue" if overdue else f"due {review.cycle.manager_deadline:%d %b}"
        key = f"review:{review.pk}:{'manager_overdue' if overdue else 'manager_due'}:{review.reviewer_id}"
        sent += bool(
            notification_create(
                recipient=review.reviewer,
                kind=kind,
                title=f"Your review of {review.rep} ({review.cycle.name}) is {what}",
                key=key,
                url=review_url(review),
            )
        )
    # The cut-off: a review past the manager deadline freezes its packet even if not yet submitted.
    for review in open_reviews.filter(frozen_at__isnull=True, cycle__manager_deadline__lt=today):
        review_freeze(review=review, now=now)
    return sent


def meetings_remind(*, now: dt.datetime | None = None) -> int:
    """The day before a 1:1, both people, with the agenda: once per meeting and person."""
    now = now or timezone.now()
    sent = 0
    upcoming = Meeting.objects.filter(
        state=Meeting.State.SCHEDULED, scheduled_at__gt=now, scheduled_at__lte=now + dt.timedelta(hours=24)
    ).select_related("series__manager", "series__rep", "series__team")
    for meeting in upcoming.prefetch_related("agenda"):
        agenda = [a.text for a in meeting.agenda.all() if a.state != AgendaItem.State.DISMISSED]
        body = "Agenda:\n" + "\n".join(f"- {t}" for t in agenda) if agenda else "No agenda yet: add to it."
        url = reverse("reviews:meeting-detail", args=[meeting.pk])
        when = timezone.localtime(meeting.scheduled_at, _series_zone(meeting.series))
        for person, other in (
            (meeting.series.manager, meeting.series.rep),
            (meeting.series.rep, meeting.series.manager),
        ):
            sent += bool(
                notification_create(
                    recipient=person,
                    kind=notices.MEETING_TOMORROW,
                    title=f"1:1 with {other} on {when:%a %d %b %H:%M}",
                    body=body,
                    key=f"meeting:{meeting.pk}:tomorrow",
                    url=url,
                )
            )
    return sent


def action_items_remind(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    sent = 0
    overdue = ActionItem.objects.filter(status=ActionItem.Status.OPEN, due_date__lt=timezone.localdate(now))
    for item in overdue.select_related("owner"):
        sent += bool(
            notification_create(
                recipient=item.owner,
                kind=notices.ACTION_ITEM_OVERDUE,
                title=f"Action item overdue since {item.due_date:%d %b}: {item.text}"[:200],
                key=f"action_item:{item.pk}:overdue",
                url=reverse("reviews:action-item-list"),
            )
        )
    return sent


def series_schedule_all(*, now: dt.datetime | None = None) -> int:
    made = 0
    for series in OneOnOneSeries.objects.filter(is_active=True).select_related("team", "rep"):
        made += bool(meeting_schedule_next(series=series, now=now))
    return made


def parse_weight(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.strip())
    except (InvalidOperation, AttributeError):
        return None
