"""The recognition demo: deterministic, the story it tells, and safe to run twice."""

import pytest
from django.core.management import call_command

from recognition.models import AutoKudos, AwardWinner, CompanyValue, Kudos
from recognition.selectors import settings_get

pytestmark = pytest.mark.django_db


def counts():
    return {
        "values": CompanyValue.objects.count(),
        "peer": Kudos.objects.filter(giver__isnull=False).count(),
        "with_evidence": Kudos.objects.filter(giver__isnull=False, lead__isnull=False).count(),
        "goal_met": AutoKudos.objects.filter(rule__code="goal_met", state="posted").count(),
        "lead_saved": AutoKudos.objects.filter(rule__code="lead_saved", state="posted").count(),
        "winners": AwardWinner.objects.count(),
    }


def test_demo_tells_the_recognition_story_and_is_safe_to_run_twice(capsys):
    call_command("seed_demo")
    first = counts()
    print(first)
    assert list(CompanyValue.objects.values_list("name", flat=True)) == ["Honesty first", "Respect the no", "Own it"]
    assert first["peer"] == 13 and first["with_evidence"] >= 3
    assert first["goal_met"] >= 1 and first["lead_saved"] >= 1
    assert first["winners"] >= 1
    assert settings_get().leaderboard_mode == "off"
    call_command("seed_demo")
    assert counts() == first
