import pytest
from django.core.management import call_command

from accountability.demo import seed_org
from leads.models import RepDay
from reviews import drift_demo
from reviews.models import DriftFlag

pytestmark = pytest.mark.django_db


def test_demo_has_a_rollup_and_an_open_flag_on_marias_team(capsys):
    call_command("seed_demo")
    assert RepDay.objects.filter(user__username="alice").count() >= 90
    ctx = seed_org()
    drift_demo.seed(ctx)
    flags = DriftFlag.objects.filter(rep__teams__name="Inbound East", state=DriftFlag.State.OPEN)
    assert flags.exists()
    # Twice is the same.
    count = DriftFlag.objects.count()
    call_command("seed_demo")
    drift_demo.seed(seed_org())
    assert DriftFlag.objects.count() == count
