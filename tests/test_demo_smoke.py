"""The demo as a user meets it: seed it, log in as each role, open every page the navigation offers."""

import re

import pytest
from django.core.management import call_command

from accountability.models import User

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<a class="(?:nav-link|dropdown-item)" href="(/[^"#]*)"')


@pytest.fixture
def demo(capsys):
    call_command("seed_demo")
    capsys.readouterr()


@pytest.mark.parametrize("username", ["admin", "helen", "maria", "sam", "alice", "erin"])
def test_every_navigation_page_opens_for_each_demo_role(demo, client, username):
    client.force_login(User.objects.get(username=username))
    home = client.get("/")
    assert home.status_code == 200
    links = sorted(set(LINK.findall(home.content.decode())) - {"/admin/"})
    assert len(links) >= 3
    for url in links:
        response = client.get(url)
        assert response.status_code == 200, f"{username} got {response.status_code} on {url}"


def test_seeding_the_demo_twice_changes_nothing(demo, capsys):
    from django.apps import apps

    def counts():
        return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label != "sessions"}

    before = counts()
    call_command("seed_demo")
    capsys.readouterr()
    assert counts() == before
