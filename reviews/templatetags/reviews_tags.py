"""The home-page panel of open action items: one query."""

from django import template
from django.utils import timezone

from reviews.selectors import action_items_open_for_owner

register = template.Library()


@register.inclusion_tag("reviews/includes/panel_action_items.html", takes_context=True)
def home_action_items(context):
    user = context["request"].user
    return {"items": list(action_items_open_for_owner(user)[:8]), "today": timezone.localdate()}
