import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from accountability.models import Team, User

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


# --- Selects with many options ---------------------------------------------------------------------
class _PythonOptionsMixin:
    """A select written in Python from Django's own widget context (same attributes, values, labels
    and selected options) instead of one template render per <option>: the recipients and evidence
    selects of the kudos form (140 options on a rep's recognition feed) rendered in 7 ms that way,
    more than the rest of the page (issue 16)."""

    def render(self, name, value, attrs=None, renderer=None):
        # What get_context gives the template (the select's attributes, its values as strings),
        # without building an option dict per choice (ChoiceWidget.optgroups/create_option, most of
        # the cost once the template is gone); the choices are walked by the same rules: a group is
        # (name, [choices]), one option selected unless the select is multiple, None written "".
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        values = self.format_value(value)
        parts = [format_html('<select name="{}"{}>', name, self.attrs_html(attrs))]
        has_selected = False
        for option_value, option_label in self.choices:
            grouped = isinstance(option_label, (list, tuple))
            if grouped and option_value:
                parts.append(format_html('<optgroup label="{}">', option_value))
            for sub_value, sub_label in option_label if grouped else [(option_value, option_label)]:
                sub_value = "" if sub_value is None else sub_value
                selected = (not has_selected or self.allow_multiple_selected) and str(sub_value) in values
                has_selected |= selected
                # format_html's work without its per-call overhead (a third of the select's time
                # for 150 options): each value and label through conditional_escape.
                parts.append(
                    f'<option value="{conditional_escape(sub_value)}"{" selected" if selected else ""}>'
                    f"{conditional_escape(sub_label)}</option>"
                )
            if grouped and option_value:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("\n".join(parts))  # noqa: S308 - every value and label is escaped above

    attrs_html = staticmethod(flatatt)  # sorted by name


