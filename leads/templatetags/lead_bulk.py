"""`{% bulk_bar %}`: the action bar for selected leads, dropped into any page that lists leads
(the lead list, the neglected report) without that page's view knowing about it."""

from django import template

from leads.bulk_forms import BulkActionForm

register = template.Library()


@register.inclusion_tag("leads/includes/bulk_bar.html", takes_context=True)
def bulk_bar(context, form=None):
    request = context["request"]
    form = form or BulkActionForm(user=request.user, initial={"next": request.get_full_path()})
    return {"bulk_form": form, "csrf_token": context.get("csrf_token"), "request": request}
