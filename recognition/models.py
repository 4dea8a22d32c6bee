"""Recognition: company values, kudos (peer and automatic), awards and their settings.

A kudos is given by a person (`giver`) or by the system (`giver` null, `rule` set), to one or
more recipients, tagged with at least one company value (peer kudos), optionally pointing at
its evidence (a lead, a goal, a commitment). Automatic kudos come from `AutoKudos`, one row per
cause under a unique constraint, so a retried or duplicated task never posts twice.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accountability.dataversion import TrackedManager
from accountability.models import Team

USER = settings.AUTH_USER_MODEL
# A giver may correct their kudos for this long after giving it.
EDIT_WINDOW = dt.timedelta(minutes=10)


class LeaderboardMode(models.TextChoices):
    OFF = "off", "Off"
    PERSONAL = "personal", "Personal (each rep sees only their own position and trend)"
    TEAM = "team", "Team-wide (the metrics allowed below)"


class RecognitionSettings(models.Model):
    """The organisation's recognition settings (one row, pk=1, edited by admins)."""

    org_feed_enabled = models.BooleanField(
        default=True, help_text="Everyone sees everyone's kudos on the organisation feed (off: team feeds only)."
    )
    monthly_allowance = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many kudos (per recipient) a person may give a month. Empty: no limit."
    )
    max_per_recipient_per_day = models.PositiveSmallIntegerField(
        default=3, help_text="The same giver cannot send the same person more kudos than this in a day."
    )
    min_message_length = models.PositiveSmallIntegerField(
        default=20, help_text="A kudos says what the person did: at least this many characters."
    )
    leaderboard_mode = models.CharField(max_length=10, choices=LeaderboardMode.choices, default=LeaderboardMode.OFF)
    # Codes from recognition.awards.LEADERBOARD_METRICS the admin allows on a team-wide board.
    leaderboard_metrics = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "recognition settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="recognition_settings_singleton")]

    def __str__(self) -> str:
        return "Recognition settings"


class CompanyValue(models.Model):
    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=300, blank=True)
    colour = models.CharField(max_length=7, default="#0d6efd", help_text="A hex colour, e.g. #198754.")
    icon = models.CharField(max_length=8, blank=True, help_text="An emoji or short symbol.")
    position = models.PositiveSmallIntegerField(default=0)
    # A retired value stays on old kudos but cannot be chosen for new ones.
    retired = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="company_value_colour_hex"),
        ]

    def __str__(self) -> str:
        return self.name


