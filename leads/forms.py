from datetime import datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils.html import conditional_escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from accountability.forms import (
    PythonDateTimeInput,
    PythonOrderedSelect,
    TypedDateField,
    TypedDateTimeField,
    add_service_errors,  # noqa: F401 - re-exported for the leads views
)
from accountability.models import Team, User
from accountability.scoping import managed_team_ids, member_team_ids, teams_visible_to, users_visible_to
from leads.jobs.models import ImportJobRow
from leads.models import Activity, IntakeSource, Lead, TeamIntakeSettings
from leads.services import OUTCOMES, _normalise_phone, normalise_email


class ContactFieldsMixin(forms.Form):
    name = forms.CharField(max_length=200)
    company = forms.CharField(max_length=200, required=False)
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput)
    phone = forms.CharField(max_length=30, required=False, help_text="With country code, e.g. +44 20 7946 0958.")

    def clean_email(self):
        try:
            return normalise_email(self.cleaned_data["email"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["email"]) from None

    def clean_phone(self):
        try:
            return _normalise_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["phone"]) from None

    def clean(self):
        data = super().clean()
        no_contact = not data.get("email") and not data.get("phone")
        if no_contact and "email" not in self.errors and "phone" not in self.errors:
            self.add_error("email", "Give an email address or a phone number, so someone can follow up.")
        return data


class LeadForm(ContactFieldsMixin):
    """Manual entry. A rep enters leads for themselves; a manager picks the team and owner (or round-robin)."""

    value = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, required=False, initial=0)
    team = forms.ModelChoiceField(queryset=Team.objects.none())
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Team's rule (round-robin or queue)"
    )
    source = forms.ModelChoiceField(queryset=IntakeSource.objects.none(), required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False)

    def __init__(self, *args, user: User, people=None, teams=None, **kwargs):
        """`people` and `teams`: the owner and team selects' options as (id, name), when the page
        read them already (the lead list: leads.reports.selectors.people_choices and
        accountability.scoping.team_scope); the fields' querysets still check what is sent."""
        super().__init__(*args, **kwargs)
        self.user = user
        if people is not None:
            self._people = people
        if teams is not None:
            self._teams = teams
        if user.is_admin:
            teams = Team.objects.all()
        elif user.is_manager:
            teams = Team.objects.filter(id__in=managed_team_ids(user) | member_team_ids(user))
        else:
            teams = Team.objects.filter(id__in=member_team_ids(user))
        self.fields["team"].queryset = teams
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk
        self.fields["source"].queryset = IntakeSource.objects.filter(team__in=teams, is_active=True)
        if user.is_rep:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = User.objects.filter(memberships__team__in=teams, is_active=True).distinct()

    def clean(self):
        data = super().clean()
        team, source = data.get("team"), data.get("source")
        if team and source and source.team_id != team.pk:
            self.add_error("source", "This source belongs to another team.")
        return data


class LeadEditForm(ContactFieldsMixin):
    value = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False)


class PublicLeadForm(ContactFieldsMixin):
    """The embeddable web form. `website` is a honeypot: people never see it, bots fill it."""

    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, required=False, label="How can we help?"
    )
    website = forms.CharField(required=False, label="Leave this empty")


def outcome_choices() -> list:
    groups: list = [("", "Outcome…")]
    for kind, outcomes in OUTCOMES.items():
        if outcomes:
            groups.append((Activity.Kind(kind).label, outcomes))
    return groups


