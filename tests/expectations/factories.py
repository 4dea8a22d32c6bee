"""Factories and builders for expectations documents (built through the services, like the app)."""

from decimal import Decimal

from accountability.expectations import services
from accountability.expectations.models import Document, DocumentVersion

SECTION_TEXT = {
    "values": "We are **honest** with customers.",
    "responsibilities": "Call every new lead the same day.",
    "kpi_notes": "Measured weekly.",
    "learning": "One training session a month.",
    "feedback": "Weekly 1:1s; quarterly reviews tied to recognition.",
    "changes": "Reviewed every quarter; you will be asked to acknowledge each version.",
}


def draft_with_content(admin, *, team=None, title="Sales expectations", kpis=1, **sections) -> DocumentVersion:
    """A document whose draft has every section written and `kpis` KPI rows."""
    document = Document.objects.filter(team=team).first() or services.document_create(
        actor=admin, team=team, title=title
    )
    draft = services.draft_start(actor=admin, document=document)
    services.draft_update(actor=admin, version=draft, **{**SECTION_TEXT, **sections})
    for i in range(kpis):
        services.kpi_add(
            actor=admin,
            version=draft,
            metric=["conversion_rate", "activities", "follow_up_compliance"][i % 3],
            target=Decimal(20 + i),
            direction="at_least",
            period="month",
        )
    draft.refresh_from_db()
    return draft


def published(admin, *, team=None, title="Sales expectations", summary="First version.", **kwargs) -> DocumentVersion:
    """Publish a new version of the (org or team) document and return it."""
    draft = draft_with_content(admin, team=team, title=title, **kwargs)
    return services.version_publish(actor=admin, version=draft, change_summary=summary)
