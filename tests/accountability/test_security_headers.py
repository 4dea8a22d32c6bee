"""Content-Security-Policy, Permissions-Policy and the cookie flags a browser enforces for us."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import IntakeSourceFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def _templates():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in _templates():
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert offenders == []


def test_the_template_check_catches_what_it_is_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/js/app.js" defer></script>')
    assert INLINE_HANDLER.search('<select name="team" onchange="this.form.submit()">')
    assert INLINE_HANDLER.search("<button\n  onclick='x()'>")
    assert not INLINE_HANDLER.search('<select data-autosubmit name="team">')


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.django_db
def test_pages_carry_a_strict_script_policy(client, alice):
    client.force_login(alice)
    for url in ("/", "/leads/", "/goals/", "/notifications/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200
        csp = _directives(response)
        assert csp["script-src"] == "script-src 'self'"
        assert csp["object-src"] == "object-src 'none'"
        assert csp["base-uri"] == "base-uri 'self'"
        assert csp["frame-ancestors"] == "frame-ancestors 'none'"
        assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_login_page_has_the_policy_too(client):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_only_the_public_intake_form_may_be_framed(client, north):
    source = IntakeSourceFactory(team=north)
    for url in (f"/leads/intake/{source.slug}/", f"/leads/intake/{source.slug}/thanks/"):
        response = client.get(url)
        assert response.status_code == 200, url
        csp = _directives(response)
        assert csp["frame-ancestors"] == "frame-ancestors *"
        assert csp["script-src"] == "script-src 'self'"


@pytest.mark.django_db
def test_csrf_cookie_is_http_only_and_htmx_still_posts(client, alice):
    client.force_login(alice)
    response = client.get("/")
    cookie = response.cookies.get(settings.CSRF_COOKIE_NAME)
    if cookie is not None:
        assert cookie["httponly"]
    assert settings.CSRF_COOKIE_HTTPONLY
    # htmx sends the token from the page itself
    assert b'hx-headers=\'{"X-CSRFToken": "' in response.content
