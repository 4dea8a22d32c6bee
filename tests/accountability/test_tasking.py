"""Services name the tasks they enqueue (they never import a tasks module): the names must exist."""

from accountability.celery import app
from accountability.notifications.services import DELIVERY_SEND
from leads.sla.services import NOTICE_DELIVER


def test_the_tasks_services_enqueue_by_name_are_registered():
    app.loader.import_default_modules()
    assert DELIVERY_SEND in app.tasks
    assert NOTICE_DELIVER in app.tasks
