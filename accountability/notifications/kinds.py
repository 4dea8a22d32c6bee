"""The kinds of notice people can choose channels for, with their defaults.

Each app owns its kinds, in its `notices.py` (leads/notices.py, leads/sla/notices.py,
goals/notices.py, accountability/expectations/notices.py), as `Kind` objects made by
`register_kind`; `notification_create` takes the object. The notifications app imports every
app's `notices` module when Django starts (apps.py), so the preferences page lists them all.
In-app is always on; email/SMS defaults are what a user gets until they change them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    email: bool = False
    sms: bool = False
    chat: bool = False  # the person's own Slack/Teams webhook (off until they choose it)

    def __str__(self) -> str:
        return self.code


KINDS: dict[str, Kind] = {}


def register_kind(code: str, label: str, *, email: bool = False, sms: bool = False, chat: bool = False) -> Kind:
    KINDS[code] = Kind(code=code, label=label, email=email, sms=sms, chat=chat)
    return KINDS[code]
