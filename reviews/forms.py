import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms

from accountability.models import Team, User
from accountability.scoping import managed_team_ids
from reviews.models import AnswerKind, CriterionKind, OneOnOneSeries, ReviewCycle, ReviewTemplate
from reviews.services import CriterionInput

CRITERIA_HELP = (
    "One criterion per line: kind | title | weight [| text]. Kinds: kpi (expands to each expectations KPI "
    "in force for the rep), goal (each of the rep's goals of the period), value (a company value), question. "
    "Add “| text” to a question answered in words instead of a rating."
)


def parse_criteria(text: str) -> list[CriterionInput]:
    """Parse the criteria lines; a ValidationError names the line at fault."""
    out = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3:
            raise forms.ValidationError(f"Line {number}: write kind | title | weight.")
        kind, title, weight = parts[0].lower(), parts[1], parts[2]
        if kind not in CriterionKind.values:
            raise forms.ValidationError(f"Line {number}: the kind is one of kpi, goal, value, question.")
        if not title:
            raise forms.ValidationError(f"Line {number}: give the criterion a title.")
        try:
            weight_value = Decimal(weight)
        except InvalidOperation:
            raise forms.ValidationError(f"Line {number}: the weight must be a number.") from None
        if weight_value <= 0:
            raise forms.ValidationError(f"Line {number}: weights must be positive.")
        answer = AnswerKind.RATING
        if len(parts) > 3 and parts[3].lower() == "text":
            if kind != CriterionKind.QUESTION:
                raise forms.ValidationError(f"Line {number}: only a question can be answered in text.")
            answer = AnswerKind.TEXT
        out.append(CriterionInput(kind=kind, title=title[:200], weight=weight_value, answer=answer))
    if not out:
        raise forms.ValidationError("List at least one criterion.")
    return out


def criteria_text(template: ReviewTemplate) -> str:
    lines = []
    for c in template.criteria.all():
        line = f"{c.kind} | {c.title} | {c.weight.normalize():f}"
        if c.answer == AnswerKind.TEXT:
            line += " | text"
        lines.append(line)
    return "\n".join(lines)


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    scale_min = forms.IntegerField(min_value=0, max_value=99, initial=1, label="Lowest rating")
    scale_max = forms.IntegerField(min_value=1, max_value=100, initial=5, label="Highest rating")
    scale_labels = forms.CharField(
        required=False, max_length=500, help_text="Optional words for the points, lowest first, comma separated."
    )
    criteria = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text=CRITERIA_HELP)

    def clean_criteria(self):
        return parse_criteria(self.cleaned_data["criteria"])

    def clean(self):
        data = super().clean()
        low, high = data.get("scale_min"), data.get("scale_max")
        if low is not None and high is not None and high <= low:
            self.add_error("scale_max", "The highest rating must be above the lowest.")
        return data

    def labels(self) -> list[str]:
        return [x for x in (self.cleaned_data.get("scale_labels") or "").split(",") if x.strip()]


def preset_bounds(preset: str, start: dt.date) -> dt.date:
    months = {ReviewCycle.Preset.MONTHLY: 1, ReviewCycle.Preset.QUARTERLY: 3, ReviewCycle.Preset.HALF_YEARLY: 6}
    n = months.get(preset)
    if n is None:
        return start
    month = start.month - 1 + n
    year = start.year + month // 12
    first_after = dt.date(year, month % 12 + 1, 1)
    return first_after - dt.timedelta(days=1)


class CycleForm(forms.Form):
    name = forms.CharField(max_length=120)
    preset = forms.ChoiceField(choices=ReviewCycle.Preset.choices, initial=ReviewCycle.Preset.QUARTERLY)
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty with a preset: a month, a quarter or six months from the start.",
    )
    teams = forms.ModelMultipleChoiceField(queryset=Team.objects.none(), widget=forms.CheckboxSelectMultiple)
    include_subteams = forms.BooleanField(required=False, initial=True, label="Include sub-teams")
    self_deadline = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Self-assessment due")
    manager_deadline = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Manager assessment due")
    template = forms.ModelChoiceField(queryset=ReviewTemplate.objects.filter(is_current=True))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.all() if user.is_admin else Team.objects.filter(id__in=managed_team_ids(user))
        self.fields["teams"].queryset = teams.order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and not end:
            if data.get("preset") == ReviewCycle.Preset.CUSTOM:
                self.add_error("period_end", "Give the last day of the period.")
            else:
                data["period_end"] = preset_bounds(data["preset"], start)
        return data


class ActionItemForm(forms.Form):
    text = forms.CharField(max_length=300)
    owner = forms.ChoiceField(choices=[("rep", "The rep"), ("manager", "The manager")])
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    lead_filter = forms.CharField(
        max_length=300,
        required=False,
        label="Lead list filter (optional)",
        help_text="A lead-list query such as owner=3&overdue=on: the item shows its live count.",
    )


class SeriesForm(forms.Form):
    WEEKDAYS = [
        (i, name)
        for i, name in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
    ]

    rep = forms.ModelChoiceField(queryset=User.objects.none())
    cadence = forms.ChoiceField(choices=OneOnOneSeries.Cadence.choices)
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), initial=dt.time(10, 0))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.all() if user.is_admin else Team.objects.filter(id__in=managed_team_ids(user))
        self.fields["rep"].queryset = (
            User.objects.filter(memberships__team__in=teams, is_active=True).exclude(pk=user.pk).distinct()
        )