LOGGABLE_CHOICES = [(k, Activity.Kind(k).label) for k in Activity.LOGGABLE]


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        choices=LOGGABLE_CHOICES,
        initial="call",
        # Written in Python (the template's HTML): two template renders less on every lead page.
        widget=PythonOrderedSelect(attrs={"class": "form-select form-select-sm w-auto", "aria-label": "Kind"}),
    )
    outcome = forms.ChoiceField(
        choices=outcome_choices,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto", "aria-label": "Outcome"}),
        help_text="None for a note.",
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False, label="Note")
    next_follow_up_at = TypedDateTimeField(
        required=False,
        label="Next follow-up",
        widget=PythonDateTimeInput(
            attrs={
                "type": "datetime-local",
                "class": "form-control form-control-sm w-auto",
                "aria-label": "Next follow-up",
            },
            format="%Y-%m-%dT%H:%M",
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    def current_kind(self) -> str:
        """The kind typed (bound form) or the default: the outcome menu shows its outcomes."""
        value = self["kind"].value()
        return value if value in dict(LOGGABLE_CHOICES) else "call"

    def outcome_groups(self) -> list[dict]:
        """One optgroup per kind (Sent and Replied exist for email and SMS); only the current
        kind's group is shown, and static/leads/activity_form.js switches it when the kind changes."""
        kind, chosen = self.current_kind(), self["outcome"].value() or ""
        return [
            {
                "kind": k,
                "label": Activity.Kind(k).label,
                "active": k == kind,
                "options": [(value, label, k == kind and value == chosen) for value, label in outcomes],
            }
            for k, outcomes in OUTCOMES.items()
            if outcomes
        ]

    def outcome_select(self) -> str:
        """The outcome menu (the optgroups of outcome_groups), written in Python: it was an include
        of two nested loops on every lead page and quick log. The same HTML as that template."""
        esc = conditional_escape
        groups = "".join(
            f'<optgroup label="{esc(g["label"])}" data-kind="{esc(g["kind"])}"'
            f"{'' if g['active'] else ' hidden disabled'}>"
            + "".join(
                f'<option value="{esc(value)}"{" selected" if selected else ""}>{esc(label)}</option>'
                for value, label, selected in g["options"]
            )
            + "</optgroup>"
            for g in self.outcome_groups()
        )
        invalid = " is-invalid" if self["outcome"].errors else ""
        disabled = " disabled" if self.current_kind() == "note" else ""
        return mark_safe(  # noqa: S308 - every value and label is escaped above
            f'<select name="outcome" class="form-select form-select-sm w-auto{invalid}" aria-label="Outcome"'
            f'{disabled}>\n  <option value="">Outcome…</option>\n  {groups}\n</select>'
        )


class ActivityEditForm(forms.Form):
    """Fix one's own entry: its kind stands, so only that kind's outcomes are offered (and accepted)."""

    outcome = forms.ChoiceField(choices=(), required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False)

    def __init__(self, *args, activity: Activity, **kwargs):
        kwargs.setdefault("initial", {"outcome": activity.outcome, "body": activity.body})
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.fields["outcome"].choices = OUTCOMES.get(activity.kind, []) or [("", "—")]


class CorrectionForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, label="Correction")

    def __init__(self, *args, activity: Activity, **kwargs):
        super().__init__(*args, **kwargs)
        self.activity = activity


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Lead.Stage.choices)
    lost_reason = forms.CharField(max_length=200, required=False, label="Why was it lost?")


class ReassignForm(forms.Form):
    to_owner = forms.ModelChoiceField(queryset=User.objects.none(), label="New owner")
    reason = forms.CharField(max_length=500)

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = User.objects.filter(memberships__team=lead.team, is_active=True).exclude(
            pk=lead.owner_id
        )


