import datetime as dt
import json

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from accountability.expectations.kpis import kpi_target
from accountability.expectations.models import Kpi
from accountability.forms import TypedDateField
from accountability.pacing import higher_is_better
from goals import metric_source
from goals.models import MANUAL, METRIC_CHOICES, Direction, Goal
from goals.services import goal_fields_clean

SMART_PARTS = {
    "title": "specific (title)",
    "description": "specific (description)",
    "metric": "measurable (metric)",
    "unit": "measurable (unit)",
    "target": "measurable (target)",
    "direction": "measurable (direction)",
    "reason": "relevant (reason or KPI)",
    "kpi": "relevant (KPI)",
    "start_date": "time-bound (start date)",
    "end_date": "time-bound (end date)",
}
PRESET_MONTHS = {Goal.Preset.MONTHLY: 1, Goal.Preset.QUARTERLY: 3, Goal.Preset.YEARLY: 12}


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31))


def preset_end(start: dt.date, preset: str) -> dt.date | None:
    months = PRESET_MONTHS.get(preset)
    return add_months(start, months) - dt.timedelta(days=1) if months else None


class GoalForm(forms.Form):
    """The SMART goal form. With `owner_choices` (a manager assigning) it asks whose goal it is."""

    owner = forms.ChoiceField(label="For", required=False)
    title = forms.CharField(max_length=200, required=False, help_text="Specific: what, in a few words.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="Specific: what exactly will be achieved."
    )
    metric = forms.ChoiceField(choices=[("", "Choose a metric…"), *METRIC_CHOICES], required=False)
    unit = forms.CharField(max_length=30, required=False, help_text="For a manual metric: what you count.")
    direction = forms.ChoiceField(
        choices=[("", "Default for the metric"), *Direction.choices], required=False, label="The figure must be"
    )
    target = forms.DecimalField(max_digits=14, decimal_places=2, required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Relevant: why this goal matters."
    )
    kpi = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Serves the KPI",
        empty_label="No KPI (give a reason)",
        help_text="Relevant: a KPI of your expectations document (or write the reason above).",
    )
    preset = forms.ChoiceField(choices=Goal.Preset.choices, initial=Goal.Preset.MONTHLY, label="Period")
    start_date = TypedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end_date = TypedDateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Only for custom dates; a preset sets it from the start date.",
    )

    def __init__(self, *args, owner_choices=None, goal_pk: int | None = None, kpis=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis if kpis is not None else Kpi.objects.none()
        self.fields["kpi"].label_from_instance = lambda k: f"{k.version.document.title}: {k.line()}"
        if owner_choices is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].choices = [("", "Choose a rep or a team…"), *owner_choices]
            self.fields["owner"].required = True
        # Achievable: refresh the owner's recent figure beside the target when the metric or owner changes.
        htmx = {
            "hx-get": reverse("goals:goal-recent-figure"),
            "hx-include": "[name=metric],[name=owner]",
            "hx-target": "#recent-figure",
            "hx-swap": "outerHTML",
            "hx-trigger": "change",
        }
        if goal_pk:
            htmx["hx-vals"] = json.dumps({"goal": goal_pk})
        for name in ("metric", "owner"):
            if name in self.fields:
                self.fields[name].widget.attrs.update(htmx)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        metric = data.get("metric") or ""
        direction = data.get("direction") or ""
        kpi = data.get("kpi")
        target = data.get("target")
        if kpi is not None and not metric:
            # A goal that serves a KPI measures what the KPI measures, unless told otherwise.
            metric = kpi.metric
            direction = direction or (Direction.AT_LEAST if higher_is_better(kpi.direction) else Direction.AT_MOST)
            target = target if target is not None else kpi_target(kpi)
        if not direction and metric and metric != MANUAL and metric in dict(METRIC_CHOICES):
            direction = metric_source.metric_direction(metric)
        elif not direction:
            direction = Direction.AT_LEAST
        start, end, preset = data.get("start_date"), data.get("end_date"), data.get("preset")
        if start and preset != Goal.Preset.CUSTOM:
            end = preset_end(start, preset)
        try:
            cleaned = goal_fields_clean(
                title=data.get("title", ""),
                description=data.get("description", ""),
                metric=metric,
                unit=data.get("unit", ""),
                target=target,
                direction=direction,
                reason=data.get("reason", ""),
                preset=preset or "",
                start_date=start,
                end_date=end,
                kpi=kpi,
            )
        except ValidationError as exc:
            missing = [SMART_PARTS[f] for f in exc.message_dict if f in SMART_PARTS]
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            if missing:
                summary = "This goal is not SMART yet. Missing or wrong: " + ", ".join(missing) + "."
                raise ValidationError(summary) from None
            return data
        data.update(cleaned)
        return data


class GoalEditForm(GoalForm):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Managers: say why you changed it (the rep sees this).",
    )


class CheckInForm(forms.Form):
    value = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, label="Figure to date")
    comment = forms.CharField(max_length=500, required=False)


class ApproveForm(forms.Form):
    comment = forms.CharField(max_length=1000, required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class CommitmentForm(forms.Form):
    text = forms.CharField(
        max_length=200, label="I commit to", widget=forms.TextInput(attrs={"placeholder": "call 30 new leads"})
    )
    week = forms.ChoiceField(choices=[("this", "This week"), ("next", "Next week")], initial="this")


class CommitmentWeekForm(forms.Form):
    """?week=YYYY-MM-DD on the commitments page: any day of the week to show."""

    week = TypedDateField(required=False)


class CommitmentCloseForm(forms.Form):
    note = forms.CharField(max_length=300, label="Why close it?")
