"""Chat: posting a notice to a Slack or Microsoft Teams incoming webhook.

One small module like sms.py: which URLs are accepted, the payload of each service, and one POST
over plain HTTPS (urllib, no SDK). `post` raises `ChatError`; `permanent` says whether trying again
can help (a 4xx: the hook was removed or the URL is wrong) or not (5xx, timeout, network).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SLACK_HOST = "hooks.slack.com"
TEAMS_HOST_SUFFIX = ".webhook.office.com"


class ChatError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def validate_webhook_url(url: str, service: str) -> str:
    """The URL stripped, or ValidationError saying what is wrong with it. Only the services' own
    hosts are accepted (a webhook is a place we POST notices to: never an arbitrary host on the
    network); http://127.0.0.1 only with CHAT_WEBHOOK_ALLOW_LOOPBACK (DEBUG, tests, the demo)."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("Paste the webhook URL from Slack or Teams.")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError("That is not a valid URL.") from None
    if parts.username or parts.password:
        raise ValidationError("A webhook URL carries no user name or password.")
    loopback = host in {"127.0.0.1", "localhost", "::1"}
    if loopback and settings.CHAT_WEBHOOK_ALLOW_LOOPBACK and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise ValidationError("A webhook URL must start with https://.")
    if service == "slack":
        if host != SLACK_HOST or not parts.path.startswith("/services/"):
            raise ValidationError("A Slack webhook URL looks like https://hooks.slack.com/services/….")
    elif service == "teams":
        if not host.endswith(TEAMS_HOST_SUFFIX) or host == TEAMS_HOST_SUFFIX.lstrip("."):
            raise ValidationError("A Teams webhook URL looks like https://<yours>.webhook.office.com/webhookb2/….")
    else:
        raise ValidationError("Choose Slack or Microsoft Teams.")
    return url


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn gives &, < and > meaning (links, mentions): escaped so a lead's name stays text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(service: str, *, title: str, body: str, link: str) -> dict:
    """The JSON body a service's incoming webhook expects for one notice with a link back."""
    if service == "slack":
        text = f"<{link}|{_slack_escape(title)}>"
        if body:
            text += "\n" + _slack_escape(body)
        return {"text": text, "unfurl_links": False}
    # Teams (Office 365 connector): a MessageCard with an "Open" button.
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": title[:150],
        "themeColor": "0D6EFD",
        "title": title,
        "text": body or " ",
        "potentialAction": [{"@type": "OpenUri", "name": "Open", "targets": [{"os": "default", "uri": link}]}],
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answers, it does not redirect: following one would POST notices to a host nobody
    validated. The 3xx surfaces as an HTTPError (a refusal) instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, data: dict, *, timeout: float | None = None) -> str:
    """POST one message; return a short description of the answer ("200 ok")."""
    request = urllib.request.Request(  # noqa: S310 - URL validated to the services' https hosts
        url,
        data=json.dumps(data).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Accountability notices"},
    )
    try:
        with _opener.open(request, timeout=timeout or settings.CHAT_WEBHOOK_TIMEOUT) as response:
            answer = response.read(200).decode(errors="replace").strip()
            return f"{response.status} {answer}"[:100]
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace").strip()
        # 408, 429 (rate limited) and 5xx are worth another try; a 3xx or another 4xx answers the same again.
        permanent = exc.code < 500 and exc.code not in (408, 429)
        raise ChatError(f"webhook answered {exc.code}: {detail}"[:500], permanent=permanent) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ChatError(f"webhook unreachable: {exc}"[:500]) from None
