"""Kudos cards written in Python: the feed's, a person's page's and every htmx answer that
returns a card, its reactions or its comments.

A feed page is 20 cards of three forms, six URLs and a comment thread each; through a template
and two includes per card they cost about 1.3 ms a card, twice the rest of the page (issue 16).
Here a card is a few joined strings: the URLs reversed once per process, the CSRF token read once,
every name, message and reason escaped. The HTML is the templates' it replaced, character for
character (tests/recognition/test_cards.py renders those templates beside this writer).
"""

from __future__ import annotations

import datetime as dt
import functools

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import linebreaksbr
from django.urls import get_script_prefix, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

_MARKER = 2_147_483_647
CARD_URLS = (
    "person-kudos",
    "kudos-detail",
    "kudos-edit",
    "kudos-delete",
    "kudos-hide",
    "kudos-unhide",
    "reaction-toggle",
    "comment-create",
)


def _pattern(name: str) -> str:
    """A URL with its pk left as {} (escaped once: the pk is a number)."""
    return escape(reverse(name, args=[_MARKER])).replace(str(_MARKER), "{}")


@functools.cache
def _urls(script_prefix: str) -> dict[str, str]:
    """The cards' URLs, reversed once per process (and prefix, as reverse() reads it)."""
    urls = {name: _pattern(f"recognition:{name}") for name in CARD_URLS}
    urls["lead"] = _pattern("leads:lead-detail")
    urls["goal"] = _pattern("goals:goal-detail")
    urls["commitments"] = escape(reverse("goals:commitment-list"))
    return urls


