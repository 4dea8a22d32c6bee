"""Every write to expectations documents goes through here.

Only admins author and publish; anybody a document covers acknowledges its current version.
Each service validates, runs in one transaction, and leaves the database in a state its
constraints accept (one draft, one current version, numbers unique, acknowledgement once).
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accountability.expectations.models import (
    REQUIRED_SECTIONS,
    SECTION_FIELDS,
    SECTIONS,
    SLA_BINDABLE_METRICS,
    Acknowledgement,
    Document,
    DocumentVersion,
    Kpi,
)
from accountability.expectations.notices import EXPECTATIONS_REMINDER
from accountability.expectations.selectors import covered_users, document_covers, forget_pending
from accountability.models import Team, User
from accountability.notifications.services import notification_create
from leads.metrics import Metric


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins write expectations documents.")


def _require_draft(version: DocumentVersion) -> None:
    if not version.is_draft:
        raise ValidationError("Only a draft can be changed; published versions are kept as they were.")


_DOCUMENT_CREATE_LOCK = 0x45585043  # "EXPC": the advisory lock key for creating documents


def _lock_document_creation() -> None:
    """Serialise document creation up to commit, so the existence check below cannot be passed by
    two creates at once. It matters most on SQLite: there the unique constraint on `team` with
    nulls_distinct=False is not created (Django warns models.W047), so nothing in the database stops
    a second organisation-wide document. PostgreSQL keeps the constraint; the lock only turns a race
    into the same clear message instead of an IntegrityError.

    PostgreSQL: a transaction-scoped advisory lock. SQLite has no row locks, but one writer at a
    time: a write statement (here one that changes nothing) takes the database's write lock first,
    held to commit, so the next create waits and then sees this one's row."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DOCUMENT_CREATE_LOCK])
    else:
        Document.objects.filter(pk__lt=0).update(title="")


@transaction.atomic
def document_create(*, actor: User, team: Team | None, title: str) -> Document:
    """Create a document (organisation-wide when team is None) with an empty draft version 1."""
    _require_admin(actor)
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the document a title."})
    _lock_document_creation()
    if Document.objects.filter(team=team).exists():
        which = "The organisation" if team is None else f"{team.name}"
        raise ValidationError({"team": f"{which} already has an expectations document; edit that one."})
    try:
        with transaction.atomic():
            document = Document.objects.create(team=team, title=title[:200], created_by=actor)
    except IntegrityError:  # a concurrent create won the race
        raise ValidationError({"team": "That document already exists."}) from None
    DocumentVersion.objects.create(document=document, number=1, created_by=actor)
    return document


@transaction.atomic
def draft_start(*, actor: User, document: Document) -> DocumentVersion:
    """The document's draft: the existing one, or a new one copied from the current version."""
    _require_admin(actor)
    Document.objects.select_for_update().get(pk=document.pk)  # serialise concurrent edits of one document
    draft = document.versions.filter(status=DocumentVersion.Status.DRAFT).first()
    if draft:
        return draft
    current = document.versions.filter(is_current=True).prefetch_related("kpis").first()
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = DocumentVersion.objects.create(
        document=document,
        number=number,
        created_by=actor,
        **{name: getattr(current, name) if current else "" for name in SECTION_FIELDS},
    )
    if current:
        Kpi.objects.bulk_create(
            [
                Kpi(
                    version=draft,
                    position=k.position,
                    metric=k.metric,
                    target=k.target,
                    direction=k.direction,
                    period=k.period,
                    bind_to_sla=k.bind_to_sla,
                    note=k.note,
                )
                for k in current.kpis.all()
            ]
        )
    return draft


@transaction.atomic
def draft_update(
    *, actor: User, version: DocumentVersion, change_summary: str | None = None, **sections: str
) -> DocumentVersion:
    """Save the prose sections of a draft (Markdown; sanitised when rendered, stored as typed), and
    the change summary typed so far when given, so Save draft keeps it for the publish step."""
    _require_admin(actor)
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    if change_summary is not None:
        version.change_summary = change_summary.replace("\r\n", "\n").strip()
        version.save(update_fields=["change_summary", "updated_at"])
    _write_sections(version, sections)
    return version


