"""What each kind of content holds and where it may go, the variables its text may use, and how a
text message is counted in segments (GSM 03.38 or, for Japanese and other scripts, UCS-2)."""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class KindRules:
    channels: tuple[str, ...]  # channels this kind can be used on (the first is its home)
    fields: tuple[str, ...]  # variant fields that must be filled (body always)


KINDS: dict[str, KindRules] = {
    "article": KindRules(("web", "email", "print"), ("title", "summary")),
    "tip": KindRules(("web", "email", "sms", "print"), ("title",)),
    "checklist": KindRules(("web", "print"), ("title",)),
    "video": KindRules(("web", "email"), ("title", "url")),
    "email": KindRules(("email",), ("subject",)),
    "sms": KindRules(("sms",), ()),
    "print_block": KindRules(("print",), ("title",)),
    "call_script": KindRules(("phone",), ("title",)),
}

# Variables text may use, with the most characters each may take when counting a text message.
VARIABLES: dict[str, int] = {"given_name": 30, "program_name": 60, "portal_link": 60}
TEXT_FIELDS = ("title", "subject", "summary", "body")


class TemplateProblem(ValueError):
    pass


def variables_in(text: str) -> set[str]:
    """The {variables} of a text; `{{` and `}}` stand for braces. Raises TemplateProblem."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise TemplateProblem(_("A brace is not closed: write {{ and }} for a brace itself.")) from error
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in VARIABLES:
            raise TemplateProblem(_("{%(name)s} is not a variable: use one of %(known)s.")
                                  % {"name": name, "known": ", ".join(f"{{{v}}}" for v in VARIABLES)})
        if spec or conversion:
            raise TemplateProblem(_("Write {%(name)s} without a format.") % {"name": name})
        names.add(name)
    return names


def fill(text: str, values: dict[str, str]) -> str:
    """The text with its variables replaced (each checked when the version was saved)."""
    return text.format_map({k: values.get(k, "") for k in VARIABLES})


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def sms_segments(text: str) -> Segments:
    """How many messages a text takes: 160 GSM-7 septets in one (153 each when concatenated), or 70
    UCS-2 units (67 when concatenated). Extension characters such as € take two septets."""
    try:
        septets = len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-be")) // 2
        return Segments("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))
    return Segments("GSM-7", septets, 1 if septets <= 160 else math.ceil(septets / 153))


def longest_fill(text: str, program_name: str) -> str:
    """The text as long as its variables can make it, to count segments before any patient exists."""
    widths = dict(VARIABLES, program_name=len(program_name) or VARIABLES["program_name"])
    return fill(text, {name: "x" * width for name, width in widths.items()})
