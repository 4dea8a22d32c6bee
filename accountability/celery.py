import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

app = Celery("accountability")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One structured log line per task (accountability/logging.py), worker side.
from celery.signals import task_postrun, task_prerun  # noqa: E402

from accountability import logging as structured_logging  # noqa: E402

task_prerun.connect(structured_logging.task_prerun, weak=False)
task_postrun.connect(structured_logging.task_postrun, weak=False)
