from django import template
from django.utils.safestring import mark_safe

from accountability.expectations.rendering import markdown_to_safe_html
from accountability.expectations.selectors import outstanding_for_manager, pending_versions_for

register = template.Library()


@register.filter
def render_markdown(text: str) -> str:
    # mark_safe on sanitiser output only: nh3 has already removed everything outside the allow-list.
    return mark_safe(markdown_to_safe_html(text))  # noqa: S308


@register.inclusion_tag("expectations/includes/rep_panel.html", takes_context=True)
def expectations_rep_panel(context):
    """The rep's own status: reuses the banner's cached query, so no extra query."""
    user = context["request"].user
    return {"pending": pending_versions_for(user)}


@register.inclusion_tag("expectations/includes/manager_panel.html", takes_context=True)
def expectations_manager_panel(context):
    """Outstanding acknowledgements in the manager's teams: a constant five queries."""
    user = context["request"].user
    return {"outstanding": outstanding_for_manager(user)}


@register.filter
def lookup(mapping: dict, key):
    """{{ progress|lookup:version.pk }}"""
    return mapping.get(key) if mapping else None
