"""SMART goals, their history, check-ins, daily snapshots, and weekly commitments.

A goal belongs to exactly one rep or one team. Its progress for built-in metrics is
never stored as the truth: it is computed live from leads and activities through
`leads.metrics`; `GoalSnapshot` rows only remember yesterday's figures for the chart.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accountability.dataversion import TrackedManager
from accountability.models import Team
from accountability.pacing import Pacing  # shared with the KPIs of the expectations scorecard
from leads.metrics import Metric

MANUAL = "manual"
METRIC_CHOICES = [*Metric.choices, (MANUAL, "Manual (enter check-ins)")]


class Direction(models.TextChoices):
    AT_LEAST = "up", "At least"
    AT_MOST = "down", "At most"


class GoalSettings(models.Model):
    """Pacing thresholds (one row, pk=1, edited by admins in the Django admin)."""

    at_risk_below = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("90"),
        help_text="A goal is at risk when its progress is below this % of what is expected by now.",
    )
    behind_below = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("70"),
        help_text="A goal is behind when its progress is below this % of what is expected by now.",
    )

    class Meta:
        verbose_name = "goal settings"
        verbose_name_plural = "goal settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(behind_below__gt=0, at_risk_below__lte=100, behind_below__lt=F("at_risk_below")),
                name="goal_settings_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"At risk below {self.at_risk_below} %, behind below {self.behind_below} %"


class Goal(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Preset(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"
        CUSTOM = "custom", "Custom dates"

    class Outcome(models.TextChoices):
        MET = "met", "Met"
        MISSED = "missed", "Missed"

    # Exactly one of these (goal_owner_xor_team).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="goals"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="goals")

    title = models.CharField(max_length=200)
    description = models.TextField()
    metric = models.CharField(max_length=40, choices=METRIC_CHOICES)
    unit = models.CharField(max_length=30)  # the metric's unit, or what a manual metric counts
    target = models.DecimalField(max_digits=14, decimal_places=2)
    direction = models.CharField(max_length=4, choices=Direction.choices, default=Direction.AT_LEAST)
    reason = models.TextField(blank=True)  # why it matters (relevant) ...
    kpi = models.ForeignKey(
        "expectations.Kpi", null=True, blank=True, on_delete=models.PROTECT, related_name="goals"
    )  # ... or the KPI of the expectations document it serves (a published KPI is never deleted)
    preset = models.CharField(max_length=10, choices=Preset.choices, default=Preset.MONTHLY)
    start_date = models.DateField()
    end_date = models.DateField()  # inclusive

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # Last pacing the daily evaluation saw; a change to at-risk notifies once per transition.
    pacing = models.CharField(max_length=10, choices=Pacing.choices, blank=True)
    pacing_changes = models.PositiveIntegerField(default=0)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["end_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner__isnull=False) & Q(team__isnull=True))
                | (Q(owner__isnull=True) & Q(team__isnull=False)),
                name="goal_owner_xor_team",
            ),
            models.CheckConstraint(condition=Q(target__gt=0), name="goal_target_positive"),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="goal_ends_after_start"),
            models.CheckConstraint(condition=~Q(title="") & ~Q(description="") & ~Q(unit=""), name="goal_specific"),
            models.CheckConstraint(condition=Q(outcome="") | Q(status="approved"), name="goal_outcome_only_approved"),
            models.CheckConstraint(condition=~Q(reason="") | Q(kpi__isnull=False), name="goal_relevant"),
        ]
        indexes = [
            models.Index(fields=["owner", "end_date"], name="goal_owner_end"),
            models.Index(fields=["team", "end_date"], name="goal_team_end"),
            models.Index(fields=["end_date"], condition=Q(status="approved", outcome=""), name="goal_open_end"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_manual(self) -> bool:
        return self.metric == MANUAL

    @property
    def is_team_goal(self) -> bool:
        return self.team_id is not None

    @property
    def owner_label(self) -> str:
        return str(self.team) if self.team_id else str(self.owner)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.APPROVED and not self.outcome


class GoalEvent(models.Model):
    """The goal's history: every proposal, decision, edit, check-in and outcome. Append-only."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ASSIGNED = "assigned", "Assigned"
        EDITED = "edited", "Edited"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CHECK_IN = "check_in", "Check-in"
        PACING = "pacing", "Pacing changed"
        MET = "met", "Met"
        MISSED = "missed", "Missed"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # null: the system
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # {"field": [old, new], ...} for edits; {"from": .., "to": ..} for pacing; {"value": ..} for check-ins.
    changes = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["goal", "-created_at"], name="goal_event_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on goal {self.goal_id}"

    @property
    def change_lines(self) -> list[str]:
        """The recorded changes as readable lines ("target: 10.00 → 15")."""
        changes = self.changes or {}
        if set(changes) == {"from", "to"}:
            return [f"{Pacing(changes['from']).label if changes['from'] else '—'} → {Pacing(changes['to']).label}"]
        lines = []
        for name, value in changes.items():
            if isinstance(value, list) and len(value) == 2:
                lines.append(f"{name.replace('_', ' ')}: {value[0]} → {value[1]}")
            elif value is not None:
                lines.append(f"{name.replace('_', ' ')}: {value}")
        return lines


class CheckIn(models.Model):
    """A manual metric's figure to date, reported by the owner (a member for a team goal) or a manager."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="check_ins")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=14, decimal_places=2)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(value__gte=0), name="check_in_value_not_negative")]
        indexes = [models.Index(fields=["goal", "-created_at"], name="check_in_goal_recent")]

    def __str__(self) -> str:
        return f"{self.value} on goal {self.goal_id}"


class GoalSnapshot(models.Model):
    """A goal's figure at the end of one day, for the progress chart. One per goal per day."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    pacing = models.CharField(max_length=10, choices=Pacing.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["goal", "date"], name="goal_snapshot_once_per_day")]

    def __str__(self) -> str:
        return f"{self.goal_id} on {self.date}: {self.value}"


class Commitment(models.Model):
    """A short promise for one week ("call 30 new leads"), visible to teammates."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CARRIED = "carried", "Carried over"
        CLOSED = "closed", "Closed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="commitments")
    week_start = models.DateField()  # the Monday of the week
    text = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)  # why it was closed undone
    carried_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_to"
    )  # one-to-one: carrying a commitment over twice is impossible
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["week_start", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(week_start__week_day=2), name="commitment_week_starts_monday"),
            models.CheckConstraint(condition=~Q(text=""), name="commitment_text_not_empty"),
            models.CheckConstraint(
                condition=Q(status="done", done_at__isnull=False) | (~Q(status="done") & Q(done_at__isnull=True)),
                name="commitment_done_at_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "week_start"], name="commitment_owner_week"),
            models.Index(fields=["week_start"], condition=Q(status="open"), name="commitment_open_week"),
        ]

    def __str__(self) -> str:
        return self.text
