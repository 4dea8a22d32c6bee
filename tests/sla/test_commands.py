import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from leads.sla.models import SlaClock, SlaNotice
from tests.factories import LeadFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)


def run(*args):
    out = io.StringIO()
    call_command("sweep_followups", *args, stdout=out)
    return out.getvalue()


def test_sweep_followups_runs_the_sweep_at_a_given_moment(org):
    SlaPolicyFactory()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    out = run("--now", "2026-11-23T15:15:00+00:00")
    # Found at its first escalation: the reminder and overdue steps are recorded as skipped.
    assert "created 1 due event(s) (0 too old: recorded without notices), 3 notice(s) (1 to send, 2 skipped)" in out
    assert f"notice: lead {lead.pk} escalation_1 to Maria" in out
    assert SlaNotice.objects.filter(lead=lead).count() == 3
    again = run("--now", "2026-11-23T15:15:00+00:00")
    assert "created 0 due event(s) (0 too old: recorded without notices), 0 notice(s)" in again


def test_dry_run_prints_and_writes_nothing(org):
    SlaPolicyFactory()
    LeadFactory(owner=org["alice"], team=org["north"], arrived_at=T0)
    out = run("--now", "2026-11-23T15:15:00Z", "--dry-run")
    assert "would create 1 due event(s) (0 too old: recorded without notices), 3 notice(s) (1 to send" in out
    assert "Dry run" in out
    assert not SlaClock.objects.exists()


def test_bad_now_is_refused():
    with pytest.raises(CommandError, match="ISO-8601"):
        run("--now", "yesterday")
