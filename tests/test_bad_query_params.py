"""No query string makes a page fail: extreme, impossible and junk values, every GET page, every role.

The pages are collected from the URL conf (admin's own pages, the password-reset links and the
intake API aside); their path arguments are filled with real objects of the world below. The
query parameter names are collected from each page's GET forms as that role sees them, plus
the ones views read from request.GET directly. Each name gets each bad value alone (the other
filters at a valid custom period, so the value reaches the date arithmetic), and every name
gets each value at once. Any 5xx fails, naming the request.
"""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accountability.expectations.models import Document
from leads.jobs.models import ExportJob, ImportJob
from tests.expectations.factories import published
from tests.factories import IntakeSourceFactory, LeadFactory
from tests.goals.factories import CommitmentFactory, GoalFactory

pytestmark = pytest.mark.django_db

BAD_VALUES = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "abc",
    "-1",
    str(10**20),
    "",
    "2026-11-01" * 500,
]
# Read from request.GET by views rather than through a form.
DIRECT_NAMES = {"team", "owner", "rep", "goal", "week", "page", "metric", "next", "period", "version"}
# The other parameters' values while one is tried: a valid custom period, so that a bad value in
# one date reaches the period arithmetic instead of stopping at "pick both dates".
BASELINE = {"period": "custom", "date_from": "2026-11-01", "date_to": "2026-11-30", "preset": "custom"}
SKIPPED_PREFIXES = ("admin/", "accounts/reset/", "api/")


class _GetFormFields(HTMLParser):
    """The names of the fields of <form method="get"> elements."""

    def __init__(self):
        super().__init__()
        self.in_get_form = False
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_get_form = (attrs.get("method") or "get").lower() == "get"
        elif self.in_get_form and tag in ("input", "select", "textarea") and attrs.get("name"):
            self.names.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_get_form = False


def _patterns(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _fill(route: str, ids: dict) -> str | None:
    """The route with its arguments filled from `ids` (by argument name and URL prefix)."""

    def value(match):
        name = match.group(1).split(":")[-1]
        if name == "figure":
            return "speed_to_lead"
        if name == "slug":
            return ids["slug"]
        key = next((k for k in ids if route.startswith(k)), None)
        return str(ids[key][name] if key and name in ids[key] else 1)

    return "/" + re.sub(r"<([^>]+)>", value, route)


@pytest.fixture
def world(org):
    lead = LeadFactory(owner=org["alice"], team=org["north"])
    goal = GoalFactory(owner=org["alice"])
    commitment = CommitmentFactory(owner=org["alice"])
    source = IntakeSourceFactory(team=org["north"])
    version = published(org["admin"])
    document = Document.objects.get(pk=version.document_id)
    return {
        "leads/intake": {},
        "leads/activities/": {"pk": lead.activities.first().pk if lead.activities.exists() else 1},
        "leads/intake-sources/": {"pk": source.pk},
        "leads/assignment/": {"team_id": org["north"].pk},
        "leads/import/": {"pk": ImportJob.objects.create(created_by=org["maria"], team=org["north"], state="done").pk},
        "leads/export/jobs/": {"pk": ExportJob.objects.create(created_by=org["maria"], state="done").pk},
        "leads/": {"pk": lead.pk},
        "goals/commitments/": {"pk": commitment.pk},
        "goals/": {"pk": goal.pk},
        "expectations/kpis/": {"kpi_pk": 1},
        "expectations/": {"pk": document.pk, "number": version.number},
        "settings/teams/": {"pk": org["north"].pk},
        "settings/people/": {"pk": org["alice"].pk},
        "people/": {"pk": org["alice"].pk},
        "slug": source.slug,
    }


def _pages(ids) -> list[str]:
    # accounts/logout/ is POST-only, but skipping it keeps the session whatever it does on GET.
    routes = [r for r in _patterns() if not r.startswith(SKIPPED_PREFIXES) and "(?P<" not in r and "logout" not in r]
    return sorted({_fill(r, ids) for r in routes})


@pytest.mark.parametrize("role", ["alice", "maria", "helen", "admin"])
def test_no_query_string_makes_a_page_fail(org, world, client, role):
    client.force_login(org[role])
    client.raise_request_exception = False  # collect every 5xx instead of stopping at the first
    pages = _pages(world)
    assert len(pages) > 40  # the whole URL conf, not a hand-picked list
    failures = []
    for url in pages:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"GET {url} -> {response.status_code}")
            continue
        if response.status_code == 405:
            continue  # POST-only: refused before any parameter is read
        parser = _GetFormFields()
        if "html" in response.get("Content-Type", ""):
            parser.feed(response.content.decode(errors="replace"))
        names = parser.names
        requests = [{**BASELINE, name: value} for name in sorted(names) for value in BAD_VALUES]
        requests += [dict.fromkeys(names | DIRECT_NAMES, value) for value in BAD_VALUES]
        # Every date of the page at once (a custom period from 9999-01-01 to 9999-12-31 is valid
        # on its own terms: only the range check stops it).
        dates = {n for n in names if re.search(r"date|from|_to$|week|_at$|until", n)}
        if dates:
            requests += [{**BASELINE, **dict.fromkeys(dates, value)} for value in BAD_VALUES]
            requests.append({**BASELINE, **{n: ("9999-12-30" if "from" in n else "9999-12-31") for n in dates}})
        for params in requests:
            response = client.get(url, params)
            if response.status_code >= 500:
                shown = {k: (v if len(v) < 40 else v[:20] + "...") for k, v in params.items()}
                failures.append(f"GET {url} {shown} -> {response.status_code}")
    assert not failures, "\n".join(failures[:40])


