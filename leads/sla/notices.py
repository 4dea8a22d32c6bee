"""The notice kinds of follow-up SLAs: reminders to the owner, escalations to managers."""

from accountability.notifications.kinds import register_kind

SLA_REMINDER = register_kind("sla_reminder", "Reminder: a follow-up is due soon", email=False)
SLA_OVERDUE = register_kind("sla_overdue", "A lead of yours is overdue", email=True)
SLA_ESCALATION = register_kind("sla_escalation", "A lead was escalated to you", email=True, sms=True)
SLA_ESCALATED_OWNER = register_kind("sla_escalated_owner", "A lead of yours was escalated", email=True)
SLA_CLAIMABLE = register_kind("sla_claimable", "A teammate's lead needs saving: you can claim it", email=False)
