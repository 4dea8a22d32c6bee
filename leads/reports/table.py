"""The team dashboard's table rows, written in Python.

A department dashboard is 100 to 500 rows of 16 linked figures. Rendered through a template
include per row and a URL tag per cell it cost about 1 ms a row (most of the page's
time once its figures were cached); here a row is one format string: the figures written by the
shared filters (accountability.templatetags.formatting), each URL reversed once per page, every
name and attribute escaped. The page's template (leads/reports/dashboard.html) keeps the table's
frame, headings and explanations; the tests read the same data-testid / data-figure attributes.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accountability.templatetags.formatting import duration, figure, moment, money, percent
from leads.metrics import Scorecard
from leads.templatetags.lead_reports import since_display

FIGURES = ("received", "contacted", "not_contacted", "speed_to_lead", "follow_ups", "won", "closed", "saved")
KINDS = ("call", "email", "meeting", "sms", "note")
KIND_FIGURES = {"call": "calls", "email": "emails", "meeting": "meetings", "sms": "sms", "note": "notes"}
OPEN = 'title="Open the rows behind this figure"'


class RowWriter:
    """Writes rows for one page: the figures' URLs are reversed once, then only joined."""

    def __init__(self, drill_query: str):
        self.drill_query = drill_query
        self.base = {name: reverse("leads:dashboard-rows", args=[name]) for name in (*FIGURES, *KINDS)}
        self.neglected = reverse("leads:neglected")

    def _urls(self, query: str) -> dict[str, str]:
        suffix = escape(f"?{query}") if query else ""
        return {name: f"{base}{suffix}" for name, base in self.base.items()}

    def rep_row(self, rep, card: Scorecard, *, team_name: str | None = None) -> SafeString:
        query = f"{self.drill_query}&rep={rep.pk}" if self.drill_query else f"rep={rep.pk}"
        return self._row(
            card,
            self._urls(query),
            heading=escape(str(rep)),
            attrs=f' data-rep="{escape(rep.username)}"',
            team_cell=None if team_name is None else escape(team_name),
            neglected_query=f"owner={rep.pk}",
        )

    def total_row(
        self,
        card: Scorecard,
        *,
        label: str,
        team_id: int,
        drill_query: str | None = None,
        team_cell: str | None = None,
        testid: str = "scorecard-row",
        css: str = "table-light fw-semibold",
    ) -> SafeString:
        """A team's row (the total, or a sub-team's subtotal): its figures open the team's rows."""
        return self._row(
            card,
            self._urls(self.drill_query if drill_query is None else drill_query),
            heading=escape(label),
            attrs=f' class="{css}"',
            team_cell=team_cell,
            neglected_query=f"team={team_id}",
            testid=testid,
        )

    def _row(self, card, urls, *, heading, attrs, team_cell, neglected_query, testid="scorecard-row") -> SafeString:
        kinds = card.activities_by_kind
        not_contacted = card.never_contacted
        not_link = (
            f' <a class="text-danger small" href="{urls["not_contacted"]}" title="Received in the period and never '
            f'contacted">({not_contacted} not)</a>'
            if not_contacted > 0
            else ""
        )
        speed = urls["speed_to_lead"]
        cells = [
            f'<tr data-testid="{testid}"{attrs}><th scope="row">{heading}</th>',
            "" if team_cell is None else f"<td>{team_cell}</td>",
            f'<td data-figure="leads_received"><a href="{urls["received"]}" {OPEN}>'
            f"{figure(card.leads_received)}</a></td>",
            f'<td data-figure="leads_contacted"><a href="{urls["contacted"]}" {OPEN}>'
            f"{figure(card.leads_contacted)}</a>{not_link}</td>",
            f'<td><span data-figure="speed_to_lead_median" title="Business time"><a href="{speed}" {OPEN}>'
            f"{duration(card.speed_to_lead_median)}</a></span> "
            f'<span class="text-muted small" data-figure="speed_to_lead_wall_median" title="Wall-clock time">/ '
            f'<a class="link-secondary" href="{speed}" {OPEN}>'
            f"{duration(card.speed_to_lead_wall_median)}</a></span></td>",
            f'<td><span data-figure="speed_to_lead_p90" title="Business time"><a href="{speed}" {OPEN}>'
            f"{duration(card.speed_to_lead_p90)}</a></span> "
            f'<span class="text-muted small" data-figure="speed_to_lead_wall_p90" title="Wall-clock time">/ '
            f'<a class="link-secondary" href="{speed}" {OPEN}>'
            f"{duration(card.speed_to_lead_wall_p90)}</a></span></td>",
            f'<td data-figure="follow_up_compliance" title="{card.follow_ups_on_time} on time of '
            f'{card.follow_ups_decided} due"><a href="{urls["follow_ups"]}" {OPEN}>'
            f"{percent(card.follow_up_compliance)} "
            f'<span class="text-muted small">{card.follow_ups_on_time}/{card.follow_ups_decided}</span></a></td>',
            *(
                f'<td data-figure="{KIND_FIGURES[kind]}"><a href="{urls[kind]}" {OPEN}>{figure(kinds[kind])}</a></td>'
                for kind in KINDS
            ),
            f'<td data-figure="conversion_rate" title="{card.deals_won} won of {card.deals_closed} closed">'
            f'<a href="{urls["closed"]}" {OPEN}>{percent(card.conversion_rate)}</a></td>',
            f'<td data-figure="deals_won"><a href="{urls["won"]}" {OPEN}>{figure(card.deals_won)}</a></td>',
            f'<td data-figure="value_won"><a href="{urls["won"]}" {OPEN}>{money(card.value_won)}</a></td>',
            f'<td data-figure="neglected"><a href="{self.neglected}?{neglected_query}" '
            f'title="Open the neglected leads behind this figure">{card.neglected}</a></td>',
            f'<td data-figure="saved"><a href="{urls["saved"]}" {OPEN}>{figure(card.saved)}</a></td></tr>',
        ]
        # Every interpolated text is escaped above or is a number written by the shared filters.
        return mark_safe("".join(cells))  # noqa: S308


