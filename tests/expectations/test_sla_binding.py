"""A speed-to-lead KPI bound to the follow-up SLA shows the live policy and uses its first-contact
minutes as its target, so the document and the escalation clock can never disagree."""

from decimal import Decimal

import pytest

from accountability.expectations import kpis as kpi_module
from accountability.expectations import services
from tests.expectations.factories import draft_with_content

pytest.importorskip("leads.sla.selectors")

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(org):
    draft = draft_with_content(org["admin"], kpis=0)
    services.kpi_add(
        actor=org["admin"],
        version=draft,
        metric="speed_to_lead_median",
        direction="at_most",
        target=Decimal(15),
        period="week",
        bind_to_sla=True,
    )
    return services.version_publish(actor=org["admin"], version=draft, change_summary="Bound")


def test_the_document_shows_the_live_policy_of_the_readers_team(org, login, bound):
    from leads.sla.models import SlaPolicy

    SlaPolicy.objects.create(team=None, first_contact_minutes=20)
    SlaPolicy.objects.create(team=org["north"], first_contact_minutes=45)
    alice = login(org["alice"]).get("/expectations/").content.decode()
    assert "North: First contact within 45 minutes of business time" in alice
    assert "at most 45" in alice and "at most 15" not in alice
    charlie = login(org["charlie"]).get("/expectations/").content.decode()
    assert "South: First contact within 20 minutes of business time" in charlie  # the organisation default
    admin = login(org["admin"]).get(f"/expectations/{bound.document_id}/v1/").content.decode()
    assert "Organisation default: First contact within 20 minutes" in admin


def test_changing_the_policy_changes_the_kpi_target_at_once(org, bound):
    from leads.sla.models import SlaPolicy

    policy = SlaPolicy.objects.create(team=org["north"], first_contact_minutes=30)
    kpi = bound.kpis.get()
    assert kpi_module.effective_target(kpi, kpi_module.sla_binding(org["north"])) == Decimal(30)
    SlaPolicy.objects.filter(pk=policy.pk).update(first_contact_minutes=10)
    assert kpi_module.effective_target(kpi, kpi_module.sla_binding(org["north"])) == Decimal(10)


def test_the_scorecard_judges_speed_to_lead_against_the_policy(org, login, bound, monkeypatch):
    from leads.sla.models import SlaPolicy

    SlaPolicy.objects.create(team=org["north"], first_contact_minutes=30)
    body = login(org["alice"]).get("/expectations/scorecard/").content.decode()
    row = body.split('data-user="alice"')[1].split("</tr>")[0]
    assert "/ 30" in row and "/ 15" not in row


@pytest.mark.parametrize("extra", [3, 30])
def test_bound_scorecard_queries_do_not_grow_with_reps(org, login, bound, extra, django_assert_num_queries):
    from leads.sla.models import SlaPolicy
    from tests.factories import MembershipFactory, UserFactory

    SlaPolicy.objects.create(team=org["north"], first_contact_minutes=30)
    for i in range(extra):
        MembershipFactory(user=UserFactory(username=f"rep{i}", role="rep"), team=org["north"])
    client = login(org["maria"])
    # 17 for the page (see test_scorecard.py), 1 speed-to-lead metrics query, and the SLA policy
    # book once per team on the page (policies, teams, business hours: 3), and the daily rollup's
    # coverage query for the metrics call (leads.metrics.rollup): 22 for any number of reps.
    # +1: the rollup's version, read once while the cache is cold (leads.metrics.closedcache).
    with django_assert_num_queries(23):
        body = client.get("/expectations/scorecard/").content.decode()
    assert body.count("/ 30") == extra + 2


def test_the_policy_book_is_read_once_for_all_the_teams_on_a_page(org, login, bound, django_assert_max_num_queries):
    from leads.sla.models import SlaPolicy

    SlaPolicy.objects.create(team=org["north"], first_contact_minutes=30)
    SlaPolicy.objects.create(team=org["south"], first_contact_minutes=45)
    client = login(org["helen"])  # manages Sales, North and South: three teams on the page
    client.get("/expectations/scorecard/")
    with django_assert_max_num_queries(50) as page:
        body = client.get("/expectations/scorecard/").content.decode()
    policy_reads = [q["sql"] for q in page.captured_queries if 'FROM "sla_slapolicy"' in q["sql"]]
    assert len(policy_reads) == 1
    assert "/ 30" in body and "/ 45" in body
