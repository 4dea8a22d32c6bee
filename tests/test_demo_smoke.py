"""The demo as a user meets it: seed it, log in as each role, open every page the app links to.

`make test` runs this module twice: on PostgreSQL with the rest of the suite, and on SQLite,
the no-setup default of `make run`, so a PostgreSQL-only query cannot break the demo.
"""

import re
from collections import deque

import pytest
from django.core.management import call_command

from accountability.models import User

pytestmark = pytest.mark.django_db

NAV_LINK = re.compile(r'<a class="(?:nav-link|dropdown-item)" href="(/[^"#]*)"')
ANY_LINK = re.compile(r'<a [^>]*href="(/[^"#]*)"')
SKIP = ("/admin/", "/accounts/", "/static/")
MAX_PAGES = 60


@pytest.fixture
def demo(capsys):
    call_command("seed_demo")
    capsys.readouterr()


@pytest.mark.parametrize("username", ["admin", "helen", "maria", "sam", "alice", "erin"])
def test_every_navigation_page_opens_for_each_demo_role(demo, client, username):
    client.force_login(User.objects.get(username=username))
    home = client.get("/", follow=True)
    assert home.status_code == 200
    links = sorted(set(NAV_LINK.findall(home.content.decode())) - {"/admin/"})
    assert len(links) >= 3
    for url in links:
        response = client.get(url)
        assert response.status_code == 200, f"{username} got {response.status_code} on {url}"


@pytest.mark.parametrize("username", ["admin", "maria", "alice"])
def test_links_two_clicks_deep_open_for_each_demo_role(demo, client, username):
    """Every link the app shows a user, followed breadth-first from home, opens (no 403/404/500)."""
    client.force_login(User.objects.get(username=username))
    seen: set[str] = {"/"}
    queue = deque([("/", 0)])
    opened = 0
    while queue and opened < MAX_PAGES:
        url, depth = queue.popleft()
        response = client.get(url)
        opened += 1
        assert response.status_code in (200, 302), f"{username} got {response.status_code} on {url}"
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            policy = response.get("Content-Security-Policy", "")
            script_src = policy.split("script-src")[-1].split(";")[0]
            assert "script-src 'self'" in policy and "unsafe-inline" not in script_src, f"{url}: {policy!r}"
        if depth == 2 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in ANY_LINK.findall(response.content.decode()):
            link = link.replace("&amp;", "&")
            if link not in seen and not link.startswith(SKIP):
                seen.add(link)
                queue.append((link, depth + 1))
    assert opened > 10


def test_seeding_the_demo_twice_changes_nothing(demo, capsys):
    from django.apps import apps

    def counts():
        return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label != "sessions"}

    before = counts()
    call_command("seed_demo")
    capsys.readouterr()
    assert counts() == before
