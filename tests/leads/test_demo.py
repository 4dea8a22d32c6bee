"""The demo leads: consistent derived columns, a story the figures tell, safe to run twice."""

from datetime import timedelta

import pytest
from django.db.models import F, Max

from accountability.demo import seed_org
from leads import demo
from leads.metrics import Period, neglect_condition, rep_scorecards
from leads.models import Activity, FollowUp, Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx():
    ctx = seed_org()
    demo.seed(ctx)
    return ctx


def test_demo_seeds_leads_once(ctx):
    assert Lead.objects.count() == demo.LEADS
    entries = Activity.objects.count()
    demo.seed(seed_org())
    assert Lead.objects.count() == demo.LEADS
    assert Activity.objects.count() == entries
    assert ctx.created and "300 leads" in ctx.created[0]


def test_demo_derived_columns_match_the_timeline(ctx):
    contact_kinds = list(Activity.CONTACT_KINDS)
    for lead in Lead.objects.all():
        first = lead.activities.filter(kind__in=contact_kinds).order_by("occurred_at").first()
        if lead.first_contacted_at:
            assert first.occurred_at == lead.first_contacted_at
            assert first.actor_id == lead.first_contacted_by_id
        else:
            assert first is None
        last = lead.activities.filter(kind__in=Activity.LOGGABLE).aggregate(m=Max("occurred_at"))["m"]
        assert lead.last_activity_at == last
        open_due = lead.follow_ups.filter(state=FollowUp.State.OPEN).values_list("due_at", flat=True)
        assert list(open_due) == ([lead.next_follow_up_at] if lead.next_follow_up_at else [])
        assert (lead.closed_at is not None) == (lead.stage in Lead.CLOSED_STAGES)
        assert lead.created_at == lead.arrived_at
        assert not lead.activities.exclude(created_at=F("occurred_at")).exists()  # none editable today
        if lead.stage == Lead.Stage.LOST:
            assert lead.lost_reason
        if lead.owner_id:
            assert lead.activities.filter(kind="assigned", data__to_owner=lead.owner_id).exists()
        else:
            assert lead.activities.filter(kind="assigned", data__how="queue", data__to_owner=None).exists()


def test_demo_tells_the_story(ctx):
    users = ctx.users
    assert Lead.objects.filter(owner__isnull=True).exists()  # some in the queues
    assert Lead.objects.filter(neglect_condition(ctx.now)).count() >= 5
    assert Lead.objects.filter(stage="won").exists() and Lead.objects.filter(stage="lost").exists()
    period = Period(ctx.now - timedelta(days=91), ctx.now + timedelta(days=1))
    cards = rep_scorecards(period=period, users=list(users.values()), now=ctx.now)
    alice, bob, carlos = cards[users["alice"].pk], cards[users["bob"].pk], cards[users["carlos"].pk]
    assert carlos.saved > 0
    assert alice.speed_to_lead_median < bob.speed_to_lead_median
    assert alice.follow_up_compliance > cards[users["frank"].pk].follow_up_compliance
    assert bob.never_contacted > alice.never_contacted
