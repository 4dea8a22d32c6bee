"""{% row_url %}: the same address as {% url %} for one-integer-argument URLs, reversed once."""

from django.template import Context, Template
from django.urls import clear_script_prefix, reverse, set_script_prefix

TEMPLATE = Template("{% load row_urls %}{% for pk in pks %}{% row_url 'leads:lead-detail' pk %} {% endfor %}")


def test_row_url_is_the_address_url_gives():
    assert TEMPLATE.render(Context({"pks": [5, 12345]})) == f"{reverse('leads:lead-detail', args=[5])} /leads/12345/ "


def test_row_url_follows_the_script_prefix():
    set_script_prefix("/crm/")
    try:
        assert TEMPLATE.render(Context({"pks": [7]})) == "/crm/leads/7/ "
    finally:
        clear_script_prefix()
    assert TEMPLATE.render(Context({"pks": [7]})) == "/leads/7/ "


def test_fixed_url_is_the_address_url_gives_with_its_script_prefix():
    fixed = Template("{% load row_urls %}{% fixed_url 'leads:my-day' %} {% fixed_url 'home' as home %}[{{ home }}]")
    assert fixed.render(Context({})) == f"{reverse('leads:my-day')} [/]"
    set_script_prefix("/crm/")
    try:
        assert fixed.render(Context({})) == "/crm/leads/my-day/ [/crm/]"
    finally:
        clear_script_prefix()
