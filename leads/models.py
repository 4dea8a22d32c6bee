"""Leads and their append-only timeline.

The columns on Lead that describe its accountability state (first_contacted_at,
last_activity_at, next_follow_up_at, closed_at) are maintained by leads.services in
the same transaction as the timeline entry that changes them; FollowUp rows record
each follow-up a rep promised, so "done on time" is a fact in the database, not a
guess made later.
"""

import json
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accountability.models import Team


class IntakeSource(models.Model):
    """Where leads come from: a web form, an API client, an import. Admins configure them.

    The API token is shown once (at creation or rotation); only its sha256 is stored,
    with a short visible prefix so an admin can tell tokens apart.
    """

    name = models.CharField(max_length=100, unique=True)  # internal ("West Coast Ads"): never shown to visitors
    # What visitors of the web form read; empty means the organisation's name (settings.ORGANISATION_NAME).
    public_name = models.CharField(max_length=100, blank=True, default="")
    slug = models.SlugField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="intake_sources")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    token_hash = models.CharField(max_length=64, blank=True)
    token_prefix = models.CharField(max_length=16, blank=True)
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    # API requests per minute for this source's token (0: the LEADS_API_RATE_PER_MINUTE setting).
    rate_limit_per_minute = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], condition=~Q(token_hash=""), name="intake_token_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def visitor_name(self) -> str:
        """The name the public form and thank-you page show: the public name, else the organisation's
        (empty when neither is set; the templates then say "our team")."""
        return self.public_name or settings.ORGANISATION_NAME


class TeamIntakeSettings(models.Model):
    """How a team's new leads are assigned. A team without a row gets round-robin with no cap.

    The row is also the lock that makes assignment fair under concurrency: lead_create
    takes it with SELECT ... FOR UPDATE, so two leads arriving together cannot both go
    to the same rep or both be created as duplicates of one another.
    """

    class Mode(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round-robin among active reps"
        QUEUE = "queue", "Unassigned queue (reps claim)"

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="intake_settings")
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ROUND_ROBIN)
    # A rep with this many open, never-contacted leads gets no more until they catch up.
    max_open_untouched = models.PositiveIntegerField(null=True, blank=True)
    # Round-robin pointer: the rep who got the last lead; the next one goes to the next rep by id.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "team intake settings"
        verbose_name_plural = "team intake settings"

    def __str__(self) -> str:
        return f"Intake for {self.team}"


