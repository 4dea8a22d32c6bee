from django import forms

from accountability.forms import TypedDateField
from accountability.models import Team
from leads.sla.business_time import format_minutes, parse_hhmm
from leads.sla.models import SlaPolicy
from leads.sla.wording import DAY_NAMES

MINUTES = {"min_value": 0, "max_value": 60 * 24 * 60}


class SlaPolicyForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        empty_label="Organisation default (every team without its own policy)",
        help_text="Sub-teams without a policy of their own use their parent team's.",
    )
    first_contact_minutes = forms.IntegerField(label="First contact within (business minutes)", **MINUTES)
    reminder_before_minutes = forms.IntegerField(
        label="Remind the owner before a follow-up is due (minutes)", **MINUTES
    )
    overdue_reminder_minutes = forms.IntegerField(label="Overdue reminder, minutes after the due time", **MINUTES)
    no_follow_up_after_minutes = forms.IntegerField(
        label="Open lead with no follow-up date is overdue after (business minutes)", **MINUTES
    )
    escalation_grace_minutes = forms.IntegerField(
        label="Escalate to the team's manager after (business minutes)", **MINUTES
    )
    second_level_delay_minutes = forms.IntegerField(
        label="Then escalate to the manager above after (business minutes)", **MINUTES
    )
    on_escalation = forms.ChoiceField(choices=SlaPolicy.OnEscalation.choices, label="On escalation")

    def __init__(self, *args, policy: SlaPolicy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        for day, name in enumerate(DAY_NAMES):
            self.fields[f"day{day}_opens"] = forms.CharField(
                required=False, label=f"{name} opens", widget=forms.TextInput(attrs={"placeholder": "09:00", "size": 5})
            )
            self.fields[f"day{day}_closes"] = forms.CharField(
                required=False,
                label=f"{name} closes",
                widget=forms.TextInput(attrs={"placeholder": "17:00", "size": 5}),
            )
        if policy is not None and policy.pk:
            for row in policy.hours.all():
                self.initial.setdefault(f"day{row.weekday}_opens", format_minutes(row.opens))
                self.initial.setdefault(f"day{row.weekday}_closes", format_minutes(row.closes))

    def day_rows(self):
        return [(name, self[f"day{day}_opens"], self[f"day{day}_closes"]) for day, name in enumerate(DAY_NAMES)]

    def clean(self):
        data = super().clean()
        hours = {}
        for day in range(7):
            opens, closes = (data.get(f"day{day}_opens") or "").strip(), (data.get(f"day{day}_closes") or "").strip()
            if not opens and not closes:
                continue
            try:
                opens_min = parse_hhmm(opens)
            except ValueError as exc:
                self.add_error(f"day{day}_opens", str(exc))
                continue
            try:
                closes_min = parse_hhmm(closes)
            except ValueError as exc:
                self.add_error(f"day{day}_closes", str(exc))
                continue
            if closes_min <= opens_min:
                self.add_error(f"day{day}_closes", "Closing time must be after opening time.")
                continue
            hours[day] = (opens, closes)
        if not hours and not self.errors:
            raise forms.ValidationError("Open at least one day a week.")
        for name in ("first_contact_minutes", "no_follow_up_after_minutes"):
            if data.get(name) == 0:
                self.add_error(name, "Must be at least 1 minute.")
        data["hours"] = hours
        return data


class HolidayForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="Whole organisation")
    date = TypedDateField(widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(max_length=100)


class ReassignForm(forms.Form):
    to_owner = forms.IntegerField()
