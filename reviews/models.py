"""Performance reviews and 1:1s: cycles, templates, reviews, frozen packets, assessments,
action items, 1:1 series, meetings and their agendas.

A template is versioned: every edit makes a new row (`family` + `version`), so a cycle keeps
the exact version it was opened with. At opening each review copies its criteria
(`ReviewCriterion`, KPIs and goals expanded for that rep), so nothing edited later alters a
review already opened. The packet is computed live until it is frozen (`FrozenFigure` rows:
value, when, by which rule).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accountability.dataversion import TrackedManager
from accountability.models import Team

# --- Templates ------------------------------------------------------------------------------


class CriterionKind(models.TextChoices):
    KPI = "kpi", "Expectations KPI"
    GOAL = "goal", "Goal of the period"
    VALUE = "value", "Company value"
    QUESTION = "question", "Question"


class AnswerKind(models.TextChoices):
    RATING = "rating", "Rating"
    TEXT = "text", "Text"


class ReviewTemplate(models.Model):
    """One version of a template. A change is a new version; old versions stay as they were."""

    name = models.CharField(max_length=120)
    # The first version of the template; null on the first version itself.
    family = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="later_versions")
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    scale_min = models.PositiveSmallIntegerField(default=1)
    scale_max = models.PositiveSmallIntegerField(default=5)
    # Optional words for the points of the scale, lowest first ("Below", "Meets", ...).
    scale_labels = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.CheckConstraint(condition=Q(scale_max__gt=F("scale_min")), name="review_template_scale_ordered"),
            models.CheckConstraint(condition=Q(scale_max__lte=100), name="review_template_scale_bounded"),
            models.UniqueConstraint(
                fields=["family", "version"], name="review_template_version_unique", nulls_distinct=True
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def family_id_or_self(self) -> int:
        return self.family_id or self.pk

    def scale_points(self) -> list[tuple[int, str]]:
        labels = list(self.scale_labels or [])
        points = []
        for i, value in enumerate(range(self.scale_min, self.scale_max + 1)):
            points.append((value, labels[i] if i < len(labels) else ""))
        return points


class TemplateCriterion(models.Model):
    """A line of a template. A `kpi` line expands to each expectations KPI in force for the rep
    at opening, a `goal` line to each of the rep's goals of the period."""

    template = models.ForeignKey(ReviewTemplate, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=CriterionKind.choices)
    title = models.CharField(max_length=200)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(1))
    answer = models.CharField(max_length=10, choices=AnswerKind.choices, default=AnswerKind.RATING)

    class Meta:
        ordering = ["template", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="review_template_criterion_weight_positive"),
            models.CheckConstraint(
                condition=Q(answer="rating") | Q(kind="question"), name="review_template_text_only_for_questions"
            ),
        ]

    def __str__(self) -> str:
        return self.title


# --- Cycles and reviews ---------------------------------------------------------------------


class ReviewCycle(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Preset(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        HALF_YEARLY = "half_yearly", "Half-yearly"
        CUSTOM = "custom", "Custom dates"

    name = models.CharField(max_length=120)
    preset = models.CharField(max_length=12, choices=Preset.choices, default=Preset.QUARTERLY)
    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    teams = models.ManyToManyField(Team, related_name="review_cycles")
    include_subteams = models.BooleanField(default=True)
    self_deadline = models.DateField()
    manager_deadline = models.DateField()
    template = models.ForeignKey(ReviewTemplate, on_delete=models.PROTECT, related_name="cycles")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="review_cycle_period_ordered"),
            models.CheckConstraint(
                condition=Q(self_deadline__gt=F("period_start")), name="review_cycle_self_deadline_after_start"
            ),
            models.CheckConstraint(
                condition=Q(manager_deadline__gte=F("self_deadline")), name="review_cycle_manager_after_self"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Self-assessment due"
        SELF_SUBMITTED = "self_submitted", "Self-assessment submitted"
        MANAGER_SUBMITTED = "manager_submitted", "Manager assessment submitted"
        SHARED = "shared", "Shared with the rep"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="reviews")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    # The rep's team at opening: what scopes the review to managers.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_to_write")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    self_submitted_at = models.DateTimeField(null=True, blank=True)
    manager_submitted_at = models.DateTimeField(null=True, blank=True)
    shared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_comment = models.TextField(blank=True)
    response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    self_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    manager_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-cycle__period_start", "rep__first_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "rep"], name="review_once_per_rep_and_cycle"),
            models.CheckConstraint(condition=~Q(rep=F("reviewer")), name="review_not_own_reviewer"),
        ]
        indexes = [models.Index(fields=["rep", "-created_at"], name="review_rep_recent")]

    def __str__(self) -> str:
        return f"{self.cycle}: {self.rep}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class ReviewEvent(models.Model):
    """The review's history: opened, reassigned, submitted, frozen, shared, acknowledged. Append-only."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # null: the system
    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on review {self.review_id}"


class ReviewCriterion(models.Model):
    """A criterion of one review, copied at opening (KPI and goal lines expanded for the rep)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=CriterionKind.choices)
    title = models.CharField(max_length=200)
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    answer = models.CharField(max_length=10, choices=AnswerKind.choices, default=AnswerKind.RATING)
    # KPI and goal criteria: the figure that rates them by default.
    metric = models.CharField(max_length=40, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    direction = models.CharField(max_length=4, blank=True)  # "up" or "down"
    kpi = models.ForeignKey(
        "expectations.Kpi", null=True, blank=True, on_delete=models.SET_NULL, related_name="review_criteria"
    )
    goal = models.ForeignKey("goals.Goal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["review", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="review_criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def figure_key(self) -> str:
        if self.kind == CriterionKind.GOAL and self.goal_id:
            return f"goal:{self.goal_id}"
        if self.kind == CriterionKind.KPI and self.metric:
            return f"kpi:{self.metric}"
        return ""


class Assessment(models.Model):
    class Side(models.TextChoices):
        SELF = "self", "Self-assessment"
        MANAGER = "manager", "Manager assessment"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="assessments")
    side = models.CharField(max_length=10, choices=Side.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    highlights = models.TextField(blank=True)
    challenges = models.TextField(blank=True)
    # Bumped by every save: a save made from an older copy (another tab) is refused, not lost.
    version = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "side"], name="assessment_once_per_side")]

    def __str__(self) -> str:
        return f"{self.get_side_display()} of {self.review}"


