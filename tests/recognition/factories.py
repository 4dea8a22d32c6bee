import factory

from recognition.models import CompanyValue, Kudos, KudosRecipient


class CompanyValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyValue
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Value {n}")
    description = "What it means."


def make_kudos(giver, recipients, *, message="Called the Acme lead back within five minutes.", values=(), **fields):
    """A kudos written directly (for selector and page tests that need many rows fast)."""
    kudos = Kudos.objects.create(giver=giver, message=message, **fields)
    KudosRecipient.objects.bulk_create(
        [KudosRecipient(kudos=kudos, user=r, created_at=kudos.created_at) for r in recipients]
    )
    if values:
        kudos.values.set(values)
    return kudos
