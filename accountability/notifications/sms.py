"""SMS backends: one small interface, two implementations.

- `OutboxBackend` (default): records each message in `SmsMessage`, which admins read on
  the outbox page. Nothing leaves the machine.
- `TwilioBackend`: switched on when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
  TWILIO_FROM_NUMBER are all set. Plain HTTPS (urllib), no SDK.

`send` raises `SmsError` on failure; the delivery task retries with backoff.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from accountability.notifications.models import SmsMessage


class SmsError(Exception):
    pass


class SmsBackend:
    def send(self, *, to: str, body: str, reference: str) -> str:
        """Send one message; return the provider's id. `reference` identifies the delivery."""
        raise NotImplementedError


class OutboxBackend(SmsBackend):
    def send(self, *, to: str, body: str, reference: str) -> str:
        # get_or_create on the unique reference: a retried delivery records the message once.
        message, _ = SmsMessage.objects.get_or_create(reference=reference, defaults={"to": to, "body": body})
        return f"outbox-{message.pk}"


class TwilioBackend(SmsBackend):
    API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str, timeout: float = 10):
        self.account_sid, self.auth_token, self.from_number, self.timeout = (
            account_sid,
            auth_token,
            from_number,
            timeout,
        )

    def build_request(self, *, to: str, body: str) -> urllib.request.Request:
        data = urllib.parse.urlencode({"To": to, "From": self.from_number, "Body": body[:1600]}).encode()
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return urllib.request.Request(  # noqa: S310 - fixed https URL
            self.API.format(sid=urllib.parse.quote(self.account_sid)),
            data=data,
            method="POST",
            headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
        )

    def send(self, *, to: str, body: str, reference: str) -> str:
        request = self.build_request(to=to, body=body)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise SmsError(f"Twilio answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"Twilio unreachable: {exc}") from None
        return str(payload.get("sid", ""))


def get_sms_backend() -> SmsBackend:
    path = settings.SMS_BACKEND
    if path:
        return import_string(path)()
    sid = settings.TWILIO_ACCOUNT_SID
    token = settings.TWILIO_AUTH_TOKEN
    number = settings.TWILIO_FROM_NUMBER
    if sid and token and number:
        return TwilioBackend(account_sid=sid, auth_token=token, from_number=number)
    return OutboxBackend()
