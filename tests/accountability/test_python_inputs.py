"""PythonOrderedSelect and PythonDateTimeInput (accountability/forms.py) write the HTML of Django's
own templates (whitespace between the options aside): the attributes in the same order, the value
typed, the error attributes of a bound form with errors. The lead page's activity form uses them."""

import re

import pytest
from django import forms

from accountability.forms import PythonDateTimeInput, PythonOrderedSelect, TypedDateTimeField

CHOICES = [("call", "Call"), ("email", "E<mail> & co"), ("note", "Note")]


def _form(select, datetime_input, data, *, required=False):
    fields = {
        "kind": forms.ChoiceField(
            choices=CHOICES, initial="call", widget=select(attrs={"class": "form-select", "aria-label": "Kind"})
        ),
        "when": TypedDateTimeField(
            required=required,
            widget=datetime_input(
                attrs={"type": "datetime-local", "class": "form-control", "aria-label": "When"},
                format="%Y-%m-%dT%H:%M",
            ),
            input_formats=["%Y-%m-%dT%H:%M"],
        ),
    }
    return type("F", (forms.Form,), fields)(data)


def _squash(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize(
    "data",
    [
        None,  # unbound: the initial kind, no value
        {"kind": "email", "when": "2031-05-06T10:30"},
        {"kind": "email", "when": "not a time"},  # refused: the text typed comes back, marked invalid
        {"kind": "nope", "when": '"><script>'},  # escaped
        {},  # required and empty
    ],
)
def test_same_html_as_djangos_widgets(data):
    for required in (False, True):
        theirs = _form(forms.Select, forms.DateTimeInput, data, required=required)
        ours = _form(PythonOrderedSelect, PythonDateTimeInput, data, required=required)
        if data is not None:
            assert theirs.is_valid() == ours.is_valid()
        for name in ("kind", "when"):
            assert _squash(ours[name]) == _squash(theirs[name])


def test_refused_time_keeps_what_was_typed():
    form = _form(PythonOrderedSelect, PythonDateTimeInput, {"kind": "email", "when": "31/02 10h"})
    assert not form.is_valid()
    assert 'value="31/02 10h"' in str(form["when"]) and 'aria-invalid="true"' in str(form["when"])
    assert '<option value="email" selected>E&lt;mail&gt; &amp; co</option>' in str(form["kind"])
