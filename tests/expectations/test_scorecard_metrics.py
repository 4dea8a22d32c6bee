"""The scorecard against the real leads.metrics figures, hand-computed from the rows below."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accountability.expectations import services
from tests.expectations.factories import draft_with_content
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def cells(body: str, username: str) -> list[str]:
    """The text of each KPI cell in a rep's row: "4 / 4 met"."""
    row = body.split(f'data-testid="scorecard-row" data-user="{username}"')[1].split("</tr>")[0]
    texts = []
    for cell in row.split('data-testid="score-cell"')[1:]:
        inner = cell.split(">", 1)[1].split("</td>")[0]
        texts.append(" ".join(re.sub(r"<[^>]*>", " ", inner).split()))
    return texts


@pytest.fixture
def kpis(org):
    draft = draft_with_content(org["admin"], kpis=0)
    for metric, direction, target, period in [
        ("activities", "at_least", "4", "week"),
        ("conversion_rate", "at_least", "20", "month"),
    ]:
        services.kpi_add(
            actor=org["admin"],
            version=draft,
            metric=metric,
            direction=direction,
            target=Decimal(target),
            period=period,
        )
    return services.version_publish(actor=org["admin"], version=draft, change_summary="KPIs")


def test_reps_against_activities_and_conversion(org, login, kpis, wednesday):
    alice, bob = org["alice"], org["bob"]
    now = timezone.now()
    lead = LeadFactory(owner=alice)
    for kind in ("call", "call", "email", "note"):  # 4 logged entries this week
        ActivityFactory(lead=lead, kind=kind, actor=alice, occurred_at=now)
    ActivityFactory(lead=lead, kind="call", actor=alice, occurred_at=now - timedelta(days=40))  # too old
    ActivityFactory(lead=lead, kind="assigned", actor=alice, occurred_at=now)  # system entry: not logged work
    ActivityFactory(lead=LeadFactory(owner=bob), kind="email", actor=bob, occurred_at=now)  # bob: 1
    # Conversion this month: alice won 1 of 4 closed (25.0 %); bob closed none (no figure).
    LeadFactory(owner=alice, stage="won", closed_at=now)
    for _ in range(3):
        LeadFactory(owner=alice, stage="lost", closed_at=now)
    LeadFactory(owner=bob, stage="proposal")  # open: neither helps nor hurts

    body = login(alice).get("/expectations/scorecard/").content.decode()
    activities, conversion = cells(body, "alice")
    assert activities == "4 / 4 met"
    assert conversion == "25 / 20 on track"  # a rate mid-month: paced, not yet met

    body = login(org["maria"]).get("/expectations/scorecard/").content.decode()
    activities, conversion = cells(body, "bob")
    assert activities == "1 / 4 at risk 1.4 expected by now"  # 4 x 2.5/7 days; 1 is 70 %
    assert conversion == "no data / 20"
    assert 'data-user="charlie"' not in body


@pytest.mark.parametrize("extra", [3, 30])
def test_manager_scorecard_queries_stay_constant_with_real_metrics(org, login, kpis, extra, django_assert_num_queries):
    from tests.factories import MembershipFactory, UserFactory

    for i in range(extra):
        rep = UserFactory(username=f"rep{i}", role="rep")
        MembershipFactory(user=rep, team=org["north"])
        ActivityFactory(lead=LeadFactory(owner=rep), actor=rep)
    client = login(org["maria"])
    # 17 for the page (see test_scorecard.py) + one metrics query per KPI (2 KPIs)
    # + the daily rollup's coverage query (leads.metrics.rollup) per KPI's metrics call (2).
    # +1: the rollup's version, read once while the cache is cold (leads.metrics.closedcache).
    with django_assert_num_queries(22):
        response = client.get("/expectations/scorecard/")
    assert response.content.decode().count('data-testid="scorecard-row"') == extra + 2
