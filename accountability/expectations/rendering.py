"""Markdown to safe HTML, and plain-text diffs between versions.

Markdown is converted with `markdown` and then sanitised with `nh3` against an allow-list:
no script or style, no event-handler attributes, links only to http(s) and mailto. Raw HTML
typed into the Markdown goes through the same sanitiser, so nothing an author writes can run.
"""

import difflib
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


def markdown_to_safe_html(text: str) -> str:
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


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