class Answer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(ReviewCriterion, on_delete=models.CASCADE, related_name="answers")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # KPI/goal criteria: the rating the figure gave; `rating` differs only with a written reason.
    computed_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "criterion"], name="answer_once_per_criterion"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.rating}"

    @property
    def is_override(self) -> bool:
        return self.computed_rating is not None and self.rating is not None and self.rating != self.computed_rating


class FrozenFigure(models.Model):
    """One packet figure as it was when the review was frozen, with when and by which rule."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="frozen_figures")
    key = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    section = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    value = models.CharField(max_length=200)  # as displayed
    number = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500, blank=True)
    rule = models.CharField(max_length=80)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["review", "position"]
        constraints = [models.UniqueConstraint(fields=["review", "key"], name="frozen_figure_once_per_key")]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


# --- 1:1s -----------------------------------------------------------------------------------


class OneOnOneSeries(models.Model):
    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        BIWEEKLY = "biweekly", "Every two weeks"
        MONTHLY = "monthly", "Monthly"

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="one_on_ones_led")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="one_on_ones")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="one_on_one_series")
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday, in the team's zone
    time = models.TimeField()  # in the team's zone
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        verbose_name_plural = "1:1 series"
        ordering = ["rep__first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "rep"], condition=Q(is_active=True), name="one_on_one_one_active_series"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="one_on_one_weekday_valid"),
            models.CheckConstraint(condition=~Q(manager=F("rep")), name="one_on_one_two_people"),
        ]

    def __str__(self) -> str:
        return f"1:1 {self.manager} / {self.rep}"


class Meeting(models.Model):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    series = models.ForeignKey(OneOnOneSeries, on_delete=models.CASCADE, related_name="meetings")
    scheduled_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)
    shared_notes = models.TextField(blank=True)
    private_note = models.TextField(blank=True)  # the manager's only: never shown to the rep
    # Where the suggestions look from: the previous meeting (or 14 days before the first).
    since = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["-scheduled_at"]
        constraints = [
            models.UniqueConstraint(fields=["series", "scheduled_at"], name="meeting_once_per_slot"),
        ]
        indexes = [models.Index(fields=["scheduled_at"], condition=Q(state="scheduled"), name="meeting_upcoming")]

    def __str__(self) -> str:
        return f"{self.series} on {self.scheduled_at:%Y-%m-%d}"


class AgendaItem(models.Model):
    class State(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        KEPT = "kept", "Kept"
        DISMISSED = "dismissed", "Dismissed"
        ADDED = "added", "Added"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    text = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ADDED)
    # Suggestions: what they come from ("sla_breaches", ...) and the rows behind them.
    source = models.CharField(max_length=40, blank=True)
    evidence_url = models.CharField(max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # null: suggested
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "source"], condition=~Q(source=""), name="agenda_suggestion_once_per_source"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="agenda_item_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text


# --- Action items ---------------------------------------------------------------------------


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    text = models.CharField(max_length=300)
    # Whose development it is about (scopes it like the rep's other records) and who does it.
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items_about")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="action_items")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items")
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    drop_reason = models.CharField(max_length=300, blank=True)
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.CASCADE, related_name="action_items")
    # Optional evidence: a lead-list query string ("owner=3&overdue=on") whose live count it shows.
    lead_filter = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="action_item_text_not_empty"),
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(drop_reason=""), name="action_item_dropped_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="action_item_closed_at_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "due_date"], condition=Q(status="open"), name="action_item_open_owner"),
            models.Index(fields=["rep", "status"], name="action_item_rep_status"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


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
    # The 1:1 where it was discussed (a meeting of the rep's series); kept if the meeting goes.
    one_on_one = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="drift_flags"
    )
    closed_at = models.DateTimeField(null=True, blank=True)  # resolved or dismissed
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissal_reason = models.CharField(max_length=300, blank=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

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
