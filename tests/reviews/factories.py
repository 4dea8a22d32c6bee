"""Review factories and builders (own file to keep merges apart)."""

import datetime as dt
from decimal import Decimal

from reviews import services
from reviews.models import ReviewCycle
from reviews.services import CriterionInput


def make_template(admin, *, name="Quarterly review", scale=(1, 5), criteria=None):
    criteria = criteria or [
        CriterionInput("kpi", "KPIs in force", Decimal(2)),
        CriterionInput("goal", "Goals of the period", Decimal(1)),
        CriterionInput("value", "Integrity", Decimal(1)),
        CriterionInput("question", "What will you focus on next?", Decimal(1), "text"),
    ]
    return services.template_save(
        actor=admin, name=name, scale_min=scale[0], scale_max=scale[1], scale_labels=[], criteria=criteria
    )


def make_cycle(actor, teams, template, *, start=None, end=None, self_days=40, manager_days=50, name="Q cycle"):
    start = start or dt.date(2026, 7, 1)
    end = end or dt.date(2026, 9, 30)
    return services.cycle_create(
        actor=actor,
        name=name,
        preset=ReviewCycle.Preset.QUARTERLY,
        period_start=start,
        period_end=end,
        teams=teams,
        self_deadline=start + dt.timedelta(days=self_days),
        manager_deadline=start + dt.timedelta(days=manager_days),
        template=template,
    )


def answers_for(review, rating=3, comment="ok", reason="because"):
    """A full set of answers: every rating criterion rated `rating` (with a reason where a figure rates it)."""
    out = {}
    for c in review.criteria.all():
        out[c.pk] = services.AnswerInput(
            rating=rating if c.answer == "rating" else None, comment=comment, override_reason=reason
        )
    return out


def write(actor, review, side, *, rating=3, highlights="h", challenges="c"):
    from reviews.models import Assessment

    a = Assessment.objects.get(review=review, side=side)
    return services.assessment_save(
        actor=actor,
        review=review,
        side=side,
        version=a.version,
        highlights=highlights,
        challenges=challenges,
        answers=answers_for(review, rating),
    )
