import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

app = Celery("accountability")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One structured log line per task (accountability/logging.py), worker side.
from celery.signals import setup_logging, task_postrun, task_prerun  # noqa: E402

from accountability import logging as structured_logging  # noqa: E402

task_prerun.connect(structured_logging.task_prerun, weak=False)
task_postrun.connect(structured_logging.task_postrun, weak=False)


def _logging_from_settings(**kwargs):
    """Worker and beat log through the project's LOGGING (JSON lines in production, with the task
    lines above) instead of Celery's own text format: Celery configures nothing when this signal
    has a receiver. The tests/test_production_smoke.py run found the worker's lines were not JSON."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


setup_logging.connect(_logging_from_settings, weak=False)
