from decimal import Decimal

from django import forms

from accountability.expectations.models import SECTIONS, SLA_BINDABLE_METRICS, Kpi
from accountability.models import Team
from leads.metrics import Metric


class DocumentCreateForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        empty_label="Organisation-wide (everyone)",
        help_text="A team document adds to the organisation document for that team and its sub-teams.",
    )
    title = forms.CharField(max_length=200)


class DraftForm(forms.Form):
    """The six Markdown sections of a draft."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, heading, help_text in SECTIONS:
            self.fields[name] = forms.CharField(
                label=heading,
                required=False,
                help_text=help_text + " Markdown.",
                widget=forms.Textarea(attrs={"rows": 6}),
            )


class KpiForm(forms.Form):
    metric = forms.ChoiceField(choices=Metric.choices)
    direction = forms.ChoiceField(choices=Kpi.Direction.choices)
    target = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    period = forms.ChoiceField(choices=Kpi.Cadence.choices)
    bind_to_sla = forms.BooleanField(
        required=False,
        label="Bind to the follow-up SLA policy",
        help_text="Speed-to-lead only: the target shown is the team's live first-contact time.",
    )
    note = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("bind_to_sla") and data.get("metric") not in SLA_BINDABLE_METRICS:
            self.add_error("bind_to_sla", "Only a speed-to-lead KPI can be bound to the follow-up SLA policy.")
        return data


class PublishForm(forms.Form):
    # The summary and the Publish button belong to the sections form (HTML `form` attribute), so
    # publishing sends the sections as they stand in the editor, saved or not.
    change_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "form": "draft-form"}),
        help_text="What changed and why. Everyone reads this before acknowledging.",
        error_messages={"required": "Say what changed in this version (people read this first)."},
    )
