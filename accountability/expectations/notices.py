"""The notice kinds the expectations app sends."""

from accountability.notifications.kinds import register_kind

EXPECTATIONS_REMINDER = register_kind(
    "expectations_reminder", "Reminder: read and acknowledge the expectations that apply to you", email=False
)
