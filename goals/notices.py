"""The notice kinds goals sends, registered with the notification channels (people choose email
per kind in their preferences; in-app is always on)."""

from accountability.notifications.kinds import register_kind

GOAL_PROPOSED = register_kind("goal_proposed", "A rep proposed a goal for your approval", email=True)
GOAL_ASSIGNED = register_kind("goal_assigned", "A goal was set for you")
GOAL_APPROVED = register_kind("goal_approved", "Your goal was approved")
GOAL_REJECTED = register_kind("goal_rejected", "Your goal was rejected", email=True)
GOAL_EDITED = register_kind("goal_edited", "Your manager changed one of your goals")
GOAL_AT_RISK = register_kind("goal_at_risk", "A goal turned at risk or behind", email=True)
GOAL_MET = register_kind("goal_met", "A goal was met", email=True)
GOALS_DIGEST = register_kind("goals_digest", "Weekly digest: your goals and commitments", email=True)
GOALS_DIGEST_MANAGER = register_kind("goals_digest_manager", "Weekly digest: your teams' goals at risk", email=True)
