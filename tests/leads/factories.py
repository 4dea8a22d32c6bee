import factory

from leads.models import TeamIntakeSettings
from tests.factories import TeamFactory


class TeamIntakeSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamIntakeSettings
        django_get_or_create = ("team",)

    team = factory.SubFactory(TeamFactory)
