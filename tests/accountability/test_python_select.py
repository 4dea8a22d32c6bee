"""PythonSelect / PythonSelectMultiple (accountability/forms.py) write the same select as Django's
widgets: attributes, options, labels (escaped), the selected ones and option groups."""

import re
from html.parser import HTMLParser

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
