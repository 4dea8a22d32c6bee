"""The action bar of the lead list and the neglected report: what to do with the selected leads."""

from django import forms
from django.core.exceptions import ValidationError

from accountability.models import User
from leads.bulk_selectors import BULK_MAX, assignable_owners, can_reassign
from leads.models import Lead

ACTIONS = [("reassign", "Reassign"), ("stage", "Change stage"), ("export", "Export CSV")]


class LeadIdsField(forms.Field):
    """The ticked leads: one `ids` value per checkbox, each a lead id."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            ids = list(dict.fromkeys(int(v) for v in value))
        except (TypeError, ValueError):
            raise ValidationError("That selection is not valid: reload the page and select again.") from None
        if any(i <= 0 or i > 2**63 - 1 for i in ids):
            raise ValidationError("That selection is not valid: reload the page and select again.")
        return ids

    def validate(self, value) -> None:
        if not value:
            raise ValidationError("Select at least one lead.")
        if len(value) > BULK_MAX:
            raise ValidationError(f"Select at most {BULK_MAX} leads at once (you selected {len(value)}).")


class BulkActionForm(forms.Form):
    ids = LeadIdsField(required=False)
    action = forms.ChoiceField(choices=ACTIONS, label="Action")
    to_owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Give them to",
                                      empty_label="Choose…")  # fmt: skip
    reason = forms.CharField(max_length=500, required=False, label="Why reassign them?")
    stage = forms.ChoiceField(choices=[("", "Choose…"), *Lead.Stage.choices], required=False, label="Move them to")
    lost_reason = forms.CharField(max_length=200, required=False, label="Why were they lost?")
    next = forms.CharField(max_length=2000, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.can_reassign = can_reassign(user)
        if self.can_reassign:
            self.fields["to_owner"].queryset = assignable_owners(user)
        else:
            self.fields["action"].choices = [c for c in ACTIONS if c[0] != "reassign"]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "reassign":
            if not data.get("to_owner") and "to_owner" not in self.errors:
                self.add_error("to_owner", "Choose the new owner.")
            if not (data.get("reason") or "").strip() and "reason" not in self.errors:
                self.add_error("reason", "Say why the leads are being reassigned.")
        elif action == "stage":
            if not data.get("stage") and "stage" not in self.errors:
                self.add_error("stage", "Choose the new stage.")
            elif data.get("stage") == Lead.Stage.LOST and not (data.get("lost_reason") or "").strip():
                self.add_error("lost_reason", "Say why the leads were lost.")
        return data
