"""Follow-up SLAs: policies, business hours, holidays, and the rows the sweep records.

- `SlaPolicy`: the organisation default (team null) or one team's policy (sub-teams inherit).
  Every change bumps `version`; clocks keep the version and values they were computed with,
  so a change applies to new due times only.
- `SlaClock`: one due event of one lead (its first contact, one promised follow-up, or "no
  follow-up date set since <last activity>"), unique per (lead, key). It carries the due time,
  the time of every step of the ladder and why (the explanation shown on the lead page).
- `SlaNotice`: one step of a clock's ladder (reminder, overdue, escalation level 1 and 2),
  unique per (clock, step): the same due event can never produce the same notice twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from accountability.dataversion import TrackedManager
from accountability.models import Team
from leads.sla.business_time import format_minutes
from leads.sla.wording import FALLBACK_HOURS, describe_values, hours_summary


class SlaPolicy(models.Model):
    class OnEscalation(models.TextChoices):
        NOTIFY = "notify", "Only tell the managers"
        REASSIGN = "reassign", "Reassign to the next available rep of the team"
        CLAIM = "claim", "Let a teammate claim the lead"

    team = models.OneToOneField(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policy")
    first_contact_minutes = models.PositiveIntegerField(
        default=15, help_text="Business minutes after arrival by which the lead must be contacted."
    )
    reminder_before_minutes = models.PositiveIntegerField(
        default=30, help_text="Remind the owner this many minutes before a follow-up is due (0: no reminder)."
    )
    overdue_reminder_minutes = models.PositiveIntegerField(
        default=0, help_text="Tell the owner this many minutes after the due time that it is overdue (0: at once)."
    )
    no_follow_up_after_minutes = models.PositiveIntegerField(
        default=2 * 8 * 60,
        help_text="An open, contacted lead with no follow-up date is overdue after this many business minutes.",
    )
    escalation_grace_minutes = models.PositiveIntegerField(
        default=60, help_text="Business minutes after the breach before the team's manager is told."
    )
    second_level_delay_minutes = models.PositiveIntegerField(
        default=4 * 60,
        help_text="Further business minutes before the manager above (or the head of sales) is told.",
    )
    on_escalation = models.CharField(max_length=10, choices=OnEscalation.choices, default=OnEscalation.NOTIFY)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Its writes move its counter (accountability.dataversion): the lead page's PolicyBook.
    objects = TrackedManager()

    class Meta:
        verbose_name_plural = "SLA policies"
        ordering = [models.F("team__name").asc(nulls_first=True)]
        constraints = [
            # One organisation default (team null) and one policy per team.
            models.UniqueConstraint(Coalesce("team", 0), name="sla_policy_one_per_team_or_default"),
            models.CheckConstraint(condition=Q(first_contact_minutes__gt=0), name="sla_first_contact_positive"),
            models.CheckConstraint(
                condition=Q(no_follow_up_after_minutes__gt=0), name="sla_no_follow_up_after_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"SLA policy of {self.team}" if self.team_id else "Organisation default SLA policy"

    @property
    def scope_label(self) -> str:
        return self.team.name if self.team_id else "Organisation default"

    def values(self) -> dict:
        """The live values, as stored on each clock computed with them."""
        return {
            "first_contact_minutes": self.first_contact_minutes,
            "reminder_before_minutes": self.reminder_before_minutes,
            "overdue_reminder_minutes": self.overdue_reminder_minutes,
            "no_follow_up_after_minutes": self.no_follow_up_after_minutes,
            "escalation_grace_minutes": self.escalation_grace_minutes,
            "second_level_delay_minutes": self.second_level_delay_minutes,
            "on_escalation": self.on_escalation,
        }

    def hours_text(self) -> str:
        """Like 'Mon-Fri 09:00-17:00' (with en dashes)."""
        # An unsaved policy is the built-in default the sweep runs on; it has the default hours.
        return hours_summary(FALLBACK_HOURS if self.pk is None else list(self.hours.all()))

    def describe(self) -> str:
        """A sentence of the live values, for people (the expectations document shows it)."""
        return describe_values(self.values(), self.hours_text())


class BusinessHours(models.Model):
    """One opening window of a weekday for a policy, in the team's time zone. No row: closed."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    opens = models.PositiveSmallIntegerField()  # minutes after local midnight
    closes = models.PositiveSmallIntegerField()  # 1440 = midnight at the end of the day

    # Its writes move its counter (accountability.dataversion): the lead page's PolicyBook.
    objects = TrackedManager()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "business hours"
        constraints = [
            models.UniqueConstraint(fields=["policy", "weekday"], name="business_hours_one_window_per_day"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="business_hours_weekday_valid"),
            models.CheckConstraint(
                condition=Q(opens__lt=models.F("closes"), closes__lte=1440), name="business_hours_open_before_close"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday}: {format_minutes(self.opens)}-{format_minutes(self.closes)}"


class Holiday(models.Model):
    """A closed day: for one team, or for the whole organisation when team is null."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    # Its writes move its counter (accountability.dataversion): the lead page's PolicyBook.
    objects = TrackedManager()

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(Coalesce("team", 0), "date", name="holiday_once_per_team_and_date")]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"


class SlaClock(models.Model):
    class Kind(models.TextChoices):
        FIRST_CONTACT = "first_contact", "First contact"
        FOLLOW_UP = "follow_up", "Follow-up"
        NO_FOLLOW_UP = "no_follow_up", "No follow-up date set"

    class State(models.TextChoices):
        ACTIVE = "active", "Running"  # steps left to record
        DONE = "done", "Ladder finished"  # every step recorded; still breached until handled
        HANDLED = "handled", "Handled"
        # Found already past the backfill horizon (first deploy, a policy switched on, a long
        # outage): recorded so it is never found again, but nobody is told about it.
        EXPIRED = "expired", "Too old when found (no notices)"
        # The lead changed hands (reassigned or claimed): this owner's clock stopped; whatever was
        # still due started again for the new owner (leads.sla.handover).
        REASSIGNED = "reassigned", "Stopped: the lead changed hands"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The due event's identity: "first_contact", "follow_up:<id>", "no_follow_up:<anchor iso>".
    key = models.CharField(max_length=80)
    follow_up = models.ForeignKey(
        "leads.FollowUp", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_clocks"
    )
    anchor_at = models.DateTimeField()  # arrival, the follow-up's due time, or the last activity
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField()
    escalation_due_at = models.DateTimeField()
    escalation2_due_at = models.DateTimeField()
    next_step = models.CharField(max_length=20, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks")
    policy_version = models.PositiveIntegerField(default=0)
    policy_values = models.JSONField(default=dict)
    explanation = models.CharField(max_length=300)
    escalated_at = models.DateTimeField(null=True, blank=True)
    claimable = models.BooleanField(default=False)
    # A manager acted on the escalation (reassigned the lead): it leaves the "act now" list.
    actioned_at = models.DateTimeField(null=True, blank=True)
    actioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            # The same due event of a lead is one clock, however many sweeps see it.
            models.UniqueConstraint(fields=["lead", "key"], name="sla_clock_once_per_due_event"),
        ]
        indexes = [
            # The sweep's "what is due now": only running clocks.
            models.Index(fields=["next_at"], condition=Q(state="active"), name="sla_clock_due"),
            # The managers' "escalated, act now" lists.
            models.Index(
                fields=["-escalated_at"],
                condition=Q(escalated_at__isnull=False, state__in=["active", "done"]),
                name="sla_clock_escalated",
            ),
            models.Index(fields=["follow_up"], name="sla_clock_follow_up"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of lead {self.lead_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def lead_url(self) -> str:
        return reverse("leads:lead-detail", args=[self.lead_id])

    @property
    def next_step_label(self) -> str:
        return SlaNotice.Step(self.next_step).label if self.next_step else ""


class SlaNotice(models.Model):
    class Step(models.TextChoices):
        REMINDER = "reminder", "Reminder before due"
        OVERDUE = "overdue", "Overdue"
        ESCALATION_1 = "escalation_1", "Escalation to the team's manager"
        ESCALATION_2 = "escalation_2", "Escalation to the manager above"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled (handled in time, or the lead changed hands)"
        SKIPPED = "skipped", "Skipped"

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="notices")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="sla_notices")
    step = models.CharField(max_length=20, choices=Step.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sla_notices"
    )
    scheduled_at = models.DateTimeField()  # when the ladder said this step was due
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Its writes move its counter (accountability.dataversion): the review dashboard's cache.
    objects = TrackedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One row per step of one due event: two sweeps at once cannot both record it.
            models.UniqueConstraint(fields=["clock", "step"], name="sla_notice_once_per_step"),
        ]
        indexes = [
            models.Index(fields=["enqueued_at"], condition=Q(state="pending"), name="sla_notice_pending"),
            models.Index(fields=["lead", "-created_at"], name="sla_notice_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} for lead {self.lead_id} ({self.state})"