def test_extreme_dates_named_in_the_issue_answer_a_clear_error(org, client):
    """The reported cases, by hand: a form error, not a 500 or a silent empty page."""
    client.force_login(org["maria"])
    for week, error in (("0001-01-01", "Pick a date between"), ("9999-12-31", "Pick a date between"), ("abc", "valid")):
        response = client.get("/goals/commitments/", {"week": week})
        assert response.status_code == 200
        assert "That week cannot be shown" in response.content.decode()
        assert error in response.content.decode()
    response = client.get("/leads/export.csv", {"arrived_to": "9999-12-31"})
    assert response.status_code == 400  # not every lead, silently
    assert "Pick a date between" in response.content.decode()
    response = client.get("/leads/", {"arrived_to": "9999-12-31"})
    assert "Pick a date between" in response.content.decode()
    year_9999 = {"period": "custom", "date_from": "9999-01-01", "date_to": "9999-12-31"}
    for url in ("/leads/reports/dashboard/", "/leads/reports/dashboard/won/"):
        response = client.get(url, year_9999)
        assert response.status_code == 200
        assert "Pick a date between" in response.content.decode()


@pytest.mark.parametrize("preset", ["monthly", "quarterly", "yearly", "custom"])
def test_a_goal_starting_in_9999_is_refused_with_a_form_error(org, client, preset):
    client.force_login(org["alice"])
    response = client.post(
        "/goals/new/",
        {
            "title": "Far away",
            "description": "x",
            "metric": "manual",
            "unit": "demos",
            "target": "3",
            "reason": "because",
            "preset": preset,
            "start_date": "9999-11-01",
            "end_date": "9999-12-31",
        },
    )
    assert response.status_code in (200, 400)
    assert "Pick a date between" in response.content.decode()


def test_every_typed_date_field_refuses_dates_out_of_range():
    from accountability.forms import PersonForm
    from leads.forms import ActivityForm
    from leads.reports.forms import PeriodForm

    activity = ActivityForm({"kind": "call", "outcome": "connected", "next_follow_up_at": "9999-12-31T10:00"})
    assert not activity.is_valid() and "Pick a date between" in str(activity.errors["next_follow_up_at"])
    person = PersonForm({"role": "rep", "away_until": "0001-01-01", "is_active": "on"})
    assert not person.is_valid() and "Pick a date between" in str(person.errors["away_until"])
    period = PeriodForm({"period": "custom", "date_from": "2100-12-01", "date_to": "2100-12-31"})
    assert period.is_valid()  # the last month a user may pick
    assert period.to_period("UTC").end == dt.datetime(2101, 1, 1, tzinfo=dt.UTC)
