import datetime as dt

import factory

from leads.sla.models import BusinessHours, Holiday, SlaPolicy

ALL_DAY = dict.fromkeys(range(7), ("00:00", "24:00"))


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    """A policy; `hours=[(weekday, opens_min, closes_min), ...]` (default: open all day, every day)."""

    class Meta:
        model = SlaPolicy
        skip_postgeneration_save = True

    team = None
    first_contact_minutes = 15
    reminder_before_minutes = 5
    overdue_reminder_minutes = 0
    no_follow_up_after_minutes = 120
    escalation_grace_minutes = 60
    second_level_delay_minutes = 240

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        windows = extracted if extracted is not None else [(day, 0, 1440) for day in range(7)]
        BusinessHours.objects.bulk_create(
            [BusinessHours(policy=self, weekday=d, opens=o, closes=c) for d, o, c in windows]
        )


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    team = None
    date = dt.date(2026, 12, 25)
    name = "Christmas Day"