class AutoRule(models.Model):
    """One automatic-recognition rule: switched on and tuned by admins."""

    class Code(models.TextChoices):
        GOAL_MET = "goal_met", "Goal met"
        LEAD_SAVED = "lead_saved", "Lead saved"
        SLA_STREAK = "sla_streak", "SLA streak"
        COMMITMENTS_KEPT = "commitments_kept", "Commitments kept for a month"
        ACTION_ITEMS_DONE = "action_items_done", "A review's action items all done on time"

    code = models.CharField(max_length=30, choices=Code.choices, unique=True)
    enabled = models.BooleanField(default=True)
    # Tunables per rule, e.g. {"business_days": 20}, {"weeks": 4}, {"untouched_hours": 24}.
    params = models.JSONField(default=dict, blank=True)
    requires_cosign = models.BooleanField(
        default=False, help_text="The recipient's manager approves each kudos before it is posted."
    )
    value = models.ForeignKey(
        CompanyValue, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # the value the automatic kudos is tagged with

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class Kudos(models.Model):
    giver = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="kudos_given"
    )  # null: automatic (the system)
    recipients = models.ManyToManyField(USER, through="KudosRecipient", related_name="kudos_received")
    message = models.TextField()
    values = models.ManyToManyField(CompanyValue, blank=True, related_name="kudos")
    # Evidence, at most one, chosen from what the giver may see.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    goal = models.ForeignKey("goals.Goal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    commitment = models.ForeignKey(
        "goals.Commitment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(AutoRule, null=True, blank=True, on_delete=models.PROTECT, related_name="kudos")
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        verbose_name_plural = "kudos"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(giver__isnull=True, rule__isnull=False) | Q(giver__isnull=False, rule__isnull=True),
                name="kudos_from_person_xor_rule",
            ),
            models.CheckConstraint(condition=Q(hidden=False) | ~Q(hidden_reason=""), name="kudos_hidden_has_reason"),
            models.CheckConstraint(
                condition=(
                    Q(lead__isnull=True, goal__isnull=True)
                    | Q(lead__isnull=True, commitment__isnull=True)
                    | Q(goal__isnull=True, commitment__isnull=True)
                ),
                name="kudos_one_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"Kudos {self.pk} from {self.giver or 'the system'}"

    @property
    def is_automatic(self) -> bool:
        return self.giver_id is None

    @property
    def editable_until(self):
        return self.created_at + EDIT_WINDOW

    @property
    def evidence_kind(self) -> str:
        if self.lead_id:
            return "lead"
        if self.goal_id:
            return "goal"
        if self.commitment_id:
            return "commitment"
        return ""


class KudosRecipient(models.Model):
    kudos = models.ForeignKey(Kudos, on_delete=models.CASCADE, related_name="recipient_rows")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    # Copied from the kudos so "received in a period" and the daily cap read one index.
    created_at = models.DateTimeField()

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kudos", "user"], name="kudos_recipient_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="kudos_recipient_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} received kudos {self.kudos_id}"


class KudosReaction(models.Model):
    """A one-click "+1": one per person per kudos."""

    kudos = models.ForeignKey(Kudos, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kudos", "user"], name="kudos_reaction_once_per_person")]

    def __str__(self) -> str:
        return f"+1 by {self.user_id} on kudos {self.kudos_id}"


class KudosComment(models.Model):
    kudos = models.ForeignKey(Kudos, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    body = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="kudos_comment_not_empty")]

    def __str__(self) -> str:
        return self.body[:50]


class KudosEvent(models.Model):
    """The audit trail of kudos: given, edited, deleted, hidden, shown again. Append-only."""

    class Kind(models.TextChoices):
        GIVEN = "given", "Given"
        EDITED = "edited", "Edited"
        DELETED = "deleted", "Deleted"
        HIDDEN = "hidden", "Hidden"
        UNHIDDEN = "unhidden", "Shown again"
        POSTED = "posted", "Posted automatically"

    kudos = models.ForeignKey(Kudos, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    kudos_ref = models.PositiveIntegerField()  # kept when the kudos is deleted
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} kudos {self.kudos_ref}"


class AutoKudos(models.Model):
    """One automatic recognition per cause ("goal:12", "lead:55", "sla_streak:7:2026-11-02").

    The unique constraint on (rule, cause) is what makes it exactly once: a retried task or a
    second worker hits it and does nothing.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the manager's co-sign"
        POSTED = "posted", "Posted"
        DECLINED = "declined", "Declined by the manager"

    rule = models.ForeignKey(AutoRule, on_delete=models.PROTECT, related_name="grants")
    cause = models.CharField(max_length=100)
    recipients = models.ManyToManyField(USER, related_name="+")
    message = models.TextField()
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    goal = models.ForeignKey("goals.Goal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # {"start": "2026-11-02", "end": "2026-11-27"} for streaks: the next streak starts after `end`.
    data = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    kudos = models.OneToOneField(Kudos, null=True, blank=True, on_delete=models.SET_NULL, related_name="grant")
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "automatic kudos"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "cause"], name="auto_kudos_once_per_cause")]
        indexes = [models.Index(fields=["state"], condition=Q(state="pending"), name="auto_kudos_pending")]

    def __str__(self) -> str:
        return f"{self.rule} · {self.cause}"


class Award(models.Model):
    class Kind(models.TextChoices):
        METRIC = "metric", "Computed from a metric"
        MANUAL = "manual", "Chosen by a manager"

    class Period(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"

    class Winner(models.TextChoices):
        PERSON = "person", "A person"
        TEAM = "team", "A whole team (team reward)"

    name = models.CharField(max_length=100)
    criteria = models.TextField(help_text="Published: how the winner is decided.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.METRIC)
    metric = models.CharField(max_length=40, blank=True)  # a code of recognition.awards.AWARD_METRICS
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    # Null: the whole organisation; else this team and its sub-teams.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="awards")
    winner_kind = models.CharField(max_length=10, choices=Winner.choices, default=Winner.PERSON)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="manual") | ~Q(metric=""), name="award_metric_needs_metric"),
            models.UniqueConstraint(fields=["name", "team"], nulls_distinct=False, name="award_name_per_scope"),
        ]

    def __str__(self) -> str:
        return self.name


class AwardWinner(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="winners")
    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="awards_won")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="awards_won")
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    chosen_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "award"]
        constraints = [
            # One winner per award and period: computing it twice changes nothing.
            models.UniqueConstraint(fields=["award", "period_start"], name="award_winner_once_per_period"),
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="award_winner_person_xor_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.award}: {self.user or self.team} ({self.period_start})"

    @property
    def winner_label(self) -> str:
        return str(self.user or self.team)
