import pytest

from accountability.expectations.rendering import diff_lines, markdown_to_safe_html
from accountability.expectations.templatetags.expectations_tags import render_markdown


def test_markdown_is_rendered():
    html = markdown_to_safe_html("We are **honest**.\n\n- one\n- two\n\n[Handbook](https://example.com/h)")
    assert "<strong>honest</strong>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.com/h" rel="noopener noreferrer nofollow">Handbook</a>' in html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<p onclick="alert(1)">x</p>',
        "<iframe src=https://evil.example></iframe>",
        '<svg onload="alert(1)"></svg>',
        "[x](JaVaScRiPt:alert(1))",
    ],
)
def test_script_never_survives(attack):
    html = str(render_markdown(f"Hello {attack} world"))
    lowered = html.lower()
    for bad in ("<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<svg", "<img"):
        assert bad not in lowered, html
    assert "Hello" in html and "world" in html


def test_diff_marks_added_and_removed_lines():
    lines = diff_lines("a\nb\nc", "a\nB\nc\nd")
    assert [(line.kind, line.text) for line in lines] == [
        ("same", "a"),
        ("removed", "b"),
        ("added", "B"),
        ("same", "c"),
        ("added", "d"),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("# Our values", "<h3>Our values</h3>"),
        ("## Calls", "<h4>Calls</h4>"),
        ("### Detail", "<h5>Detail</h5>"),
        ("#### Deeper", "<h6>Deeper</h6>"),
        ("###### Deepest", "<h6>Deepest</h6>"),
        ("Setext\n======", "<h3>Setext</h3>"),
        ("<h1>Raw</h1>", "<h3>Raw</h3>"),
        ("<h2>Raw two</h2>", "<h4>Raw two</h4>"),
    ],
)
def test_section_headings_never_outrank_the_page_headings(source, expected):
    # The page is h1 and each section h2: an author's top-level heading becomes h3.
    html = markdown_to_safe_html(source)
    assert html == expected
    assert "<h1" not in html and "<h2" not in html


def test_heading_markup_typed_as_text_is_not_shifted():
    html = markdown_to_safe_html("Write `<h1>` for a title, or &lt;h2&gt;.")
    assert "&lt;h1&gt;" in html and "&lt;h2&gt;" in html
