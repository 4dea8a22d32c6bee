"""Notice kinds of reviews and 1:1s (each sent once per keyed event: see reviews.services)."""

from accountability.notifications.kinds import register_kind

CYCLE_OPENED = register_kind("review_cycle_opened", "A review cycle opened", email=True)
SELF_DUE = register_kind("review_self_due", "Your self-assessment is due soon", email=True)
SELF_OVERDUE = register_kind("review_self_overdue", "Your self-assessment is overdue", email=True)
MANAGER_DUE = register_kind("review_manager_due", "A review you write is due soon", email=True)
MANAGER_OVERDUE = register_kind("review_manager_overdue", "A review you write is overdue", email=True)
REVIEW_SHARED = register_kind("review_shared", "Your review was shared with you", email=True)
REVIEW_ACKNOWLEDGED = register_kind("review_acknowledged", "A rep acknowledged their review")
MEETING_TOMORROW = register_kind("one_on_one_tomorrow", "A 1:1 is tomorrow", email=True)
ACTION_ITEM_OVERDUE = register_kind("action_item_overdue", "An action item of yours is overdue", email=True)
