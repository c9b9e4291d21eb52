"""A check for inline SVG in a rendered page: each <svg> parses as XML and its geometry is written in
machine numbers. A number rendered in the reader's locale (x="12,5" in German or French) is what this
catches: browsers and WeasyPrint then drop the shape or put it elsewhere, with no error anywhere."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
# One number, with a unit where SVG allows one (width="100%", stroke-width="2px").
LENGTH = re.compile(rf"\s*{NUMBER}(?:px|%|em|ex|pt|pc|cm|mm|in)?\s*")
LENGTHS = {"x", "y", "dx", "dy", "width", "height", "cx", "cy", "r", "rx", "ry", "x1", "x2", "y1", "y2",
           "stroke-width", "opacity", "fill-opacity", "stroke-opacity", "offset"}
PATH_TOKEN = re.compile(rf"\s*,?\s*(?:(?P<command>[MmZzLlHhVvCcSsQqTtAa])|(?P<number>{NUMBER}))")
PATH_ARITY = {"m": 2, "l": 2, "t": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "a": 7, "z": 0}
TRANSFORM = re.compile(r"\s*(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)\s*,?")
SVG = re.compile(r"<svg\b.*?</svg>", re.S | re.I)


def _numbers(text: str) -> list[str] | None:
    """The numbers of a list separated by spaces or a comma, or None when it holds anything else. (A
    comma separates numbers here, so "1,5 2,5" reads as four: the count is what can be checked.)"""
    items = re.split(r"\s*,\s*|\s+", text.strip()) if text.strip() else []
    return items if all(re.fullmatch(NUMBER, item) for item in items) else None


def _path_problem(d: str) -> str | None:
    if not d.strip():
        return None  # an empty path draws nothing, by the specification
    commands: list[tuple[str, int]] = []
    position = 0
    while position < len(d.rstrip()):
        token = PATH_TOKEN.match(d, position)
        if token is None or token.end() == position:
            return f"unreadable at {d[position:position + 12]!r}"
        if token["command"]:
            commands.append((token["command"], 0))
        elif not commands:
            return "a number before the first command"
        else:
            commands[-1] = (commands[-1][0], commands[-1][1] + 1)
        position = token.end()
    if commands[0][0] not in "Mm":
        return "does not start with M"
    for command, count in commands:
        arity = PATH_ARITY[command.lower()]
        if (arity == 0 and count) or (arity and (count == 0 or count % arity)):
            return f"{command} takes numbers in {arity}s, has {count}"
    return None


def _attribute_problem(name: str, value: str) -> str | None:
    if name in LENGTHS:
        return None if LENGTH.fullmatch(value) else "not a number"
    if name == "viewBox":
        numbers = _numbers(value)
        return None if numbers is not None and len(numbers) == 4 else "not four numbers"
    if name == "points":
        numbers = _numbers(value)
        return None if numbers is not None and len(numbers) % 2 == 0 else "not pairs of numbers"
    if name == "d":
        return _path_problem(value)
    if name == "transform":
        rest = TRANSFORM.sub(lambda m: "" if _numbers(m[2]) is not None else "!", value)
        return None if not rest.strip() else "not a list of transforms with numbers"
    return None


def svg_problems(html: str) -> list[str]:
    """What is wrong with the page's inline SVGs: each one that is not XML, and each numeric attribute
    (x, y, width, height, cx, cy, r, x1…y2, points, d, viewBox, transform…) that is not a number."""
    problems = []
    for n, match in enumerate(SVG.finditer(html), start=1):
        try:
            root = ET.fromstring(match.group(0))
        except ET.ParseError as error:
            problems.append(f"svg {n}: not XML ({error})")
            continue
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else "?"
            for name, value in element.attrib.items():
                problem = _attribute_problem(name.rsplit("}", 1)[-1], value)
                if problem:
                    problems.append(f"svg {n} <{tag}> {name}={value!r}: {problem}")
    return problems
