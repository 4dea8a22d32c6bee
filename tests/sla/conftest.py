import pytest


@pytest.fixture(autouse=True)
def _exact_sweep_times(settings):
    """Service and view tests sweep at exact moments; the lookahead has its own test."""
    settings.SLA_SWEEP_LOOKAHEAD_SECONDS = 0
