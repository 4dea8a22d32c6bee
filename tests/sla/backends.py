"""Test doubles used by the real-worker tests (loaded by the worker subprocess by dotted path)."""

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends import filebased


class FileEmailBackend(filebased.EmailBackend):
    """Django's file backend, one file per message, in $SLA_TEST_EMAIL_DIR; with
    $SLA_TEST_SLOW_ONCE set, the first send writes a marker (its pid) and hangs, so a test can
    kill the worker process in the middle of a delivery."""

    def __init__(self, *args, **kwargs):
        kwargs["file_path"] = os.environ["SLA_TEST_EMAIL_DIR"]
        super().__init__(*args, **kwargs)

    def _get_filename(self):
        if self._fname is None:
            self._fname = os.path.join(self.file_path, f"{uuid.uuid4().hex}.eml")
        return self._fname

    def send_messages(self, email_messages):
        marker = Path(os.environ["SLA_TEST_EMAIL_DIR"]) / "slow.marker"
        if os.environ.get("SLA_TEST_SLOW_ONCE") and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(60)
        sent = 0
        for message in email_messages:
            self._fname = None  # a new file per message
            self.open()
            try:
                sent += super().send_messages([message])
            finally:
                self.close()
        return sent
