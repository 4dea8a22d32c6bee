import datetime as dt

import pytest
from django.utils import timezone


@pytest.fixture
def frozen_now(monkeypatch):
    """Freeze "now" for the goals code: `frozen_now(datetime)`; returns the aware datetime."""

    def _freeze(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return _freeze
