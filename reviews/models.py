"""Reviews: review cycles, 1:1s and action items (the reviews helper), and early flags of drift."""

from django.conf import settings
from django.db import models
from django.db.models import Q

# Drift flags ----------------------------------------------------------------------------------
# Early, private flags that a rep is drifting below expectations, raised nightly from the daily
# rollup by reviews.drift and shown to the rep and their managers (never on a public board).


class DriftSettings(models.Model):
    """The thresholds of the drift rules: one row (id 1), changed by an admin in the Django admin.
    Without a row the defaults below apply."""

    kpi_falling_weeks = models.PositiveSmallIntegerField(
        default=3, help_text="A KPI below target and getting worse for this many weeks in a row."
    )
    speed_p90_ratio = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=2,
        help_text="Speed to lead (90th percentile) last week at least this many times the rep's own previous weeks.",
    )
    speed_baseline_weeks = models.PositiveSmallIntegerField(default=4, help_text="The rep's previous weeks compared.")
    follow_up_weeks = models.PositiveSmallIntegerField(
        default=2, help_text="Follow-up compliance under its target for this many weeks in a row."
    )
    follow_up_target = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=80,
        help_text="Compliance target (%) when no expectations KPI sets one.",
    )
    inactivity_business_days = models.PositiveSmallIntegerField(
        default=2, help_text="No activity logged for this many business days while owning open leads."
    )
    goals_behind_snapshots = models.PositiveSmallIntegerField(
        default=2, help_text="A goal behind in this many daily snapshots in a row."
    )
    escalations_per_week = models.PositiveSmallIntegerField(default=3, help_text="Escalations in the last 7 days.")
    one_on_one_cadence_factor = models.PositiveSmallIntegerField(
        default=2, help_text="No 1:1 held in this many times the series' cadence."
    )
    recognition_days = models.PositiveSmallIntegerField(
        default=30, help_text="No recognition received in this many days (shown to the manager only)."
    )
    dismissal_quiet_days = models.PositiveSmallIntegerField(
        default=7, help_text="A dismissed flag's rule is not raised again for the rep for this many days."
    )

    class Meta:
        verbose_name = "drift flag settings"
        verbose_name_plural = "drift flag settings"
        constraints = [
            models.CheckConstraint(condition=Q(speed_p90_ratio__gt=1), name="drift_speed_ratio_above_one"),
            models.CheckConstraint(
                condition=Q(follow_up_target__gt=0, follow_up_target__lte=100), name="drift_follow_up_target_percent"
            ),
        ]

    def __str__(self) -> str:
        return "Drift flag thresholds"


class DriftFlag(models.Model):
    """One rule raised for one rep in one week. Open -> discussed (in a 1:1) -> resolved, or
    dismissed with a reason (reviews.drift has one service per transition)."""

    class Rule(models.TextChoices):
        KPI_FALLING = "kpi_falling", "KPI below target and falling"
        SPEED_DOUBLED = "speed_doubled", "Speed to lead slower than usual"
        FOLLOW_UP_LOW = "follow_up_low", "Follow-ups missed"
        NO_ACTIVITY = "no_activity", "No activity logged"
        GOALS_BEHIND = "goals_behind", "Goal behind"
        ESCALATIONS = "escalations", "Several escalations"
        NO_ONE_ON_ONE = "no_one_on_one", "No 1:1 lately"
        NO_RECOGNITION = "no_recognition", "No recognition lately"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DISCUSSED = "discussed", "Discussed"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    ACTIVE_STATES = (State.OPEN, State.DISCUSSED)

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drift_flags")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    week = models.DateField(help_text="The Monday of the week it was raised in.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    reason = models.CharField(max_length=300)  # the rule's finding, in words
    evidence_url = models.CharField(max_length=300, blank=True)  # the rows behind it
    data = models.JSONField(default=dict, blank=True)  # the figures the rule compared
    manager_only = models.BooleanField(default=False)  # a prompt to the manager (no recognition)
    raised_at = models.DateTimeField()
    discussed_at = models.DateTimeField(null=True, blank=True)
    discussed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The 1:1 where it was discussed. TODO(merge): a ForeignKey to the reviews app's 1:1 model.
    one_on_one_id = models.PositiveIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # resolved or dismissed
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissal_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # The nightly run is idempotent: one flag per rep, rule and week, however often it runs.
            models.UniqueConstraint(fields=["rep", "rule", "week"], name="drift_flag_once_per_rep_rule_week"),
            # Never raised again while the same rule is still open (or being discussed) for the rep.
            models.UniqueConstraint(
                fields=["rep", "rule"], condition=Q(state__in=["open", "discussed"]), name="drift_flag_one_active"
            ),
            models.CheckConstraint(
                condition=~Q(state="dismissed") | ~Q(dismissal_reason=""), name="drift_flag_dismissal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["rep", "state"], name="drift_flag_rep_state")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} for {self.rep_id} (week of {self.week})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES
