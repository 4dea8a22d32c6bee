"""Relevant: a goal may serve a KPI of the current expectations instead of (or as well as) a reason."""

from decimal import Decimal

import pytest
from django.urls import reverse

from goals.models import Goal
from tests.expectations.factories import draft_with_content, published

pytestmark = pytest.mark.django_db

VALID = {
    "title": "Convert more",
    "description": "Turn more closed deals into wins.",
    "metric": "",
    "unit": "",
    "direction": "",
    "target": "",
    "reason": "",
    "preset": "monthly",
    "start_date": "2026-12-01",
}


def test_a_goal_serving_a_kpi_needs_no_reason_and_takes_its_measure(login, alice, admin):
    version = published(admin, kpis=1)  # conversion rate at least 20, monthly
    kpi = version.kpis.get()
    response = login(alice).post(reverse("goals:goal-create"), {**VALID, "kpi": kpi.pk})
    assert response.status_code == 302
    goal = Goal.objects.get()
    assert (goal.kpi, goal.reason, goal.metric, goal.direction, goal.target) == (
        kpi,
        "",
        "conversion_rate",
        "up",
        Decimal(20),
    )
    text = login(alice).get(reverse("goals:goal-detail", args=[goal.pk])).text
    assert "Serves the KPI" in text and "Conversion rate (%) at least 20, monthly" in text


def test_without_reason_or_kpi_relevant_is_named(login, alice, admin):
    published(admin, kpis=1)
    response = login(alice).post(reverse("goals:goal-create"), {**VALID, "metric": "calls", "target": "10"})
    assert "relevant (reason or KPI)" in response.text
    assert not Goal.objects.exists()


def test_only_kpis_of_current_readable_expectations_are_offered(login, alice, charlie, admin, south):
    current = published(admin, kpis=1).kpis.get()
    south_kpi = published(admin, team=south, title="South expectations", kpis=1).kpis.get()
    draft_kpi = draft_with_content(admin, kpis=1).kpis.first()  # the org document's next draft
    response = login(alice).get(reverse("goals:goal-create"))
    options = response.context["form"].fields["kpi"].queryset
    assert list(options) == [current]
    for kpi in (south_kpi, draft_kpi):
        response = login(alice).post(reverse("goals:goal-create"), {**VALID, "kpi": kpi.pk})
        assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not Goal.objects.exists()
    assert south_kpi in login(charlie).get(reverse("goals:goal-create")).context["form"].fields["kpi"].queryset


def test_service_refuses_a_kpi_of_an_old_version(alice, admin):
    import datetime as dt

    from django.core.exceptions import ValidationError

    from goals.services import goal_propose

    old = published(admin, kpis=1).kpis.get()
    published(admin, summary="Second version.", kpis=1)
    fields = {**VALID, "metric": "calls", "target": "10", "direction": "up", "kpi": old}
    fields.update(start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        goal_propose(actor=alice, **fields)
    assert "current expectations" in str(exc.value)
    assert not Goal.objects.exists()


def test_a_goal_keeps_its_kpi_when_a_new_version_is_published(alice, maria, admin):
    import datetime as dt

    from goals.services import goal_propose, goal_update

    kpi = published(admin, kpis=1).kpis.get()
    fields = {
        "title": "Convert more",
        "description": "Turn more closed deals into wins.",
        "metric": "conversion_rate",
        "unit": "",
        "target": "20",
        "direction": "up",
        "reason": "",
        "preset": "monthly",
        "start_date": dt.date(2026, 12, 1),
        "end_date": dt.date(2026, 12, 31),
    }
    goal = goal_propose(actor=alice, kpi=kpi, **fields)
    published(admin, summary="Second version.", kpis=1)
    goal_update(actor=maria, goal=goal, comment="A bit higher", kpi=kpi, **{**fields, "target": "22"})
    goal.refresh_from_db()
    assert (goal.kpi, goal.target) == (kpi, Decimal(22))
