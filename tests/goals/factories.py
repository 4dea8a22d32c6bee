import datetime as dt
from decimal import Decimal

import factory

from goals.models import CheckIn, Commitment, Goal, GoalEvent
from goals.selectors import week_start
from tests.factories import UserFactory


class GoalFactory(factory.django.DjangoModelFactory):
    """An approved monthly manual goal for a rep, November 2026 (pass team= and owner=None for a team goal)."""

    class Meta:
        model = Goal

    owner = factory.SubFactory(UserFactory)
    team = None
    title = factory.Sequence(lambda n: f"Goal {n}")
    description = "Book demos with qualified inbound leads."
    metric = "manual"
    unit = "demos"
    target = Decimal("10")
    direction = "up"
    reason = "Demos convert best."
    preset = Goal.Preset.MONTHLY
    start_date = dt.date(2026, 11, 1)
    end_date = dt.date(2026, 11, 30)
    status = Goal.Status.APPROVED
    created_by = factory.LazyAttribute(lambda o: o.owner or UserFactory())


class GoalEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoalEvent

    goal = factory.SubFactory(GoalFactory)
    kind = GoalEvent.Kind.PROPOSED


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    goal = factory.SubFactory(GoalFactory)
    author = factory.LazyAttribute(lambda o: o.goal.owner)
    value = Decimal("1")


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    owner = factory.SubFactory(UserFactory)
    week_start = factory.LazyFunction(week_start)
    text = factory.Sequence(lambda n: f"Call {n + 10} new leads")
