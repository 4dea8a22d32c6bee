import datetime as dt

import pytest
from django.utils import timezone

# A Wednesday at noon (UTC): 2.5 of the week's 7 days and 17.5 of November's 30 have passed.
WEDNESDAY = dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC)


@pytest.fixture
def wednesday(monkeypatch):
    """Freeze "now" mid-week and mid-month, so the scorecard's pacing does not depend on the day the tests run."""
    monkeypatch.setattr(timezone, "now", lambda: WEDNESDAY)
    return WEDNESDAY