class PlainModelChoiceIterator(forms.models.ModelChoiceIterator):
    """A model field's choices read with one plain query. Django's reads them with
    queryset.iterator(), which on PostgreSQL is a server-side cursor (DECLARE ... WITH HOLD, FETCH,
    CLOSE: three round trips, and the result materialised at commit) for a dozen rows. Set as
    `iterator` on a ModelChoiceField or ModelMultipleChoiceField subclass."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


def attrs_html(attrs: dict) -> str:
    """Django's django/forms/widgets/attrs.html in Python, attributes in the same (the dict's)
    order: True as a bare name, False left out, anything else as a string, escaped."""
    return mark_safe(  # noqa: S308 - every name and value is escaped
        "".join(
            f" {conditional_escape(k)}" if v is True else f' {conditional_escape(k)}="{conditional_escape(str(v))}"'
            for k, v in attrs.items()
            if v is not False
        )
    )


class PythonSelect(_PythonOptionsMixin, forms.Select):
    pass


class PythonOrderedSelect(_PythonOptionsMixin, forms.Select):
    """PythonSelect with the attributes in Django's own order (the template's HTML, whitespace aside)."""

    attrs_html = staticmethod(attrs_html)


class PythonDateTimeInput(forms.DateTimeInput):
    """django/forms/widgets/input.html written in Python (the same HTML, one template render less
    a field: the lead page's "Next follow-up")."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        value = self.format_value(value)
        value_html = "" if value is None else f' value="{conditional_escape(str(value))}"'
        return mark_safe(  # noqa: S308 - every part is escaped
            f'<input type="{conditional_escape(self.input_type)}" name="{conditional_escape(name)}"'
            f"{value_html}{attrs_html(attrs)}>"
        )


class PythonSelectMultiple(_PythonOptionsMixin, forms.SelectMultiple):
    pass


# --- Dates a person types ---------------------------------------------------------------------
# Every date typed into a form (filters, periods, goals, follow-ups, leave) is kept within these
# years: far enough for any real plan, and far from the calendar's edges, so the period
# arithmetic behind it (the day after, the end of a quarter, a week's Monday) never overflows.
EARLIEST_TYPED_DATE = dt.date(2000, 1, 1)
LATEST_TYPED_DATE = dt.date(2100, 12, 31)
DATE_RANGE_MESSAGE = (
    f"Pick a date between {EARLIEST_TYPED_DATE:%d %b %Y} and {LATEST_TYPED_DATE:%d %b %Y}: this one is too far."
)


def validate_typed_date(value: dt.date | dt.datetime | None) -> None:
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_TYPED_DATE <= day <= LATEST_TYPED_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")


def _with_range(widget: forms.Widget, *, time: bool = False) -> forms.Widget:
    """The browser's date picker gets the same bounds (min/max), when it is a date input."""
    if widget.attrs.get("type") in ("date", "datetime-local"):
        suffix = "T00:00" if time else ""
        widget.attrs.setdefault("min", f"{EARLIEST_TYPED_DATE.isoformat()}{suffix}")
        widget.attrs.setdefault("max", f"{LATEST_TYPED_DATE.isoformat()}{'T23:59' if time else ''}")
    return widget


class TypedDateField(forms.DateField):
    """A date a person types: a clear error outside EARLIEST_TYPED_DATE..LATEST_TYPED_DATE."""

    default_validators = [validate_typed_date]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _with_range(self.widget)


class TypedDateTimeField(forms.DateTimeField):
    """A date and time a person types, with the same range as TypedDateField."""

    default_validators = [validate_typed_date]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _with_range(self.widget, time=True)


def add_service_errors(
    form: forms.Form, exc: ValidationError, *, field_for: Callable[[str], str] | None = None
) -> None:
    """Put a service's ValidationError on the form fields it names, the rest on the form itself.

    `field_for` maps a service's field name to the form's when the two differ.
    """
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            field = field_for(name) if field_for else name
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@dataclass(frozen=True)
class Confirmation:
    """A visible confirmation step before removing something (templates/includes/confirm_card.html).

    The remove view is POST-only: a POST without confirm=yes changes nothing and answers with this
    card (a page, or the htmx partial it belongs in); the card's form posts again with confirm=yes.
    No JavaScript dialog, so it works the same with and without htmx."""

    question: str
    action: str
    cancel_url: str
    button: str = "Remove"
    consequence: str = ""
    title: str = "Please confirm"
    hx_target: str = ""


def is_confirmed(request) -> bool:
    return request.POST.get("confirm") == "yes"


def normalise_phone(raw: str) -> str:
    """Return the number in E.164, or raise ValidationError with a message a person understands."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        raise forms.ValidationError("Enter a phone number such as +44 20 7946 0958.") from None
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError("This is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    parent = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, help_text="The team above this one.")
    manager = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="The person accountable for this team; escalations go to them.",
    )
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, team: Team | None = None, **kwargs):
        self.team = team
        super().__init__(*args, **kwargs)
        if team is not None:
            self.fields["parent"].queryset = Team.objects.exclude(pk=team.pk)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Team.objects.filter(name__iexact=name)
        if self.team is not None:
            clash = clash.exclude(pk=self.team.pk)
        if clash.exists():
            raise forms.ValidationError("A team with this name already exists.")
        return name


class TimeAwayForm(forms.Form):
    """Time away (leave, holiday): from the first day to the last, both included. Empty: not away."""

    away_from = TypedDateField(
        required=False,
        label="Away from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The first day away. Empty: from today.",
    )
    away_until = TypedDateField(
        required=False,
        label="Away until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day away (included). While away, a rep gets no new leads.",
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("away_from"), cleaned.get("away_until")
        if start and not end and "away_until" not in self.errors:
            self.add_error("away_until", "Say until when they are away (the last day away).")
        elif start and end and end < start:
            self.add_error("away_until", "The last day away comes before the first: check the dates.")
        return cleaned


class PersonForm(TimeAwayForm):
    """An admin's form for a person: the invitation and the edit page."""

    field_order = [
        "first_name", "last_name", "email", "role", "teams", "manages", "phone", "time_zone", "away_from", "away_until",
    ]  # fmt: skip

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(
        max_length=254, help_text="Their username for logging in; the invitation and their notices go here."
    )
    role = forms.ChoiceField(choices=User.Role.choices)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.all(), required=False, widget=forms.CheckboxSelectMultiple, label="Member of"
    )
    manages = forms.ModelMultipleChoiceField(
        queryset=Team.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Manager of",
        help_text="The teams they are accountable for (managers and admins). Their reps report to them; "
        "a team's previous manager is replaced.",
    )
    phone = forms.CharField(
        max_length=30, required=False, label="Mobile number", help_text="Used for SMS notices, e.g. +1 415 555 2671."
    )
    time_zone = forms.ChoiceField(
        choices=[("", "Their team's time zone"), *TIME_ZONE_CHOICES],
        required=False,
        help_text="Pages and typed dates are in this zone. Empty: their (first) team's zone.",
    )

    def __init__(self, *args, person: User | None = None, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"])

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(models.Q(email__iexact=email) | models.Q(username__iexact=email))
        if self.person is not None:
            clash = clash.exclude(pk=self.person.pk)
        if clash.exists():
            raise forms.ValidationError("Someone already has this email address.")
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == User.Role.REP and cleaned.get("manages"):
            self.add_error("manages", "A sales rep manages no team: make them a manager, or leave this empty.")
        return cleaned


class PeopleFilterForm(forms.Form):
    """The people list's filters (GET). A value that is not a choice is ignored, with its error shown."""

    STATUS_CHOICES = [
        ("", "Active and invited"),
        ("active", "Active"),
        ("invited", "Invited, no password yet"),
        ("away", "Away today"),
        ("inactive", "Deactivated"),
        ("all", "Everyone"),
    ]

    q = forms.CharField(required=False, max_length=100, label="Name or email")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="Any team")
    role = forms.ChoiceField(choices=[("", "Any role"), *User.Role.choices], required=False)
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