class CardWriter:
    """Writes the cards of one response for one viewer (`now` decides whether "Edit" shows)."""

    def __init__(self, *, viewer, now: dt.datetime, csrf_token: str):
        self.viewer_id = viewer.pk
        self.now = now
        self.csrf = (
            format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)
            if csrf_token and csrf_token != "NOTPROVIDED"
            else ""
        )
        urls = _urls(get_script_prefix())
        self.url = {name: urls[name] for name in CARD_URLS}
        self.lead_url, self.goal_url, self.commitments_url = urls["lead"], urls["goal"], urls["commitments"]

    def cards(self, page) -> list[SafeString]:
        return [self.card(k) for k in page]

    def card(self, k, *, hide_error: str = "", hide_reason: str = "") -> SafeString:
        """One kudos from recognition.selectors.kudos_cards (its figures, people, values and comments)."""
        pk = int(k.pk)
        url = {name: pattern.format(pk) for name, pattern in self.url.items()}
        if k.giver_id:
            giver = f'<strong data-testid="kudos-giver">{escape(k.giver)}</strong>'
        else:
            giver = (
                f'<span class="badge text-bg-info" data-testid="kudos-automatic">Automatic · {escape(k.rule)}</span>'
            )
        people = ",".join(
            f'<a href="{self.url["person-kudos"].format(int(r.pk))}" data-testid="kudos-recipient">{escape(r)}</a>'
            for r in k.card_recipients
        )
        created = escape(date_filter(template_localtime(k.created_at), "j M Y, H:i"))
        hidden = (
            '<div class="alert alert-warning py-1 px-2 small mb-2" data-testid="kudos-hidden">Hidden from the feeds'
            f" by {escape(k.hidden_by) if k.hidden_by else 'a manager'}: {escape(k.hidden_reason)}</div>"
            if k.hidden
            else ""
        )
        values = "".join(
            f'<span class="badge me-1 kudos-value" style="background-color: {escape(v.colour)}" '
            f'data-testid="kudos-value">{f"{escape(v.icon)} " if v.icon else ""}{escape(v.name)}</span>'
            for v in k.card_values
        )
        parts = [
            f'<article class="card mb-3{" border-warning" if k.hidden else ""}" id="kudos-{pk}" data-testid="kudos">\n'
            '  <div class="card-body">\n'
            '    <div class="d-flex flex-wrap align-items-baseline gap-2 mb-1">\n'
            f"      {giver}\n"
            '      <span class="text-muted">recognised</span>\n'
            f"      {people}\n"
            f'      <small class="text-muted ms-auto"><a class="text-muted" href="{url["kudos-detail"]}">{created}</a>'
            f"{' · edited' if k.edited_at else ''}</small>\n"
            "    </div>\n"
            f"    {hidden}\n"
            f'    <div class="mb-2">{values}</div>\n'
            f'    <p class="mb-2" data-testid="kudos-message">{linebreaksbr(k.message, autoescape=True)}</p>\n'
            f"    {self._evidence(k)}\n"
            '    <div class="d-flex flex-wrap align-items-center gap-2">\n'
            f"      {self.reactions(k)}\n"
            f"      {self._own_buttons(k, url)}\n"
            f"      {self._moderation(k, url, hide_error=hide_error, hide_reason=hide_reason)}\n"
            "    </div>\n"
            f"    {self.comments(k, k.card_comments)}\n"
            "  </div>\n"
            "</article>\n"
        ]
        # Every interpolated text is escaped above or written here; numbers are ints.
        return mark_safe("".join(parts))  # noqa: S308

    def _evidence(self, k) -> str:
        kind = k.evidence_kind
        if not kind:
            return ""
        name = k.evidence_name  # None: not the viewer's to open (recognition.selectors.feed_queryset)
        if name is None:
            shown = f"a {escape(kind)} (not yours to open)\n        "
        elif k.lead_id:
            shown = f'<a href="{self.lead_url.format(int(k.lead_id))}">lead {escape(name)}</a>\n        '
        elif k.goal_id:
            shown = f'<a href="{self.goal_url.format(int(k.goal_id))}">goal “{escape(name)}”</a>\n        '
        else:
            shown = f'<a href="{self.commitments_url}">commitment “{escape(name)}”</a>'
        return f'\n      <p class="small mb-2" data-testid="kudos-evidence">Evidence:\n        {shown}</p>\n    '

    def _own_buttons(self, k, url) -> str:
        if k.giver_id != self.viewer_id:
            return ""
        edit = (
            f'<button type="button" class="btn btn-sm btn-link" hx-get="{url["kudos-edit"]}" '
            f'hx-target="#kudos-{int(k.pk)}" hx-swap="outerHTML" data-testid="kudos-edit">Edit</button>'
            if k.editable_until > self.now
            else ""
        )
        return (
            f"\n        {edit}\n"
            f'        <form method="post" action="{url["kudos-delete"]}" hx-post="{url["kudos-delete"]}" '
            f'hx-target="#kudos-{int(k.pk)}" hx-swap="outerHTML" hx-confirm="Delete this kudos?" class="m-0">'
            f'{self.csrf}<button class="btn btn-sm btn-link text-danger" data-testid="kudos-delete">Delete</button>'
            "</form>\n      "
        )

    def _moderation(self, k, url, *, hide_error: str, hide_reason: str) -> str:
        if not k.can_moderate:
            return ""
        target = f'hx-target="#kudos-{int(k.pk)}" hx-swap="outerHTML"'
        if k.hidden:
            inner = (
                f'\n        <form method="post" action="{url["kudos-unhide"]}" hx-post="{url["kudos-unhide"]}" '
                f'{target} class="m-0">{self.csrf}<button class="btn btn-sm btn-link">Show again</button></form>\n'
                "        "
            )
        else:
            error = f'<small class="text-danger">{escape(hide_error)}</small>' if hide_error else ""
            inner = (
                f'\n        <details class="small"{" open" if hide_error else ""}><summary>Hide</summary>\n'
                f'          <form method="post" action="{url["kudos-hide"]}" hx-post="{url["kudos-hide"]}" '
                f'{target} class="d-flex gap-1 mt-1">{self.csrf}\n'
                '            <input name="reason" class="form-control form-control-sm" maxlength="300" '
                f'value="{escape(hide_reason or "")}" placeholder="Why? The giver is told." '
                'aria-label="Why hide it?">\n'
                '            <button class="btn btn-sm btn-outline-warning" data-testid="kudos-hide">Hide</button>\n'
                "          </form>\n"
                f"          {error}\n"
                "        </details>\n"
                "        "
            )
        return f"\n        {inner}\n      "

    def reactions(self, k) -> SafeString:
        """The +1 button (also the htmx answer of a reaction)."""
        url = self.url["reaction-toggle"].format(int(k.pk))
        pressed = "true" if k.reacted else "false"
        html = (
            f'<form method="post" action="{url}" hx-post="{url}" hx-target="this" hx-swap="outerHTML" class="m-0" '
            f'id="reactions-{int(k.pk)}">{self.csrf}\n'
            f'  <button class="btn btn-sm {"btn-primary" if k.reacted else "btn-outline-primary"}" '
            f'aria-pressed="{pressed}" data-testid="kudos-react">+1 <span data-testid="kudos-reaction-count">'
            f"{int(k.reaction_count)}</span></button>\n"
            "</form>\n"
        )
        return mark_safe(html)  # noqa: S308 - numbers and fixed words only

    def comments(self, k, comments, *, comment_error: str = "", comment_body: str = "") -> SafeString:
        """The comment thread and its form (also the htmx answer of a comment)."""
        pk = int(k.pk)
        url = self.url["comment-create"].format(pk)
        rows = "".join(
            '<div class="border-start ps-2 mb-1" data-testid="kudos-comment">'
            f"<strong>{escape(c.author)}</strong> {escape(c.body)} "
            f'<span class="text-muted">· {escape(date_filter(template_localtime(c.created_at), "j M, H:i"))}</span>'
            "</div>"
            for c in comments
        )
        error = f'<div class="text-danger">{escape(comment_error)}</div>' if comment_error else ""
        html = (
            f'<div class="mt-2 small" id="comments-{pk}">\n'
            f"  {rows}\n"
            f'  <form method="post" action="{url}" hx-post="{url}" hx-target="#comments-{pk}" hx-swap="outerHTML" '
            f'class="d-flex gap-1 mt-1">{self.csrf}\n'
            f'    <input name="body" class="form-control form-control-sm{" is-invalid" if comment_error else ""}" '
            f'maxlength="1000" value="{escape(comment_body or "")}" placeholder="Add a comment" aria-label="Comment">\n'
            '    <button class="btn btn-sm btn-outline-secondary" data-testid="kudos-comment-submit">Comment</button>\n'
            "  </form>\n"
            f"  {error}\n"
            "</div>\n"
        )
        return mark_safe(html)  # noqa: S308 - every text above is escaped
