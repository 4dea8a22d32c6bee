import pytest

from accountability.demo import seed_org
from accountability.expectations import demo
from accountability.expectations.models import Acknowledgement, Document, DocumentVersion, Kpi
from accountability.expectations.selectors import pending_versions_for

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_published_document_and_is_safe_twice():
    for _ in range(2):
        ctx = seed_org()
        demo.seed(ctx)
    org_doc = Document.objects.get(team__isnull=True)
    current = org_doc.versions.get(is_current=True)
    assert current.number == 2 and DocumentVersion.objects.count() == 3
    metrics = {k.metric: (k.direction, k.target, k.bind_to_sla) for k in current.kpis.all()}
    assert metrics["speed_to_lead_median"] == ("at_most", 15, True)
    assert metrics["follow_up_compliance"] == ("at_least", 90, False)
    assert metrics["conversion_rate"] == ("at_least", 20, False)
    assert Kpi.objects.filter(version__document__team__name="Inbound East").count() == 1
    assert Acknowledgement.objects.count() == 9
    assert pending_versions_for(ctx.users["alice"]) == []
    assert len(pending_versions_for(ctx.users["dana"])) == 2
