"""Each rep against the current KPIs. The figures come from leads.metrics; these tests pin the
scorecard's own logic (who is shown, which target, met or not) with a stand-in metrics module,
and test_scorecard_metrics.py checks real figures end to end."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accountability.expectations import kpis as kpi_module
from accountability.expectations import services, targets
from accountability.expectations.models import Kpi
from tests.expectations.factories import draft_with_content
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class FakePeriod:
    start: datetime
    end: datetime


class FakeMetrics:
    """Returns preset figures per (metric, username) and records each call."""

    Period = FakePeriod

    def __init__(self, figures):
        self.figures = figures
        self.calls = []

    def metric_values_by_user(self, metric, *, period, users):
        self.calls.append((metric, period))
        return {u.pk: self.figures.get((metric, u.username)) for u in users}


@pytest.fixture
def fake_metrics(monkeypatch):
    def install(figures):
        fake = FakeMetrics(figures)
        monkeypatch.setattr(kpi_module, "_metrics", lambda: fake)
        return fake

    return install


def publish_kpis(admin, rows, team=None, title="Sales expectations"):
    draft = draft_with_content(admin, kpis=0, team=team, title=title)
    for metric, direction, target, period, *bind in rows:
        services.kpi_add(
            actor=admin,
            version=draft,
            metric=metric,
            direction=direction,
            target=Decimal(target),
            period=period,
            bind_to_sla=bool(bind),
        )
    return services.version_publish(actor=admin, version=draft, change_summary="KPIs")


def cell_texts(body: str, username: str) -> list[str]:
    row = body.split(f'data-testid="scorecard-row" data-user="{username}"')[1].split("</tr>")[0]
    cells = row.split('data-testid="score-cell"')[1:]
    return [" ".join(c.split(">", 1)[1].split()) for c in cells]


def test_a_rep_sees_themselves_against_each_kpi(org, login, fake_metrics, wednesday):
    publish_kpis(
        org["admin"],
        [("conversion_rate", "at_least", "20", "month"), ("speed_to_lead_median", "at_most", "15", "week")],
    )
    fake = fake_metrics(
        {("conversion_rate", "alice"): Decimal("25.0"), ("speed_to_lead_median", "alice"): Decimal("31.5")}
    )
    body = login(org["alice"]).get("/expectations/scorecard/").content.decode()
    assert body.count('data-testid="scorecard-row"') == 1
    conversion, speed = cell_texts(body, "alice")
    # Mid-period: paced like a goal, no final verdict yet (a rate is expected at its target all along).
    assert "25" in conversion and "/ 20" in conversion and "on track" in conversion and "met" not in conversion
    assert "31.5" in speed and "/ 15" in speed and "behind" in speed and "met" not in speed  # 15/31.5 = 48 %
    # Each KPI is measured over its own period: this month and this week (from Monday).
    periods = dict(fake.calls)
    now = timezone.localtime()
    assert periods["conversion_rate"].start == now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    week = periods["speed_to_lead_median"]
    assert week.start.weekday() == 0 and (week.end - week.start).days == 7 and week.start <= now < week.end


def test_no_figure_shows_no_data_rather_than_a_verdict(org, login, fake_metrics):
    publish_kpis(org["admin"], [("follow_up_compliance", "at_least", "90", "week")])
    fake_metrics({})
    body = login(org["alice"]).get("/expectations/scorecard/").content.decode()
    (cell,) = cell_texts(body, "alice")
    assert "no data" in cell and "met" not in cell


def test_a_manager_sees_each_rep_of_their_teams_only(org, login, fake_metrics, wednesday):
    publish_kpis(org["admin"], [("activities", "at_least", "60", "week")])
    fake_metrics({("activities", "alice"): Decimal(61), ("activities", "bob"): Decimal(12)})
    body = login(org["maria"]).get("/expectations/scorecard/").content.decode()
    assert 'data-user="alice"' in body and 'data-user="bob"' in body
    assert 'data-user="charlie"' not in body and 'data-user="maria"' not in body
    # 61 of 60 is met already; 12 against 21.4 expected by Wednesday noon is behind
    assert "met" in cell_texts(body, "alice")[0] and "behind" in cell_texts(body, "bob")[0]
    assert login(org["maria"]).get(f"/expectations/scorecard/?team={org['south'].pk}").status_code == 404
    body = login(org["helen"]).get(f"/expectations/scorecard/?team={org['south'].pk}").content.decode()
    assert 'data-user="charlie"' in body and 'data-user="alice"' not in body


def test_team_kpis_apply_only_to_that_team(org, login, fake_metrics):
    publish_kpis(org["admin"], [("activities", "at_least", "60", "week")])
    publish_kpis(org["admin"], [("calls", "at_least", "40", "week")], team=org["north"], title="North extras")
    fake_metrics({})
    body = login(org["helen"]).get("/expectations/scorecard/").content.decode()
    north_card = body.split("North extras")[1]
    assert 'data-user="alice"' in north_card and 'data-user="charlie"' not in north_card


def test_a_bound_kpi_takes_its_target_from_the_sla_policy(org, login, fake_metrics, monkeypatch, wednesday):
    publish_kpis(org["admin"], [("speed_to_lead_median", "at_most", "15", "week", True)])
    fake_metrics({("speed_to_lead_median", "alice"): Decimal("20.0")})

    class Policy:
        pk = 1
        first_contact_minutes = 30

        def describe(self):
            return "First contact within 30 minutes of business time after a lead arrives."

    monkeypatch.setattr(targets, "_policy_for_team", lambda: lambda team: Policy())
    client = login(org["alice"])
    (cell,) = cell_texts(client.get("/expectations/scorecard/").content.decode(), "alice")
    assert "/ 30" in cell and "on track" in cell  # 20 minutes meets the policy's 30, not the written 15
    page = client.get("/expectations/").content.decode()
    assert "From the follow-up SLA policy" in page
    assert "North: First contact within 30 minutes of business time after a lead arrives." in page
    assert "at most 30" in page and "at most 15" not in page  # the document shows the live value only


def test_without_sla_policies_a_bound_kpi_keeps_its_written_target(org, login, fake_metrics, monkeypatch, wednesday):
    publish_kpis(org["admin"], [("speed_to_lead_median", "at_most", "15", "week", True)])
    fake_metrics({("speed_to_lead_median", "alice"): Decimal("20.0")})
    monkeypatch.setattr(targets, "_policy_for_team", lambda: None)
    client = login(org["alice"])
    (cell,) = cell_texts(client.get("/expectations/scorecard/").content.decode(), "alice")
    assert "/ 15" in cell and "at risk" in cell  # 15/20 = 75 % of the target
    assert "the written target applies until a policy is set" in client.get("/expectations/").content.decode()


def test_is_met_follows_the_direction():
    at_least = Kpi(metric="calls", target=Decimal(40), direction="at_least", period="week")
    at_most = Kpi(metric="speed_to_lead_median", target=Decimal(15), direction="at_most", period="week")
    assert at_least.is_met(Decimal(40)) and not at_least.is_met(Decimal("39.9"))
    assert at_most.is_met(Decimal(15)) and not at_most.is_met(Decimal("15.1"))
    assert at_most.is_met(None) is None


def test_quarter_bounds():
    tz = timezone.get_current_timezone()
    start, end = kpi_module.period_bounds("quarter", timezone.make_aware(datetime(2026, 11, 25, 13, 0), tz))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-10-01", "2027-01-01")
    start, end = kpi_module.period_bounds("month", timezone.make_aware(datetime(2026, 12, 31, 23, 0), tz))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-12-01", "2027-01-01")


@pytest.mark.parametrize("extra", [3, 30])
def test_manager_scorecard_query_count_is_constant(org, login, fake_metrics, extra, django_assert_num_queries):
    publish_kpis(
        org["admin"],
        [("activities", "at_least", "60", "week"), ("calls", "at_least", "30", "week")],
    )
    for i in range(extra):
        MembershipFactory(user=UserFactory(username=f"rep{i}", role="rep"), team=org["north"])
    fake = fake_metrics({})
    client = login(org["maria"])
    # 2 session + user, 1 unread, 1 banner, 2 managed teams, 1 team list, 5 people/versions/tree/
    # memberships/acknowledgements, 2 versions + KPIs, 1 primary teams. The metrics module adds its
    # own constant number per KPI (a stand-in here: zero).
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    # +1: the reps' figures zones, where each rep's "this week" is cut (one query for all).
    with django_assert_num_queries(17):
        response = client.get("/expectations/scorecard/")
    assert response.content.decode().count('data-testid="scorecard-row"') == extra + 2
    assert len(fake.calls) == 2  # one call per KPI, whatever the number of reps
