import factory

from leads.models import FollowUp, TeamIntakeSettings
from tests.factories import LeadFactory, TeamFactory, UserFactory


class TeamIntakeSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamIntakeSettings
        django_get_or_create = ("team",)

    team = factory.SubFactory(TeamFactory)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    lead = factory.SubFactory(LeadFactory)
    owner = factory.LazyAttribute(lambda o: o.lead.owner or UserFactory())
    state = FollowUp.State.OPEN