class Lead(models.Model):
    class Stage(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        PROPOSAL = "proposal", "Proposal"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.PROPOSAL)
    CLOSED_STAGES = (Stage.WON, Stage.LOST)

    class Channel(models.TextChoices):
        MANUAL = "manual", "Manual entry"
        WEB_FORM = "web_form", "Web form"
        API = "api", "API"
        CSV = "csv", "CSV import"

    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)  # stored lower-cased
    phone = models.CharField(max_length=20, blank=True)  # stored in E.164
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.MANUAL)
    source = models.ForeignKey(IntakeSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="leads")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_leads"
    )  # null: waiting in the team's unassigned queue
    # The rep the lead was first assigned to (intake, manual entry or a claim from the queue).
    # Set once by leads.services and never changed by a reassignment: the metrics' "received"
    # and "saved" attribution (leads.metrics) read it. Indexed with arrived_at (lead_received_arrived).
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW)
    lost_reason = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    arrived_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    first_contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Speed to lead in the team's business time (arrival to first contact), computed once when
    # the first contact is logged, with the hours of the policy version the lead's SLA clock
    # used (leads.sla.selectors.first_contact_business_minutes). Stored so the metrics' medians
    # and percentiles stay plain SQL; the wall-clock figure is first_contacted_at - arrived_at.
    first_contact_business_minutes = models.FloatField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-arrived_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="lead_value_not_negative"),
            models.CheckConstraint(
                condition=Q(stage__in=["won", "lost"], closed_at__isnull=False)
                | (~Q(stage__in=["won", "lost"]) & Q(closed_at__isnull=True)),
                name="lead_closed_at_matches_stage",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "stage"], name="lead_owner_stage"),
            models.Index(fields=["team", "-arrived_at"], name="lead_team_arrived"),
            models.Index(fields=["owner", "-arrived_at"], name="lead_owner_arrived"),
            models.Index(
                fields=["next_follow_up_at"],
                condition=Q(stage__in=["new", "contacted", "qualified", "proposal"]),
                name="lead_open_follow_up_due",
            ),
            models.Index(
                fields=["arrived_at"],
                condition=Q(first_contacted_at__isnull=True, stage__in=["new", "contacted", "qualified", "proposal"]),
                name="lead_open_untouched",
            ),
            # The team's unassigned queue on My day.
            models.Index(
                fields=["team", "arrived_at"],
                condition=Q(owner__isnull=True, stage__in=["new", "contacted", "qualified", "proposal"]),
                name="lead_team_queue",
            ),
            # Leads received per rep in a period (leads.metrics): also serves lookups by received_by
            # alone. first_contacted_at and the business speed are INCLUDEd (PostgreSQL) so the
            # received/contacted/speed figures come from an index-only scan: no heap page per lead.
            models.Index(
                fields=["received_by", "arrived_at"],
                include=["first_contacted_at", "first_contact_business_minutes"],
                name="lead_received_arrived",
            ),
            # Deals closed in a short range (the part of a period the daily rollup does not cover:
            # today), for reps and teams alike.
            models.Index(fields=["closed_at"], condition=Q(closed_at__isnull=False), name="lead_closed_at"),
            # A team's and a rep's open leads with what "neglected" reads (leads.metrics.neglect)
            # INCLUDEd: the neglected counts of the dashboards, and the order of the neglected
            # report's page (its ids), are index-only scans, without visiting a heap page per open
            # lead (it was most of a department dashboard's SQL). Neither INCLUDEs the other's key:
            # "owner = me OR team IN (...)" (a manager's visible leads) then combines the two
            # (BitmapOr) instead of scanning either whole index, which grows with the organisation.
            models.Index(
                fields=["team"],
                include=["id", "arrived_at", "first_contacted_at", "next_follow_up_at", "last_activity_at"],
                condition=Q(stage__in=["new", "contacted", "qualified", "proposal"]),
                name="lead_team_open_neglect",
            ),
            models.Index(
                fields=["owner"],
                include=["id", "arrived_at", "first_contacted_at", "next_follow_up_at", "last_activity_at"],
                condition=Q(stage__in=["new", "contacted", "qualified", "proposal"]),
                name="lead_owner_open_neglect",
            ),
            # Deals a rep's or a team's leads closed in a short range (today, beside the rollup):
            # closed leads only, so writes to open leads never touch them.
            models.Index(
                fields=["owner", "closed_at"],
                include=["stage", "value"],
                condition=Q(closed_at__isnull=False),
                name="lead_owner_closed",
            ),
            models.Index(
                fields=["team", "closed_at"],
                include=["stage", "value"],
                condition=Q(closed_at__isnull=False),
                name="lead_team_closed",
            ),
            # The newest leads of many teams (a manager's or head of sales' list: owner = X OR team IN
            # (...), newest first): read backwards until a page is full, instead of sorting every
            # lead of the teams (113 ms for a head of 100 reps on 100,000 leads; issue 16).
            models.Index(fields=["-arrived_at", "-id"], name="lead_arrived"),
            # A rep's most recently worked leads (the kudos form's evidence: the 30 newest by last
            # activity): read from the index instead of sorting all of the rep's leads (0.8-1.6 ms
            # on 1,000 leads a rep, the recognition feed's slowest query; issue 16).
            models.Index(fields=["owner", "-last_activity_at", "-id"], name="lead_owner_activity"),
            # The latest write of any lead: part of the dashboards' data version (one index look-up,
            # leads.reports.pagecache).
            models.Index(fields=["updated_at"], name="lead_updated"),
            models.Index(fields=["email"], condition=~Q(email=""), name="lead_email"),
            models.Index(fields=["phone"], condition=~Q(phone=""), name="lead_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES

    @property
    def is_untouched(self) -> bool:
        return self.is_open and self.first_contacted_at is None

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.next_follow_up_at is not None and self.next_follow_up_at < timezone.now()

    @property
    def speed_to_lead_business(self) -> Decimal | None:
        """Speed to lead in business minutes, to one decimal like the metrics (for display)."""
        if self.first_contact_business_minutes is None:
            return None
        return Decimal(str(self.first_contact_business_minutes)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def speed_to_lead_wall(self) -> Decimal | None:
        """Speed to lead in wall-clock minutes (first contact - arrival), to one decimal."""
        if self.first_contacted_at is None:
            return None
        minutes = Decimal((self.first_contacted_at - self.arrived_at).total_seconds()) / 60
        return minutes.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class Activity(models.Model):
    """One entry on a lead's timeline. Append-only: never deleted; corrected only briefly by its author."""

    class Kind(models.TextChoices):
        # What reps log:
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        SMS = "sms", "SMS"
        NOTE = "note", "Note"
        # What the system records:
        ARRIVED = "arrived", "Arrived"
        INQUIRY = "inquiry", "Repeat inquiry"
        ASSIGNED = "assigned", "Assigned"
        STAGE = "stage", "Stage changed"
        REMINDER = "reminder", "Reminder sent"
        BREACH = "breach", "Follow-up breached"
        ESCALATED = "escalated", "Escalated"
        UPDATED = "updated", "Details edited"
        # The lead changed hands: the old owner's SLA steps stopped, the new owner's clock started.
        SLA_HANDOVER = "sla_handover", "SLA handed over"

    LOGGABLE = (Kind.CALL, Kind.EMAIL, Kind.MEETING, Kind.SMS, Kind.NOTE)
    # A note is not a contact with the lead: it does not stop the speed-to-lead clock.
    CONTACT_KINDS = (Kind.CALL, Kind.EMAIL, Kind.MEETING, Kind.SMS)

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )  # null: the system
    outcome = models.CharField(max_length=50, blank=True)
    body = models.TextField(blank=True)
    # Structured details: {"from_owner": id, "to_owner": id, "reason": "..."}, {"from": "new", "to": "won"}, ...
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )  # a later entry that corrects this one, once the edit window has closed

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="activity_lead_recent"),
            models.Index(fields=["actor", "occurred_at", "kind"], name="activity_actor_time_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.lead_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def is_contact(self) -> bool:
        return self.kind in self.CONTACT_KINDS


class FollowUp(models.Model):
    """A follow-up a rep promised (the next-follow-up date of a logged activity).

    It is done by the next contact with the lead; on time when that contact happened
    by `due_at`. Follow-up compliance is computed from these rows.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"  # replaced by a new date, or the lead closed

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    set_by = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            # At most one open follow-up per lead: setting a new date replaces the old one.
            models.UniqueConstraint(fields=["lead"], condition=Q(state="open"), name="follow_up_one_open_per_lead"),
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="open"), name="follow_up_open_due"),
            # A rep's follow-ups due in a range (their compliance today, on the dashboards):
            # state and done_at INCLUDEd for an index-only count.
            models.Index(fields=["owner", "due_at"], include=["state", "done_at"], name="follow_up_owner_due_state"),
        ]

    def __str__(self) -> str:
        return f"Follow-up on {self.lead_id} due {self.due_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def on_time(self) -> bool | None:
        if self.state != self.State.DONE or self.done_at is None:
            return None
        return self.done_at <= self.due_at


class IdempotencyKey(models.Model):
    """A POST to the intake API that carried an Idempotency-Key: its retry gets the same answer.

    A row under a unique (source, key) constraint rather than a cache entry, so a retry
    racing the first request waits on the row lock and can never create a second lead.
    """

    source = models.ForeignKey(IntakeSource, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of the request body
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="idempotency_key_once_per_source")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.key}"


# --- Daily rollup (leads.rollup builds it, leads.metrics reads it) ------------------------------


class MinutesField(models.Field):
    """A list of floats: a PostgreSQL `double precision[]` (unnest() reads it fast and exactly,
    for percentile_cont over many days), JSON text elsewhere (SQLite, where leads.metrics does not
    read the rollup)."""

    description = "A list of minute values"

    def db_type(self, connection):
        return "double precision[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, list):
            return value

        return json.loads(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = [float(v) for v in (value or [])]
        if connection.vendor == "postgresql":
            return value

        return json.dumps(value)


class RepDay(models.Model):
    """One person's accountability figures for one local day, in the zone their figures are cut in
    (their first team's; accountability.timezones.figures_time_zone).

    The row states the exact interval it covers (`starts_at`, `ends_at`), so leads.metrics can use
    it for any period that contains the whole interval and read the rest from the raw rows: the
    answer is the same whatever zone the period is cut in. Written only by leads.rollup (nightly
    for the day just ended, plus any closed day whose rows changed since; `rollup_rebuild` for a
    range), one row per person and day even when every figure is zero: a missing row means "not
    rolled up", never "nothing happened".
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    time_zone = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Leads that arrived this day and were first assigned to the person (Lead.received_by).
    received = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    # Speed to lead (business minutes, Lead.first_contact_business_minutes) of each contacted lead
    # of the day's cohort that has it, sorted: kept whole so medians and percentiles over any set
    # of days are exact (percentile_cont over them).
    first_contact_minutes = MinutesField(default=list, blank=True)
    # The same leads' wall-clock minutes (first contact - arrival), sorted: the second figure.
    # A lead without stored business minutes is in this list only, so the lists' lengths may differ.
    first_contact_wall_minutes = MinutesField(default=list, blank=True)
    # Follow-ups of the person due this day (cancelled ones left out): kept = done by the due time.
    follow_ups_due = models.PositiveIntegerField(default=0)
    follow_ups_kept = models.PositiveIntegerField(default=0)
    follow_ups_missed = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    sms = models.PositiveIntegerField(default=0)
    notes = models.PositiveIntegerField(default=0)
    # Leads the person owned when they closed this day.
    won = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    value_won = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    saved = models.PositiveIntegerField(default=0)
    # SLA: follow-ups/first contacts of the person that went overdue (the overdue notice they were
    # sent) and those escalated to their manager, this day.
    breaches = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="rep_day_once"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="rep_day_interval"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"

    @property
    def activities(self) -> int:
        return self.calls + self.emails + self.meetings + self.sms + self.notes


class TeamDay(models.Model):
    """A team's own lead figures for one local day in the team's zone (each lead counted once, in
    its team, the unassigned queue included): what team totals need beyond the sum of their
    members' RepDay rows. Same contract as RepDay."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    time_zone = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    received = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    first_contact_minutes = MinutesField(default=list, blank=True)
    first_contact_wall_minutes = MinutesField(default=list, blank=True)
    won = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    value_won = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "day"], name="team_day_once"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="team_day_interval"),
        ]

    def __str__(self) -> str:
        return f"team {self.team_id} on {self.day}"


class RollupState(models.Model):
    """One row: when the nightly rollup last ran, so the next run re-rolls the closed days whose
    raw rows changed since (a lead contacted late, a follow-up cancelled, a backdated entry)."""

    singleton = models.BooleanField(default=True, unique=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Rollup last run at {self.last_run_at}"
