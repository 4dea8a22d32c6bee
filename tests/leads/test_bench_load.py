"""The ceiling page of `manage.py bench_load` (leads/bench_views.py) and the command's guards."""

import importlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse

import accountability.urls
import leads.urls
from leads.management.commands.bench_load import CEILING_PATH
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _remount():
    importlib.reload(leads.urls)
    importlib.reload(accountability.urls)  # its include() resolvers keep the patterns they read
    clear_url_caches()


@pytest.fixture
def bench_pages():
    """BENCH_PAGES on, as bench_load starts gunicorn; the URLs are mounted again without it after."""
    with override_settings(BENCH_PAGES=True):
        _remount()
        yield
    _remount()


def test_the_ceiling_page_is_not_mounted_without_bench_pages(org, login):
    with pytest.raises(NoReverseMatch):
        reverse("leads:bench-ceiling")
    LeadFactory(owner=org["alice"])
    assert login(org["alice"]).get(CEILING_PATH).status_code == 404


@pytest.mark.parametrize("rows", [5, 60])
def test_the_ceiling_page_shows_my_50_newest_leads_in_constant_queries(
    bench_pages, org, login, django_assert_num_queries, rows
):
    assert reverse("leads:bench-ceiling") == CEILING_PATH
    for i in range(rows):
        LeadFactory(owner=org["alice"], name=f"Mine {i:02d}")
    LeadFactory(owner=org["bob"], name="Not mine")
    client = login(org["alice"])
    # session, user, user time zone (middleware), the 50 newest, their count
    with django_assert_num_queries(5):
        response = client.get(CEILING_PATH)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="ceiling-row"') == min(rows, 50)
    assert f"{rows} leads" in body
    assert "Not mine" not in body
    assert f"Mine {rows - 1:02d}" in body  # the newest first


def test_the_ceiling_page_needs_a_login(bench_pages, client):
    response = client.get(CEILING_PATH)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bench_load_refuses_a_database_that_is_not_a_bench_database(org):
    with pytest.raises(CommandError, match=r"Refusing to run on database|needs PostgreSQL"):
        call_command("bench_load", "--rounds", "1")


def test_the_page_shell_is_the_navigation_alone_behind_the_login(bench_pages, org, login, django_assert_num_queries):
    from leads.management.commands.bench_load import SHELL_PATH

    assert reverse("leads:bench-shell") == SHELL_PATH
    LeadFactory(owner=org["alice"], name="Not on the shell")
    client = login(org["alice"])
    # session, user, user time zone (middleware), the bell, the expectations banner
    with django_assert_num_queries(5):
        response = client.get(SHELL_PATH)
    body = response.content.decode()
    assert response.status_code == 200 and 'aria-label="Main"' in body and "Not on the shell" not in body


def test_the_page_shell_is_not_mounted_without_bench_pages(org, login):
    from leads.management.commands.bench_load import SHELL_PATH

    with pytest.raises(NoReverseMatch):
        reverse("leads:bench-shell")
    assert login(org["alice"]).get(SHELL_PATH).status_code == 404


def test_bench_pages_needs_the_ceiling_page_and_a_bench_database(org):
    with pytest.raises(CommandError, match="BENCH_PAGES=1"):
        call_command("bench_pages")
    with override_settings(BENCH_PAGES=True), pytest.raises(CommandError, match="Refusing to run on database"):
        call_command("bench_pages")


@pytest.mark.parametrize("rows", [5, 60])
def test_bench_pages_measures_a_page_with_its_queries_and_a_profile(bench_pages, org, rows):
    from leads.management.commands.bench_pages import client_for, measure, profile

    for i in range(rows):
        LeadFactory(owner=org["alice"], name=f"Mine {i:02d}")
    client = client_for(org["alice"])
    cost = measure("ceiling", client, CEILING_PATH, requests=3)
    assert cost.queries == 5 and len(cost.sql) == 5 and "leads_lead" in cost.sql[-1]
    assert cost.cpu_ms > 0 and cost.wall_ms >= cost.cpu_ms * 0.5 and cost.size > 1000
    assert "bench_views.py" in profile(client, CEILING_PATH, requests=2)
    with pytest.raises(CommandError, match="answered 404"):
        measure("missing", client, "/leads/999999999/", requests=1)
