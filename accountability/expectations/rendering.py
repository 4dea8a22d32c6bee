"""Markdown to safe HTML, and plain-text diffs between versions.

Markdown is converted with `markdown` and then sanitised with `nh3` against an allow-list:
no script or style, no event-handler attributes, links only to http(s) and mailto. Raw HTML
typed into the Markdown goes through the same sanitiser, so nothing an author writes can run.

Headings are shifted down by HEADING_OFFSET after sanitising: the page has its h1 and each section
its h2, so an author's `#` becomes h3 and section text never outranks the page's own outline.
"""

import difflib
import re
from dataclasses import dataclass

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del",
    "blockquote", "code", "pre", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "abbr", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
HEADING_OFFSET = 2  # page h1, section h2: the author's top level is h3
_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _shift_heading(match: re.Match) -> str:
    return f"<{match[1]}h{min(int(match[2]) + HEADING_OFFSET, 6)}>"


def markdown_to_safe_html(text: str) -> str:
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    # After nh3 the markup is normalised (heading tags carry no attributes, text `<` is escaped),
    # so this also catches raw <h1> typed into the Markdown.
    return _HEADING_TAG.sub(_shift_heading, html)


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass
class SectionDiff:
    heading: str
    lines: list[DiffLine]

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.lines)


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """Line-by-line difference, as plain text (the template escapes it)."""
    result = []
    for line in difflib.ndiff((old or "").splitlines(), (new or "").splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            result.append(DiffLine("same", text))
        elif tag == "+ ":
            result.append(DiffLine("added", text))
        elif tag == "- ":
            result.append(DiffLine("removed", text))
        # "? " hint lines are for terminals; a page shows whole lines instead.
    return result
