from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_pages_have_a_favicon_and_an_svg_bell(org, login):
    body = login(org["alice"]).get("/notifications/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    assert (Path(settings.BASE_DIR) / "static" / "favicon.svg").read_text().startswith("<svg")
    bell = body[body.index('data-testid="bell"') :]
    bell = bell[: bell.index("</a>")]
    # an inline SVG, not the emoji (an empty box on machines without an emoji font)
    assert "<svg" in bell and "&#128276;" not in bell and "\U0001f514" not in bell