# --- The neglected report's rows ---------------------------------------------------------------

NEGLECTED_ROW = (
    '<tr data-testid="neglected-row" data-lead="{pk}">\n'
    '      <td><input class="form-check-input" type="checkbox" name="ids" value="{pk}" form="bulk-form"'
    ' data-bulk-item aria-label="Select {name}"></td>\n'
    '      <td><a href="{url}">{name}</a>{company}</td>\n'
    "      <td>{owner}</td>\n"
    "      <td>{team}</td>\n"
    "      <td>{why}</td>\n"
    '      <td data-testid="neglected-for">{waited}</td>\n'
    '      <td class="small">{arrived}</td>\n'
    '      <td class="small">{next_follow_up}</td>\n'
    '      <td class="small">{last_activity}</td>\n'
    "    </tr>"
)


def neglected_rows(rows, *, now, owners: dict[int, str], teams: dict[int, str]) -> list[SafeString]:
    """The neglected report's rows (dicts of leads.reports.selectors.NEGLECTED_ROW_FIELDS), one
    format string each: 50 rows through the template's tags and filters were most of the page's
    time (issue 16). The lead page's URL is reversed once; `owners` and `teams` name the rows'
    owner and team ids."""
    marker = 2_147_483_647
    detail = reverse("leads:lead-detail", args=[marker]).replace(str(marker), "{}")
    written = []
    for row in rows:
        why = ""
        if row["why_untouched"]:
            why += '<span class="badge text-bg-danger">Never contacted</span> '
        if row["why_overdue"]:
            why += '<span class="badge text-bg-warning">Follow-up overdue</span> '
        if row["why_silent"]:
            why += '<span class="badge text-bg-secondary">Silent</span>'
        pk, company = int(row["pk"]), row["company"]
        owner = escape(owners[row["owner_id"]]) if row["owner_id"] is not None else "Unassigned queue"
        written.append(
            mark_safe(  # noqa: S308 - every value below is escaped or written here
                NEGLECTED_ROW.format(
                    pk=pk,
                    name=escape(row["name"]),
                    url=escape(detail.format(pk)),
                    company=f' <span class="text-muted small">{escape(company)}</span>' if company else "",
                    owner=owner,
                    team=escape(teams[row["team_id"]]),
                    why=why,
                    waited=escape(since_display(now - row["neglected_since"])),
                    arrived=escape(moment(row["arrived_at"])),
                    next_follow_up=escape(moment(row["next_follow_up_at"]) or "—"),
                    last_activity=escape(moment(row["last_activity_at"]) or "—"),
                )
            )
        )
    return written


def select_options(choices, selected: str) -> SafeString:
    """<option>s for (value, label) choices, the one whose value is `selected` (a string, as the
    request gave it) marked so: as a template's loop wrote them, without its cost per option."""
    return mark_safe(  # noqa: S308 - values and labels escaped here
        "".join(
            f'<option value="{escape(value)}"{" selected" if str(value) == selected else ""}>{escape(label)}</option>'
            for value, label in choices
        )
    )
