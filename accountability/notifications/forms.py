from django import forms

from accountability.forms import normalise_phone
from accountability.notifications.chat import validate_webhook_url
from accountability.notifications.kinds import KINDS
from accountability.notifications.models import ChatWebhook


class PreferencesForm(forms.Form):
    phone = forms.CharField(
        max_length=30, required=False, label="Mobile number for SMS", help_text="For example +1 415 555 2671."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, kind in KINDS.items():
            self.fields[f"email_{code}"] = forms.BooleanField(required=False, label=f"{kind.label}: email")
            self.fields[f"sms_{code}"] = forms.BooleanField(required=False, label=f"{kind.label}: SMS")
            self.fields[f"chat_{code}"] = forms.BooleanField(required=False, label=f"{kind.label}: chat")

    def rows(self):
        return [
            (kind, self[f"email_{code}"], self[f"sms_{code}"], self[f"chat_{code}"]) for code, kind in KINDS.items()
        ]

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        choices = {
            code: (bool(data.get(f"email_{code}")), bool(data.get(f"sms_{code}")), bool(data.get(f"chat_{code}")))
            for code in KINDS
        }
        if "phone" in data and not data["phone"] and any(sms for _e, sms, _c in choices.values()):
            self.add_error("phone", "Add a mobile number to receive SMS notices.")
        data["choices"] = choices
        return data


class ChatWebhookForm(forms.Form):
    service = forms.ChoiceField(choices=ChatWebhook.Service.choices, label="Service")
    url = forms.CharField(
        max_length=1000,
        label="Incoming webhook URL",
        help_text="Slack: Apps → Incoming Webhooks → the channel's URL. Teams: the channel's Workflows/connector URL.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self):
        data = super().clean()
        if "service" in data and "url" in data:
            try:
                data["url"] = validate_webhook_url(data["url"], data["service"])
            except forms.ValidationError as exc:
                self.add_error("url", exc)
        return data
