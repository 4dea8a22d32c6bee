from django import forms

from accountability.forms import normalise_phone
from accountability.notifications.kinds import KINDS


class PreferencesForm(forms.Form):
    phone = forms.CharField(
        max_length=30, required=False, label="Mobile number for SMS", help_text="For example +1 415 555 2671."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, kind in KINDS.items():
            self.fields[f"email_{code}"] = forms.BooleanField(required=False, label=f"{kind.label}: email")
            self.fields[f"sms_{code}"] = forms.BooleanField(required=False, label=f"{kind.label}: SMS")

    def rows(self):
        return [(kind, self[f"email_{code}"], self[f"sms_{code}"]) for code, kind in KINDS.items()]

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        choices = {code: (bool(data.get(f"email_{code}")), bool(data.get(f"sms_{code}"))) for code in KINDS}
        if "phone" in data and not data["phone"] and any(sms for _e, sms in choices.values()):
            self.add_error("phone", "Add a mobile number to receive SMS notices.")
        data["choices"] = choices
        return data
