"""The kinds of notice people can choose channels for, with their defaults.

In-app is always on. A kind not listed here (another app's) is in-app only until it is
registered with `register_kind`; its email/SMS defaults are then what the user gets until
they change their preferences.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    email: bool = False
    sms: bool = False


KINDS: dict[str, Kind] = {}


def register_kind(code: str, label: str, *, email: bool = False, sms: bool = False) -> Kind:
    KINDS[code] = Kind(code=code, label=label, email=email, sms=sms)
    return KINDS[code]


# Follow-up SLAs (leads.sla): reminders to the owner, escalations to managers.
SLA_REMINDER = register_kind("sla_reminder", "Reminder: a follow-up is due soon", email=False)
SLA_OVERDUE = register_kind("sla_overdue", "A lead of yours is overdue", email=True)
SLA_ESCALATION = register_kind("sla_escalation", "A lead was escalated to you", email=True, sms=True)
SLA_ESCALATED_OWNER = register_kind("sla_escalated_owner", "A lead of yours was escalated", email=True)
SLA_CLAIMABLE = register_kind("sla_claimable", "A teammate's lead needs saving: you can claim it", email=False)
register_kind("lead_assigned", "A lead was assigned to you", email=False)
register_kind("lead_inquiry", "A lead of yours got in touch again", email=False)
register_kind("lead_reassigned_away", "A lead of yours was reassigned to someone else", email=False)
