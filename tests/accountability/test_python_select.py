"""PythonSelect / PythonSelectMultiple (accountability/forms.py) write the same select as Django's
widgets: attributes, options, labels (escaped), the selected ones and option groups."""

import re
from html.parser import HTMLParser

import pytest
from django import forms

from accountability.forms import PythonSelect, PythonSelectMultiple

CHOICES = [("", "None"), ("lead:1", "Lead: <Acme> & Sons"), ("lead:2", "Lead: Bravo"), ("goal:3", "Goal: 10 calls")]
GROUPED = [("Leads", [("lead:1", "Acme"), ("lead:2", "Bravo")]), ("Goals", [("goal:3", "Calls")])]


class _Parsed(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.tags.append(("text", data.strip()))


def _form(widget_class, multiple, choices, data):
    field_class = forms.MultipleChoiceField if multiple else forms.ChoiceField
    field = field_class(choices=choices, required=multiple, widget=widget_class(attrs={"size": 5, "class": "x"}))
    return type("F", (forms.Form,), {"pick": field})(data)


def _same(multiple, choices, data):
    django_widget, ours = (forms.SelectMultiple, PythonSelectMultiple) if multiple else (forms.Select, PythonSelect)
    theirs = str(_form(django_widget, multiple, choices, data)["pick"])
    mine = str(_form(ours, multiple, choices, data)["pick"])
    assert _Parsed(mine).tags == _Parsed(theirs).tags
    return mine


def test_single_select_as_django():
    html = _same(False, CHOICES, {"pick": "lead:2"})
    assert '<option value="lead:2" selected>Lead: Bravo</option>' in html
    assert "Lead: &lt;Acme&gt; &amp; Sons" in html
    _same(False, CHOICES, None)


def test_multiple_select_as_django():
    html = _same(True, CHOICES[1:], {"pick": ["lead:1", "goal:3"]})
    assert re.search(r"<select [^>]*multiple", html) and html.count(" selected") == 2
    _same(True, CHOICES[1:], {})  # required and empty: the error attributes too


def test_option_groups_as_django():
    _same(False, GROUPED, {"pick": "goal:3"})


@pytest.mark.django_db
def test_plain_model_choice_iterator_gives_the_same_choices_in_one_plain_query(org, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accountability.forms import PlainModelChoiceIterator
    from accountability.models import User

    class PlainField(forms.ModelMultipleChoiceField):
        iterator = PlainModelChoiceIterator

    people = User.objects.filter(role="rep").order_by("first_name")
    with CaptureQueriesContext(connection) as queries:
        plain = [(str(v), label) for v, label in PlainField(queryset=people).choices]
    assert len(queries.captured_queries) == 1 and "DECLARE" not in queries.captured_queries[0]["sql"]
    assert plain == [(str(v), label) for v, label in forms.ModelMultipleChoiceField(queryset=people).choices]
    assert [label.split()[0] for _, label in plain] == ["Alice", "Bob", "Charlie"]


def test_labels_already_safe_are_not_escaped_twice_as_django():
    from django.utils.safestring import mark_safe

    html = _same(False, [("a", mark_safe("<b>A</b> &amp; B")), ("b", 'B "quoted" <i>')], {"pick": "a"})
    assert "<b>A</b> &amp; B" in html and "B &quot;quoted&quot; &lt;i&gt;" in html