class LeadFilterForm(forms.Form):
    """The lead list's filters; the export takes the same ones."""

    SORTS = {
        "arrived": "arrived_at",
        "-arrived": "-arrived_at",
        "name": "name",
        "-name": "-name",
        "value": "value",
        "-value": "-value",
        "follow_up": "next_follow_up_at",
        "-follow_up": "-next_follow_up_at",
        "last_activity": "last_activity_at",
        "-last_activity": "-last_activity_at",
    }
    q = forms.CharField(required=False, max_length=100, label="Search")
    stage = forms.ChoiceField(choices=[("", "Any stage"), ("open", "Open"), *Lead.Stage.choices], required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Any owner")
    # The rep a lead was first assigned to: what the dashboard's "received" counts, reassignments aside.
    received_by = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Anyone", label="First assigned to"
    )
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="Any team")
    source = forms.ModelChoiceField(queryset=IntakeSource.objects.none(), required=False, empty_label="Any source")
    overdue = forms.BooleanField(required=False, label="Follow-up overdue")
    untouched = forms.BooleanField(required=False, label="Never contacted")
    arrived_from = TypedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    arrived_to = TypedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("-arrived", "Newest first"),
            ("arrived", "Oldest first"),
            ("follow_up", "Follow-up due"),
            ("-last_activity", "Recent activity"),
            ("-value", "Highest value"),
            ("name", "Name"),
        ],
    )

    # The leads one of the user's CSV imports created or joined (links from the import's result page).
    import_job = forms.IntegerField(required=False, min_value=1, max_value=2**62, widget=forms.HiddenInput)
    import_outcome = forms.ChoiceField(
        required=False, widget=forms.HiddenInput,
        choices=[("", "Any"), (ImportJobRow.Outcome.IMPORTED, "Imported"), (ImportJobRow.Outcome.DUPLICATE, "Joined")],
    )  # fmt: skip

    def __init__(self, *args, user: User, people=None, teams=None, **kwargs):
        """`people` and `teams`: the owner and team selects' options as (id, name), when the page
        read them already (the lead list: leads.reports.selectors.people_choices and
        accountability.scoping.team_scope); the fields' querysets still check what is sent."""
        super().__init__(*args, **kwargs)
        self.user = user
        if people is not None:
            self._people = people
        if teams is not None:
            self._teams = teams
        self.fields["owner"].queryset = users_visible_to(user).filter(is_active=True).order_by("first_name")
        self.fields["received_by"].queryset = self.fields["owner"].queryset
        self.fields["team"].queryset = teams_visible_to(user)
        self.fields["source"].queryset = IntakeSource.objects.filter(team__in=teams_visible_to(user))

    # The selects the lead list renders: their <option>s are written here in one pass (`select_options`)
    # instead of a template loop over each field's subwidgets, which ran the people query twice
    # (owner, first assigned to) and cost a template round per option: 250 options for a head of
    # sales of 100 reps (issue 16).
    def select_options(self, name: str) -> str:
        field = self.fields[name]
        if isinstance(field, forms.ModelChoiceField):
            if name in ("owner", "received_by"):
                if not hasattr(self, "_people"):
                    self._people = [(p.pk, str(p)) for p in self.fields["owner"].queryset]
                rows = self._people
            elif name == "team" and hasattr(self, "_teams"):
                rows = self._teams
            else:
                rows = [(obj.pk, field.label_from_instance(obj)) for obj in field.queryset]
            choices = [("", field.empty_label), *rows] if field.empty_label is not None else rows
        else:
            choices = list(field.choices)
        value = self[name].value()
        selected = "" if value is None else str(value)
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if str(v) == selected else "", label) for v, label in choices),
        )

    def filter(self, qs, *, now, tz):
        if not self.is_valid():
            return qs.order_by("-arrived_at", "-id")
        d = self.cleaned_data
        if d.get("q"):
            term = d["q"].strip()
            qs = qs.filter(
                Q(name__icontains=term)
                | Q(company__icontains=term)
                | Q(email__icontains=term.lower())
                | Q(phone__contains=term.replace(" ", ""))
            )
        if d.get("stage") == "open":
            qs = qs.filter(stage__in=Lead.OPEN_STAGES)
        elif d.get("stage"):
            qs = qs.filter(stage=d["stage"])
        for field in ("owner", "received_by", "team", "source"):
            if d.get(field):
                qs = qs.filter(**{field: d[field]})
        if d.get("overdue"):
            qs = qs.filter(stage__in=Lead.OPEN_STAGES, next_follow_up_at__lt=now)
        if d.get("untouched"):
            qs = qs.filter(stage__in=Lead.OPEN_STAGES, first_contacted_at__isnull=True)
        if d.get("arrived_from"):
            qs = qs.filter(arrived_at__gte=datetime.combine(d["arrived_from"], time.min, tzinfo=tz))
        if d.get("arrived_to"):
            qs = qs.filter(arrived_at__lt=datetime.combine(d["arrived_to"] + timedelta(days=1), time.min, tzinfo=tz))
        if d.get("import_job"):
            rows = ImportJobRow.objects.filter(job_id=d["import_job"], job__created_by=self.user, lead__isnull=False)
            if d.get("import_outcome"):
                rows = rows.filter(outcome=d["import_outcome"])
            qs = qs.filter(pk__in=rows.values("lead_id"))
        order = self.SORTS.get(d.get("sort") or "-arrived", "-arrived_at")
        field = order.lstrip("-")
        if not Lead._meta.get_field(field).null:
            # A plain ORDER BY, which the indexes on (arrived_at DESC, id DESC) serve: NULLS LAST on
            # a column without NULLs changes nothing but makes PostgreSQL sort every row instead.
            return qs.order_by(order, "-id")
        expr = F(field).desc(nulls_last=True) if order.startswith("-") else F(field).asc(nulls_last=True)
        return qs.order_by(expr, "-id")


class IntakeSourceForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Internal: only your team sees it.")
    public_name = forms.CharField(
        max_length=100,
        required=False,
        label="Shown to visitors as",
        help_text="What visitors of the web form read. Empty: the organisation's name.",
    )
    slug = forms.SlugField(max_length=100, required=False, help_text="Used in the web form's address. Optional.")
    team = forms.ModelChoiceField(queryset=Team.objects.all())
    rate_limit_per_minute = forms.IntegerField(
        min_value=0, max_value=100000, initial=0, help_text="API requests per minute; 0 uses the site default."
    )

    def clean(self):
        data = super().clean()
        name = data.get("name")
        if name:
            data["slug"] = data.get("slug") or slugify(name)[:100]
            if IntakeSource.objects.filter(name__iexact=name.strip()).exists():
                self.add_error("name", "An intake source with this name already exists.")
            if not data["slug"]:
                self.add_error("slug", "Give a slug made of letters, numbers and hyphens.")
            elif IntakeSource.objects.filter(slug=data["slug"]).exists():
                self.add_error("slug", "This slug is taken.")
        return data


class IntakeSourcePublicNameForm(forms.Form):
    public_name = forms.CharField(
        max_length=100,
        required=False,
        label="Shown to visitors as",
        help_text="What visitors of the web form read. Empty: the organisation's name.",
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file")
    team = forms.ModelChoiceField(queryset=Team.objects.none())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_admin:
            teams = Team.objects.all()
        else:
            teams = Team.objects.filter(id__in=managed_team_ids(user) | member_team_ids(user))
        self.fields["team"].queryset = teams
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk


class TeamIntakeSettingsForm(forms.Form):
    mode = forms.ChoiceField(choices=TeamIntakeSettings.Mode.choices, widget=forms.RadioSelect)
    max_open_untouched = forms.IntegerField(
        min_value=1,
        max_value=10000,
        required=False,
        label="Cap on open, never-contacted leads per rep",
        help_text="A rep at the cap gets no new lead until they contact one; empty means no cap.",
    )
