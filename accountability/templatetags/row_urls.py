"""`{% row_url 'leads:lead-detail' lead.pk %}`: the address of one row's page, for long loops.

`{% fixed_url 'home' %}` does the same for a URL without arguments (the navigation bar's 25 links,
on every page).

`{% url %}` runs Django's reverse for every call (about 0.1 ms: the resolver's candidates, regex
checks, quoting); a page of a hundred rows with two or three links each spent 20-30 ms there
(My day, issue 16). For a URL with one integer argument, this reverses once per process (and per
script prefix and URLconf) and fills the number in: the same address, from string formatting.
"""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

_PLACEHOLDER = 987654321


@lru_cache(maxsize=256)
def _url_format(name: str, prefix: str, urlconf) -> str:
    url = reverse(name, args=[_PLACEHOLDER], urlconf=urlconf)
    return url.replace("{", "{{").replace("}", "}}").replace(str(_PLACEHOLDER), "{}")


@register.simple_tag
def row_url(name: str, pk) -> str:
    return _url_format(name, get_script_prefix(), get_urlconf()).format(int(pk))


@lru_cache(maxsize=256)
def _fixed_url(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def fixed_url(name: str) -> str:
    return _fixed_url(name, get_script_prefix(), get_urlconf())
