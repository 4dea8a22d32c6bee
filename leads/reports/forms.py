"""Filters of the reports. Choices are limited to what the user may see; the views turn a
choice outside that scope into a 404 (the answer never says whether the team exists)."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from accountability.forms import TypedDateField
from leads.metrics import Period

PRESETS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("month", "This month"),
    ("custom", "Custom"),
]
MAX_DAYS = 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=PRESETS, initial="30", required=False)
    date_from = TypedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = TypedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def clean(self):
        data = super().clean()
        preset = data.get("period") or "30"
        data["period"] = preset
        if preset == "custom":
            date_from, date_to = data.get("date_from"), data.get("date_to")
            if not date_from or not date_to:
                raise forms.ValidationError("Pick both dates for a custom period.")
            if date_to < date_from:
                raise forms.ValidationError("The end date is before the start date.")
            if (date_to - date_from).days >= MAX_DAYS:
                raise forms.ValidationError(f"Pick at most {MAX_DAYS} days.")
        return data

    def to_period(self, tz) -> Period:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {"period": "30"}
        preset = data["period"]
        if preset == "month":
            return Period.month_of(timezone.now().astimezone(tz).date(), tz=tz)
        if preset == "custom":
            return Period.between(data["date_from"], data["date_to"], tz)
        return Period.last_days(int(preset), tz=tz)


REASONS = [("", "Any reason"), ("untouched", "Never contacted"), ("overdue", "Follow-up overdue"), ("silent", "Silent")]


class NeglectedFilterForm(forms.Form):
    team = forms.IntegerField(required=False, widget=forms.Select)
    owner = forms.CharField(required=False, widget=forms.Select)  # a user id, or "queue"
    reason = forms.ChoiceField(choices=REASONS, required=False)
    hours = forms.IntegerField(required=False, min_value=1, max_value=24 * 90, label="Never contacted after (hours)")
    days = forms.IntegerField(required=False, min_value=1, max_value=365, label="Silent for (days)")

    def clean_owner(self):
        value = self.cleaned_data.get("owner") or ""
        if value and value != "queue" and not value.isdigit():
            raise forms.ValidationError("Pick an owner from the list.")
        return value


def period_days(period: Period) -> int:
    return max(1, round((period.end - period.start) / timedelta(days=1)))
