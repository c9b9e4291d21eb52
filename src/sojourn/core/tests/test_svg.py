"""The SVG check the page tests use, and the rule it guards: every inline SVG in a template is written
with localization off, so that its numbers stay machine numbers in German and French."""

from __future__ import annotations

import re
from pathlib import Path

from sojourn.core.tests.svg import svg_problems

SOURCE = Path(__file__).resolve().parents[2]


def test_machine_numbers_pass():
    page = ('<p>1,5 %</p><svg viewBox="0 0 540 96" width="100%"><style>.a { fill: #fff; }</style>'
            '<rect x="1.5" y="-2" width="3e2" height="4" rx="4"/><path d="M1 2 L3 4 l5 5 l-5 -5 z"/>'
            '<polyline points="1,2 3.5,4"/><g transform="translate(1, 2) scale(2)"><circle cx=".5" cy="1." r="6"/>'
            '</g><path d=""/></svg>')
    assert svg_problems(page) == []


def test_decimal_commas_and_broken_markup_are_named():
    page = ('<svg viewBox="0 0 10,5 20"><line x1="56,0" x2="56" y1="4" y2="160"/><path d="M280,5 15 l5 5 z"/>'
            '<polyline points="1,2 3"/><g transform="translate(1,5 x)"/></svg><svg><rect></svg>')
    assert svg_problems(page) == [
        "svg 1 <svg> viewBox='0 0 10,5 20': not four numbers",
        "svg 1 <line> x1='56,0': not a number",
        "svg 1 <path> d='M280,5 15 l5 5 z': M takes numbers in 2s, has 3",
        "svg 1 <polyline> points='1,2 3': not pairs of numbers",
        "svg 1 <g> transform='translate(1,5 x)': not a list of transforms with numbers",
        "svg 2: not XML (mismatched tag: line 1, column 13)",
    ]


def test_every_template_svg_is_written_with_localization_off():
    unguarded = []
    for template in sorted(p for p in SOURCE.rglob("*.html") if "templates" in p.parts):
        text = template.read_text()
        for svg in re.finditer(r"<svg\b", text):
            before = text[:svg.start()]
            if before.count("{% localize off %}") <= before.count("{% endlocalize %}"):
                unguarded.append(f"{template.relative_to(SOURCE)}:{before.count(chr(10)) + 1}")
    assert not unguarded, "wrap these in {% localize off %}: " + ", ".join(unguarded)