def _write_sections(version: DocumentVersion, sections: dict[str, str]) -> None:
    unknown = set(sections) - set(SECTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown sections: {sorted(unknown)}")
    for name, text in sections.items():
        setattr(version, name, (text or "").replace("\r\n", "\n").strip())
    version.save(update_fields=[*sections, "updated_at"])


def _same_as(version: DocumentVersion, other: DocumentVersion) -> bool:
    """Whether two versions say the same thing: every section and every KPI row (as the diff shows them)."""
    if any(getattr(version, name) != getattr(other, name) for name in SECTION_FIELDS):
        return False
    return [k.line() for k in version.kpis.all()] == [k.line() for k in other.kpis.all()]


def _validate_kpi(*, metric: str, target: Decimal, direction: str, period: str, bind_to_sla: bool) -> None:
    errors = {}
    if metric not in Metric.values:
        errors["metric"] = "Choose a metric the app measures."
    if target is None or target <= 0:
        errors["target"] = "The target must be a positive number."
    if direction not in Kpi.Direction.values:
        errors["direction"] = "Choose at least or at most."
    if period not in Kpi.Cadence.values:
        errors["period"] = "Choose week, month or quarter."
    if bind_to_sla and metric not in SLA_BINDABLE_METRICS:
        errors["bind_to_sla"] = "Only a speed-to-lead KPI can be bound to the follow-up SLA policy."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def kpi_add(
    *,
    actor: User,
    version: DocumentVersion,
    metric: str,
    target: Decimal,
    direction: str,
    period: str,
    bind_to_sla: bool = False,
    note: str = "",
) -> Kpi:
    _require_admin(actor)
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    _validate_kpi(metric=metric, target=target, direction=direction, period=period, bind_to_sla=bind_to_sla)
    position = (version.kpis.aggregate(p=Max("position"))["p"] or 0) + 1
    return Kpi.objects.create(
        version=version,
        position=position,
        metric=metric,
        target=target,
        direction=direction,
        period=period,
        bind_to_sla=bind_to_sla,
        note=note.strip()[:200],
    )


@transaction.atomic
def kpi_delete(*, actor: User, kpi: Kpi) -> None:
    _require_admin(actor)
    version = DocumentVersion.objects.select_for_update().get(pk=kpi.version_id)
    _require_draft(version)
    kpi.delete()


def publish_problems(version: DocumentVersion) -> list[str]:
    """Why this version cannot be published yet (empty when it can)."""
    problems = []
    headings = {name: heading for name, heading, _ in SECTIONS}
    if version.document.team_id is None:
        missing = [headings[name] for name in REQUIRED_SECTIONS if not getattr(version, name).strip()]
        if missing:
            problems.append("Write every section before publishing; still empty: " + ", ".join(missing) + ".")
        if not version.kpis.exists():
            problems.append("Add at least one KPI: people are held to numbers, not only to prose.")
    elif not any(getattr(version, name).strip() for name in SECTION_FIELDS) and not version.kpis.exists():
        problems.append("This team document is empty: write at least one section or add a KPI.")
    return problems


@transaction.atomic
def version_publish(
    *, actor: User, version: DocumentVersion, change_summary: str, sections: dict[str, str] | None = None
) -> DocumentVersion:
    """Publish a draft: it becomes the current version everyone covered must acknowledge.

    `sections` are the sections as the editor's form holds them: they are saved and published in
    this one transaction, so pressing Publish without Save draft publishes what the admin sees, and
    a refusal saves nothing (the view gives the typed text back). A version that changes nothing
    from the current one is refused: it would ask everyone to re-acknowledge an identical document."""
    _require_admin(actor)
    Document.objects.select_for_update().get(pk=version.document_id)
    version = DocumentVersion.objects.select_related("document").get(pk=version.pk)
    _require_draft(version)
    if sections:
        _write_sections(version, sections)
    errors = {}
    problems = publish_problems(version)
    current = DocumentVersion.objects.filter(document_id=version.document_id, is_current=True).first()
    if current is not None and _same_as(version, current):
        problems.append(
            f"This draft is identical to the current version {current.number}: change a section or a KPI "
            "before publishing (nobody is asked to re-acknowledge an unchanged document)."
        )
    if problems:
        errors["__all__"] = problems
    change_summary = (change_summary or "").strip()
    if not change_summary:
        errors["change_summary"] = "Say what changed in this version (people read this first)."
    if errors:
        raise ValidationError(errors)
    DocumentVersion.objects.filter(document_id=version.document_id, is_current=True).update(is_current=False)
    version.status = DocumentVersion.Status.PUBLISHED
    version.is_current = True
    version.change_summary = change_summary
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "is_current", "change_summary", "published_at", "published_by", "updated_at"])
    return version


@transaction.atomic
def acknowledgement_create(*, actor: User, version: DocumentVersion) -> Acknowledgement:
    """Record that `actor` read and accepts this version. Only the current version can be acknowledged."""
    version = DocumentVersion.objects.select_related("document").get(pk=version.pk)
    if not version.is_current:
        raise ValidationError(
            "This is not the current version of the document; read and acknowledge the current one instead."
        )
    if not document_covers(version.document, actor):
        raise ValidationError("This document does not ask you for an acknowledgement.")
    ack, _ = Acknowledgement.objects.get_or_create(
        user=actor, version=version, defaults={"acknowledged_at": timezone.now()}
    )
    forget_pending(actor)
    return ack


def reminder_after_days() -> int:
    return settings.EXPECTATIONS_ACK_REMINDER_DAYS


def acknowledgement_reminders_send(*, now=None) -> int:
    """Remind everyone who has not acknowledged a version published more than N days ago.

    Safe to run any number of times: each (version, person) notice has its own key, so a second run
    (or a redelivered task) creates nothing new. Returns the number of notices created.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=reminder_after_days())
    sent = 0
    versions = DocumentVersion.objects.filter(is_current=True, published_at__lte=cutoff).select_related(
        "document__team"
    )
    for version in versions:
        url = reverse("expectations:version-detail", args=[version.document_id, version.number])
        outstanding = covered_users(version.document).exclude(expectations_acknowledgements__version=version)
        for user in outstanding:
            created = notification_create(
                recipient=user,
                kind=EXPECTATIONS_REMINDER,
                key=f"ack-reminder-{version.pk}-{user.pk}",
                title=f"Please read and acknowledge “{version.document.title}” (version {version.number})",
                body=f"Published {version.published_at:%d %b %Y}. {version.change_summary}"[:1000],
                url=url,
            )
            sent += created is not None
    return sent
