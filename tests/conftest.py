"""Fixed personas every test can use.

    Sales (helen, head of sales)
    ├── North (maria): alice, bob
    └── South (sam): charlie
    admin: an admin who is on no team

alice and bob are reps on one team, charlie a rep on another; maria manages
only North; helen sees both through the parent team.
"""

import os
import shutil

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit and throttle counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def helen(db):
    return UserFactory(username="helen", first_name="Helen", role="manager")


@pytest.fixture
def maria(db):
    return UserFactory(username="maria", first_name="Maria", role="manager")


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", first_name="Sam", role="manager")


@pytest.fixture
def sales(helen):
    return TeamFactory(name="Sales", manager=helen)


@pytest.fixture
def north(sales, maria):
    return TeamFactory(name="North", parent=sales, manager=maria)


@pytest.fixture
def south(sales, sam):
    return TeamFactory(name="South", parent=sales, manager=sam)


@pytest.fixture
def alice(north):
    user = UserFactory(username="alice", first_name="Alice", role="rep")
    MembershipFactory(user=user, team=north)
    return user


@pytest.fixture
def bob(north):
    user = UserFactory(username="bob", first_name="Bob", role="rep")
    MembershipFactory(user=user, team=north)
    return user


@pytest.fixture
def charlie(south):
    user = UserFactory(username="charlie", first_name="Charlie", role="rep")
    MembershipFactory(user=user, team=south)
    return user


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", first_name="Ada", role="admin")


@pytest.fixture
def org(alice, bob, charlie, maria, sam, helen, admin, north, south, sales):
    """Every persona at once, by name."""
    return {
        "alice": alice,
        "bob": bob,
        "charlie": charlie,
        "maria": maria,
        "sam": sam,
        "helen": helen,
        "admin": admin,
        "north": north,
        "south": south,
        "sales": sales,
    }


@pytest.fixture
def login(client):
    """Log the test client in as a user: `login(alice)`."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


# --- Browser tests -----------------------------------------------------------------


@pytest.fixture(scope="session")
def _chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        reason = f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium`"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev installs it
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but playwright is not installed")
        pytest.skip("playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made
    # by the test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def page(_chromium, live_server):
    context = _chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    """Log in through the real login form: `browser_login(alice)`."""

    def _login(user, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login
