import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_bench_refuses_a_database_that_is_not_a_bench_database(org):
    # The test database is not named *bench* (and on SQLite the command refuses SQLite first).
    LeadFactory(owner=org["alice"])
    with pytest.raises(CommandError, match=r"Refusing to run on database|needs PostgreSQL"):
        call_command("bench_leads", "--reuse")
    assert Lead.objects.count() == 1  # nothing deleted


def test_live_bench_refuses_a_database_that_is_not_a_bench_database(org):
    with pytest.raises(CommandError, match=r"Refusing to run on database|needs PostgreSQL"):
        call_command("bench_live", "--tabs", "2")
