"""`{% bulk_bar %}`: the action bar for selected leads, dropped into any page that lists leads
(the lead list, the neglected report) without that page's view knowing about it."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from leads.bulk_forms import BulkActionForm

register = template.Library()


@register.inclusion_tag("leads/includes/bulk_bar.html", takes_context=True)
def bulk_bar(context, form=None, owners=None):
    """`owners`: the "Give them to" choices as (id, name), when the page already read them
    (the neglected report, with its owner filter's: leads.reports.selectors.people_choices);
    by default the form's queryset (leads.bulk_selectors.assignable_owners)."""
    request = context["request"]
    form = form or BulkActionForm(user=request.user, initial={"next": request.get_full_path()})
    owner_options = ""
    if form.can_reassign:
        # The "Give them to" options from one plain query, written here: the select's subwidgets
        # would read the queryset through a server-side cursor (three round trips) and build a
        # widget per person, and the template's loop cost about 10 µs an option.
        field = form.fields["to_owner"]
        chosen = form["to_owner"].value()
        chosen = "" if chosen is None else str(chosen)
        if owners is None:
            owners = [(person.pk, field.label_from_instance(person)) for person in field.queryset]
        options = [("", field.empty_label)] + [(str(pk), name) for pk, name in owners]
        # Values are ids and "", labels escaped.
        owner_options = mark_safe(  # noqa: S308
            "".join(
                f'<option value="{value}"{" selected" if chosen == value else ""}>{escape(label)}</option>'
                for value, label in options
            )
        )
    return {
        "bulk_form": form,
        "owner_options": owner_options,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
