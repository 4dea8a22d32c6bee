"""The demo's first sweep tells people about the leads arriving now, not weeks of history."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.sla import services
from leads.sla.demo import ARRIVING
from leads.sla.models import SlaClock, SlaNotice

pytestmark = pytest.mark.django_db


def test_first_sweep_after_seed_demo_notifies_only_about_the_leads_arriving_now(settings):
    settings.SLA_SWEEP_LOOKAHEAD_SECONDS = 60
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # a second seed never expires the leads arriving now
    demo_emails = {email for email, *_ in ARRIVING}
    assert not SlaClock.objects.filter(state="expired", lead__email__in=demo_emails).exists()
    # The historical late events are recorded, expired, before the first sweep.
    assert SlaClock.objects.filter(state="expired").count() > 20
    result = services.sla_sweep(now=timezone.now())
    to_send = [n for n in result.notices_created if n.state == SlaNotice.State.PENDING]
    leads = {n.lead_id: n for n in to_send}
    escalated = SlaNotice.objects.filter(
        pk__in=[n.pk for n in to_send], step__in=["escalation_1", "escalation_2"]
    ).select_related("lead")
    # Only erin's lead (9 minutes old, due 4 minutes ago) can be escalated in the first minute.
    assert {n.lead.email for n in escalated} <= demo_emails
    assert len(to_send) <= 6 and len(leads) <= 3
    # No lead is told two steps of its ladder at once.
    steps = [(n.lead_id, n.step) for n in to_send if n.step in ("overdue", "escalation_1", "escalation_2")]
    assert not [s for s in steps if s[1] == "escalation_2"]
