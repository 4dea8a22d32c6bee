"""The notice kinds the leads app sends (people choose email per kind in their preferences)."""

from accountability.notifications.kinds import register_kind

LEAD_ASSIGNED = register_kind("lead_assigned", "A lead was assigned to you", email=False)
LEAD_INQUIRY = register_kind("lead_inquiry", "A lead of yours got in touch again", email=False)
LEAD_REASSIGNED_AWAY = register_kind(
    "lead_reassigned_away", "A lead of yours was reassigned to someone else", email=False
)
