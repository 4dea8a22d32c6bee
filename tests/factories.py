import datetime as dt

import factory

from accountability.models import Membership, Team, User
from leads.models import FollowUp

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.REP
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    time_zone = "UTC"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)


class IntakeSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.IntakeSource"

    name = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    team = factory.SubFactory(TeamFactory)


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead in its owner's first team (pass team= when the owner has none)."""

    class Meta:
        model = "leads.Lead"

    name = factory.Faker("name")
    company = factory.Faker("company")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.teams.first() if o.owner else None)
    value = 1000
    # leads.services stores speed to lead in business time at the first contact; a factory lead
    # given first_contacted_at gets its wall-clock minutes (as under an always-open policy)
    # unless the test passes first_contact_business_minutes itself.
    first_contact_business_minutes = factory.LazyAttribute(
        lambda o: (
            (o.first_contacted_at - o.arrived_at).total_seconds() / 60
            if getattr(o, "first_contacted_at", None) and getattr(o, "arrived_at", None)
            else None
        )
    )


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Activity"

    lead = factory.SubFactory(LeadFactory)
    kind = "call"
    actor = factory.LazyAttribute(lambda o: o.lead.owner)
    outcome = "connected"


class FollowUpFactory(factory.django.DjangoModelFactory):
    """The one follow-up factory: the lead's owner's open follow-up, set (created_at) a day before
    it is due unless `created_at` is given."""

    class Meta:
        model = FollowUp

    lead = factory.SubFactory(LeadFactory)
    owner = factory.LazyAttribute(lambda o: o.lead.owner or UserFactory())
    state = FollowUp.State.OPEN

    @classmethod
    def _create(cls, model_class, *args, created_at=None, **kwargs):
        # created_at is auto_now_add: set it afterwards (default: a day before the due time).
        obj = super()._create(model_class, *args, **kwargs)
        obj.created_at = created_at or obj.due_at - dt.timedelta(days=1)
        model_class.objects.filter(pk=obj.pk).update(created_at=obj.created_at)
        return obj
