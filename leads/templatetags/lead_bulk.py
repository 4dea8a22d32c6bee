"""`{% bulk_bar %}`: the action bar for selected leads, dropped into any page that lists leads
(the lead list, the neglected report) without that page's view knowing about it."""

from django import template

from leads.bulk_forms import BulkActionForm

register = template.Library()


@register.inclusion_tag("leads/includes/bulk_bar.html", takes_context=True)
def bulk_bar(context, form=None):
    request = context["request"]
    form = form or BulkActionForm(user=request.user, initial={"next": request.get_full_path()})
    owner_options = []
    if form.can_reassign:
        # The "Give them to" options from one plain query: the select's subwidgets would read the
        # queryset through a server-side cursor (three round trips) and build a widget per person.
        field = form.fields["to_owner"]
        chosen = form["to_owner"].value()
        chosen = "" if chosen is None else str(chosen)
        owner_options = [("", field.empty_label, chosen == "")]
        owner_options += [
            (str(person.pk), field.label_from_instance(person), chosen == str(person.pk)) for person in field.queryset
        ]
    return {
        "bulk_form": form,
        "owner_options": owner_options,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
