"""The activity form's outcome menu is written in Python (ActivityForm.outcome_select): the same HTML
as the template it replaced (tests/leads/reference/leads/includes/outcome_select.html), for a new
form, each kind, a note (disabled), a refused outcome (marked invalid) and values to escape."""

from pathlib import Path

import pytest
from django.template import Context, Engine

from leads.forms import ActivityForm

REFERENCE = Engine(dirs=[Path(__file__).with_name("reference")], app_dirs=False)


def reference(form) -> str:
    # The file's final newline was whitespace before the </label> that follows the menu.
    return REFERENCE.get_template("leads/includes/outcome_select.html").render(Context({"form": form})).rstrip("\n")


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"kind": "call", "outcome": "connected"},
        {"kind": "email", "outcome": "replied"},
        {"kind": "sms", "outcome": ""},
        {"kind": "note", "outcome": ""},
        {"kind": "note", "outcome": "connected"},  # refused: a note has no outcome
        {"kind": "call", "outcome": '"><script>'},  # refused, and escaped nowhere since never echoed
        {"kind": "<b>", "outcome": "sent"},  # an unknown kind: the call's outcomes
    ],
)
@pytest.mark.parametrize("auto_id", ["id_%s", False])
def test_outcome_menu_is_the_templates_html(data, auto_id):
    form = ActivityForm(data, auto_id=auto_id)
    if data is not None:
        form.is_valid()
    assert str(form.outcome_select()) == reference(form)


def test_a_refused_outcome_is_marked_and_the_kinds_group_shown():
    form = ActivityForm({"kind": "email", "outcome": "bogus"})
    assert not form.is_valid() and "outcome" in form.errors
    html = form.outcome_select()
    assert 'class="form-select form-select-sm w-auto is-invalid"' in html
    assert '<optgroup label="Email" data-kind="email">' in html and " selected" not in html
    assert '<optgroup label="Call" data-kind="call" hidden disabled>' in html


def test_a_note_has_the_menu_disabled():
    html = ActivityForm({"kind": "note"}).outcome_select()
    assert html.split(">")[0].endswith(" disabled")
