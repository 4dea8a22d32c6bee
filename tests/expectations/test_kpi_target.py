"""A speed-to-lead KPI bound to the SLA has one target wherever it is read (issue 9, item 9).

The document and scorecard said 5 minutes (the live policy); the document editor, the goal form's
KPI list and a goal created from it said 15 (the written target). Every reader now asks
`kpis.kpi_target`.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from accountability.expectations import kpis as kpi_module
from accountability.expectations import services
from tests.expectations.factories import draft_with_content

pytest.importorskip("leads.sla.selectors")

pytestmark = pytest.mark.django_db


def add_bound_kpi(admin, draft):
    return services.kpi_add(
        actor=admin,
        version=draft,
        metric="speed_to_lead_median",
        direction="at_most",
        target=Decimal(15),
        period="week",
        bind_to_sla=True,
    )


@pytest.fixture
def policy(db):
    from tests.sla.factories import SlaPolicyFactory

    return SlaPolicyFactory(first_contact_minutes=5)  # the organisation default


@pytest.fixture
def bound(org, policy):
    draft = draft_with_content(org["admin"], kpis=0)
    add_bound_kpi(org["admin"], draft)
    version = services.version_publish(actor=org["admin"], version=draft, change_summary="Bound")
    return version.kpis.get()


def test_one_function_gives_the_bound_target(org, bound):
    assert kpi_module.kpi_target(bound) == Decimal(5)  # the document's scope: the organisation default
    assert kpi_module.kpi_target(bound, team=org["north"]) == Decimal(5)
    assert "at most 5, weekly (bound to the follow-up SLA policy)" in bound.line()
    assert "15" not in bound.line()


def test_a_team_policy_is_the_target_for_that_team(org, bound):
    from tests.sla.factories import SlaPolicyFactory

    SlaPolicyFactory(team=org["north"], first_contact_minutes=30)
    assert kpi_module.kpi_target(bound, team=org["north"]) == Decimal(30)
    assert kpi_module.kpi_target(bound, team=org["south"]) == Decimal(5)
    assert kpi_module.kpi_target(bound) == Decimal(5)


def test_an_unbound_kpi_keeps_its_written_target(org, policy):
    draft = draft_with_content(org["admin"], kpis=1)
    kpi = draft.kpis.get()
    assert kpi_module.kpi_target(kpi, team=org["north"]) == kpi.target == Decimal(20)


def test_the_document_editor_shows_the_policys_target(org, login, policy):
    draft = draft_with_content(org["admin"], kpis=0)
    add_bound_kpi(org["admin"], draft)
    body = login(org["admin"]).get(reverse("expectations:draft-edit", args=[draft.document_id])).content.decode()
    assert "Speed to lead (median minutes) at most 5, weekly (bound to the follow-up SLA policy)" in body
    assert "at most 15" not in body


def test_the_document_and_the_scorecard_show_the_same_target(org, login, bound):
    client = login(org["alice"])
    document = client.get("/expectations/").content.decode()
    assert "at most 5" in document and "at most 15" not in document
    scorecard = client.get("/expectations/scorecard/").content.decode()
    assert "/ 5" in scorecard and "/ 15" not in scorecard


def test_the_goal_form_lists_and_uses_the_policys_target(org, login, bound):
    from goals.models import Goal

    client = login(org["alice"])
    form = client.get(reverse("goals:goal-create")).content.decode()
    assert "Speed to lead (median minutes) at most 5, weekly (bound to the follow-up SLA policy)" in form
    assert "at most 15" not in form
    response = client.post(
        reverse("goals:goal-create"),
        {
            "title": "Answer every lead fast",
            "description": "First contact within the SLA.",
            "kpi": bound.pk,
            "metric": "",
            "target": "",
            "direction": "",
            "preset": "monthly",
            "start_date": "2026-12-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    goal = Goal.objects.get()
    assert (goal.metric, goal.target) == ("speed_to_lead_median", Decimal(5))


def test_a_review_opened_with_the_bound_kpi_takes_the_live_target(org, bound):
    """Reviews read the same target: the team's live first-contact minutes, not the written 15."""
    from reviews import services as review_services
    from reviews.models import ReviewCriterion
    from tests.reviews.factories import make_cycle, make_template

    cycle = make_cycle(org["admin"], [org["north"]], make_template(org["admin"]))
    review_services.cycle_open(actor=org["admin"], cycle=cycle)
    criterion = ReviewCriterion.objects.get(review__rep=org["alice"], metric="speed_to_lead_median")
    assert criterion.target == Decimal(5)
