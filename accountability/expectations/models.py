"""Expectations documents: written, versioned, acknowledged and tied to the numbers.

One organisation-wide Document (team is null) and optional per-team Documents that
add to it. Each Document has numbered DocumentVersions: at most one draft (being
edited by an admin) and at most one current published version; older published
versions stay readable. A version's prose lives in six Markdown sections; its KPIs
are structured rows (Kpi) naming a metric the app computes. People acknowledge a
specific version (Acknowledgement), so "who agreed to what, and when" is a row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accountability.expectations.targets import kpi_target
from accountability.models import Team
from leads.metrics import Metric

# The prose sections of every version, in reading order: (field, heading, help text).
SECTIONS = [
    (
        "values",
        "Values and ethics",
        "Company values and how they apply to selling: ethical conduct, the sales charter.",
    ),
    (
        "responsibilities",
        "Responsibilities and sales process",
        "What each role is responsible for, and the sales process everyone follows.",
    ),
    ("kpi_notes", "KPIs", "How the KPIs below are measured and why they matter (the KPI rows are required)."),
    ("learning", "Learning and development", "Training, mentoring and staying current: what is expected."),
    (
        "feedback",
        "Feedback and review process",
        "How often feedback and reviews happen, in what form, and how they tie to rewards and recognition.",
    ),
    ("changes", "How expectations change", "When and how this document is revised, and how people are told."),
]
SECTION_FIELDS = [name for name, _, _ in SECTIONS]
# An organisation document must say something in each of these before it can be published.
REQUIRED_SECTIONS = ["values", "responsibilities", "learning", "feedback", "changes"]

# KPIs about response time can take their target from the team's follow-up SLA policy.
SLA_BINDABLE_METRICS = (Metric.SPEED_TO_LEAD_MEDIAN, Metric.SPEED_TO_LEAD_P90)


class Document(models.Model):
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="expectations_documents"
    )  # null: the organisation-wide document
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = [models.F("team__name").asc(nulls_first=True)]
        constraints = [
            # Exactly one organisation document (team null) and at most one per team.
            models.UniqueConstraint(fields=["team"], nulls_distinct=False, name="expectations_one_document_per_team"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_organisation(self) -> bool:
        return self.team_id is None

    @property
    def scope_label(self) -> str:
        return "Organisation-wide" if self.team_id is None else f"Team: {self.team.name}"


class DocumentVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The published version people must acknowledge; older published versions stay readable.
    is_current = models.BooleanField(default=False)

    values = models.TextField(blank=True)
    responsibilities = models.TextField(blank=True)
    kpi_notes = models.TextField(blank=True)
    learning = models.TextField(blank=True)
    feedback = models.TextField(blank=True)
    changes = models.TextField(blank=True)

    change_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="expectations_version_number_unique"),
            models.UniqueConstraint(
                fields=["document"], condition=Q(status="draft"), name="expectations_one_draft_per_document"
            ),
            models.UniqueConstraint(
                fields=["document"], condition=Q(is_current=True), name="expectations_one_current_per_document"
            ),
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True, is_current=False)
                | Q(status="published", published_at__isnull=False) & ~Q(change_summary=""),
                name="expectations_published_has_date_and_summary",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="expectations_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def sections(self) -> list[tuple[str, str, str]]:
        """(field, heading, markdown) for every section, in reading order."""
        return [(name, heading, getattr(self, name)) for name, heading, _ in SECTIONS]


class Kpi(models.Model):
    class Direction(models.TextChoices):
        AT_LEAST = "at_least", "at least"
        AT_MOST = "at_most", "at most"

    class Cadence(models.TextChoices):
        """How often a KPI is measured (its `period` field); not leads.metrics.Period, a span of time."""

        WEEK = "week", "weekly"
        MONTH = "month", "monthly"
        QUARTER = "quarter", "quarterly"

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="kpis")
    position = models.PositiveSmallIntegerField(default=0)
    metric = models.CharField(max_length=40, choices=Metric.choices)
    target = models.DecimalField(max_digits=12, decimal_places=2)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    period = models.CharField(max_length=10, choices=Cadence.choices)
    # Response-time KPIs can take their target from the live follow-up SLA policy.
    bind_to_sla = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="expectations_kpi_target_positive"),
            models.CheckConstraint(
                condition=Q(bind_to_sla=False) | Q(metric__in=[m.value for m in SLA_BINDABLE_METRICS]),
                name="expectations_kpi_sla_only_for_response_time",
            ),
        ]

    def __str__(self) -> str:
        return self.line()

    def line(self) -> str:
        """One plain-text line, used for diffs, print, the editor and the goal form's KPI list:
        "Conversion rate (%) at least 20, monthly". A bound KPI shows the live policy's target
        for the document's scope (kpis.kpi_target, the one answer every reader uses)."""
        target = kpi_target(self)
        target = target.normalize() if target == target.to_integral() else target
        text = f"{self.get_metric_display()} {self.get_direction_display()} {target:f}, {self.get_period_display()}"
        if self.bind_to_sla:
            text += " (bound to the follow-up SLA policy)"
        if self.note:
            text += f" — {self.note}"
        return text

    def is_met(self, value, target=None) -> bool | None:
        """Whether a measured value meets this KPI; None when there is no value."""
        if value is None:
            return None
        target = self.target if target is None else target
        return value >= target if self.direction == self.Direction.AT_LEAST else value <= target


class Acknowledgement(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expectations_acknowledgements"
    )
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="expectations_ack_once_per_version")]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.version}"
