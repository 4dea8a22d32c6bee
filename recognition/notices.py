"""The kinds of notice recognition sends (registered when the app is ready)."""

from accountability.notifications.kinds import register_kind

KUDOS_RECEIVED = register_kind("kudos_received", "Someone recognised you (kudos)", email=False)
KUDOS_HIDDEN = register_kind("kudos_hidden", "A kudos you gave was hidden by a manager", email=True)
KUDOS_COSIGN = register_kind("kudos_cosign", "An automatic kudos waits for your co-sign", email=False)
AWARD_WON = register_kind("award_won", "You (or your team) won an award", email=True)
KUDOS_DIGEST_MANAGER = register_kind("kudos_digest_manager", "Weekly digest: recognition in your teams", email=True)
