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
    from django.core.exceptions import ValidationError

    from goals.services import goal_propose

    old = published(admin, kpis=1).kpis.get()
    published(admin, summary="Second version.", kpis=1)
    old.version.refresh_from_db()
    fields = {**VALID, "metric": "calls", "target": "10", "end_date": None, "kpi": old}
    fields.pop("start_date")
    import datetime as dt

    with pytest.raises(ValidationError) as exc:
        goal_propose(actor=alice, start_date=dt.date(2026, 12, 1), **{**fields, "end_date": dt.date(2026, 12, 31)})
    assert "current expectations" in str(exc.value)
