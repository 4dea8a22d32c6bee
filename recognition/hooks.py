"""Where recognition listens to the layers below it.

goals and leads sit below recognition and never import it: they call the functions in their
hook lists on commit (goals.services.GOAL_MET_HOOKS, leads.services.FIRST_CONTACT_HOOKS), and
this module adds recognition's when the app is ready. Each hook only enqueues a task with the
row's id; the nightly catch-up posts anything whose message was lost.
"""

import logging

from goals import services as goal_services
from leads import services as lead_services
from recognition.tasks import auto_goal_met_task, auto_lead_saved_task

logger = logging.getLogger(__name__)


def _enqueue(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # broker down: the nightly catch-up (auto_catch_up) recognises it later
        logger.warning("could not enqueue %s%s; the nightly catch-up will do it", task.name, args, exc_info=True)


def on_goal_met(goal_id: int) -> None:
    _enqueue(auto_goal_met_task, goal_id)


def on_first_contact(lead_id: int) -> None:
    _enqueue(auto_lead_saved_task, lead_id)


def connect() -> None:
    if on_goal_met not in goal_services.GOAL_MET_HOOKS:
        goal_services.GOAL_MET_HOOKS.append(on_goal_met)
    if on_first_contact not in lead_services.FIRST_CONTACT_HOOKS:
        lead_services.FIRST_CONTACT_HOOKS.append(on_first_contact)
