from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from accountability.forms import PlainModelChoiceIterator, PythonSelect, PythonSelectMultiple
from accountability.models import User
from recognition.awards import LEADERBOARD_METRICS
from recognition.models import CompanyValue, Kudos, RecognitionSettings
from recognition.selectors import active_values, person_name, recipient_choices, settings_get


class _PeopleChoiceIterator(PlainModelChoiceIterator):
    """The people as (id, name) from one values query: on the feed's give form (140 people with
    the organisation feed on) building a User per option to name it cost more than writing the
    select (issue 16). The name is User.__str__'s: the full name, else the username."""

    def __iter__(self):
        rows = self.queryset.values_list("pk", "first_name", "last_name", "username")
        for pk, first_name, last_name, username in rows:
            yield (pk, person_name(first_name, last_name, username))


class PersonChoiceField(forms.ModelMultipleChoiceField):
    iterator = _PeopleChoiceIterator  # one values query, not a server-side cursor of Users

    def label_from_instance(self, obj):
        return str(obj)


class ValueChoiceField(forms.ModelMultipleChoiceField):
    iterator = PlainModelChoiceIterator  # one query, not a server-side cursor


class KudosForm(forms.Form):
    """Give kudos. Recipients and evidence are limited to what the giver may see; an unknown or
    invisible choice is refused with the same message as a missing one."""

    recipients = PersonChoiceField(
        queryset=User.objects.none(),
        error_messages={
            "invalid_choice": "Choose colleagues you work with.",
            "required": "Choose who you are recognising.",
        },
        widget=PythonSelectMultiple(attrs={"size": 5}),
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, strip=True)
    values = ValueChoiceField(
        queryset=CompanyValue.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choose a current company value.",
            "required": "Choose at least one company value this shows.",
        },
    )
    evidence = forms.ChoiceField(required=False, label="Evidence (optional)", widget=PythonSelect)

    def __init__(self, *args, user: User, evidence_choices: list[tuple[str, str]], org_feed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        people = recipient_choices(user, org_feed=org_feed)
        self.fields["recipients"].queryset = people.order_by("first_name", "last_name", "username")
        self.fields["values"].queryset = active_values()
        self.fields["evidence"].choices = [("", "None"), *evidence_choices]
        self.fields["evidence"].error_messages["invalid_choice"] = "Choose evidence you can see."
        self.fields["recipients"].widget.attrs.update({"class": "form-select", "data-testid": "give-recipients"})
        self.fields["evidence"].widget.attrs.update(
            {"class": "form-select form-select-sm", "data-testid": "give-evidence"}
        )

    def clean_message(self):
        message = self.cleaned_data["message"]
        minimum = settings_get().min_message_length
        if len(message) < minimum:
            raise ValidationError(f"Say what they did: at least {minimum} characters ({len(message)} so far).")
        return message

    def full_clean(self):
        super().full_clean()
        # Oneself is not among the choices; say why rather than "not a colleague".
        chosen = self.data.getlist("recipients") if hasattr(self.data, "getlist") else self.data.get("recipients", [])
        if self.is_bound and str(self.user.pk) in [str(pk) for pk in chosen]:
            self.errors["recipients"] = self.error_class(["You cannot give kudos to yourself."])
            self.cleaned_data.pop("recipients", None)


class KudosEditForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, strip=True)
    values = forms.ModelMultipleChoiceField(
        queryset=CompanyValue.objects.all(), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, kudos: Kudos, **kwargs):
        super().__init__(*args, **kwargs)
        used = kudos.values.values_list("pk", flat=True)

        self.fields["values"].queryset = CompanyValue.objects.filter(Q(retired=False) | Q(pk__in=list(used)))


class HideForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(max_length=1000, required=False, label="Comment")


class AwardChooseForm(forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    winner = forms.CharField()
    note = forms.CharField(max_length=300, required=False)

    def clean_winner(self):
        value = self.cleaned_data["winner"]
        kind, _, pk = value.partition(":")
        if kind not in ("user", "team") or not pk.isdigit():
            raise ValidationError("Choose one winner.")
        return kind, int(pk)


class SettingsForm(forms.ModelForm):
    leaderboard_metrics = forms.MultipleChoiceField(required=False)

    class Meta:
        model = RecognitionSettings
        fields = [
            "org_feed_enabled",
            "monthly_allowance",
            "max_per_recipient_per_day",
            "min_message_length",
            "leaderboard_mode",
            "leaderboard_metrics",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leaderboard_metrics"].choices = list(LEADERBOARD_METRICS.items())
        self.fields["leaderboard_metrics"].widget = forms.CheckboxSelectMultiple(
            choices=self.fields["leaderboard_metrics"].choices
        )
        self.fields["leaderboard_metrics"].help_text = "Only these appear on a team-wide leaderboard."
