"""The ICH E2B(R3) data elements Sojourn emits, and how to find each in an ICSR.

elements.csv beside this module holds, per element, what the conformance check needs (number, max
length, data type, code list, null flavors, ICH conformance, date rules, XPaths); scripts/e2b-elements
derives it from the element table FDA publishes. The XPaths are the table's own, so they can be read
against it; `XPath` evaluates the small part of XPath 1.0 they use over an ElementTree, since the
standard library's ElementPath has no nested predicates and no attribute or text() steps.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element as XmlElement
from xml.parsers import expat

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sojourn.core.errors import InvalidInput

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PREFIXES = {"xsi": XSI}
# The table's placeholders for "each repetition": of a message (r), a reaction (i), a drug (k).
REPEATS = frozenset({"r", "i", "k"})

_TOKENS = re.compile(r"""\s*(?:
    (?P<number>\d+)(?![\w.])
  | '(?P<string>[^']*)'
  | \$(?P<variable>\w+)
  | (?P<function>[\w-]+)\(
  | (?P<name>[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)
  | (?P<symbol>[/\[\]@=,)])
)""", re.VERBOSE)


@dataclass(frozen=True)
class Position:
    index: int  # 1-based, as in XPath


@dataclass(frozen=True)
class Each:
    """The table's [r], [i], [k]: every repetition, and the level an element repeats at."""

    letter: str


@dataclass(frozen=True)
class AttributeIs:
    name: str
    value: str | None = None  # None: the attribute is present
    variable: str | None = None  # $k, $i: the id of the drug or reaction in hand; unbound matches any


@dataclass(frozen=True)
class AttributeStartsWith:
    name: str
    prefix: str


@dataclass(frozen=True)
class Has:
    steps: tuple[Step, ...]


Predicate = Position | Each | AttributeIs | AttributeStartsWith | Has


@dataclass(frozen=True)
class Step:
    """A child element step, or a final `@attribute` or `text()` step."""

    name: str  # Clark notation: {namespace}local
    predicates: tuple[Predicate, ...] = ()
    attribute: bool = False
    text: bool = False


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(source):
            found = _TOKENS.match(source, position)
            if not found or found.end() == position:
                raise ValueError(f"unsupported XPath at {position}: {source[position:position + 40]!r}")
            position = found.end()
            kind = found.lastgroup
            if kind is not None:
                self.tokens.append((kind, found.group(kind)))
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, kind: str, value: str | None = None) -> str:
        found = self.peek()
        if found[0] != kind or (value is not None and found[1] != value):
            raise ValueError(f"unsupported XPath {self.source!r}: expected {value or kind}, found {found[1]!r}")
        self.at += 1
        return found[1]

    def steps(self) -> tuple[Step, ...]:
        steps = [self.step()]
        while self.peek() == ("symbol", "/"):
            self.take("symbol", "/")
            steps.append(self.step())
        return tuple(steps)

    def step(self) -> Step:
        if self.peek() == ("symbol", "@"):
            self.take("symbol", "@")
            return Step(qualified(self.take("name"), attribute=True), attribute=True)
        if self.peek() == ("function", "text"):
            self.take("function")
            self.take("symbol", ")")
            return Step("", text=True)
        name = qualified(self.take("name"))
        predicates = []
        while self.peek() == ("symbol", "["):
            self.take("symbol", "[")
            predicates.append(self.predicate())
            self.take("symbol", "]")
        return Step(name, tuple(predicates))

    def predicate(self) -> Predicate:
        kind, value = self.peek()
        if kind == "number":
            return Position(int(self.take("number")))
        if kind == "name" and value in REPEATS and self.tokens[self.at + 1:self.at + 2] == [("symbol", "]")]:
            return Each(self.take("name"))
        if (kind, value) == ("function", "starts-with"):
            self.take("function")
            self.take("symbol", "@")
            name = qualified(self.take("name"), attribute=True)
            self.take("symbol", ",")
            prefix = self.take("string")
            self.take("symbol", ")")
            return AttributeStartsWith(name, prefix)
        if (kind, value) == ("symbol", "@"):
            self.take("symbol", "@")
            name = qualified(self.take("name"), attribute=True)
            if self.peek() != ("symbol", "="):
                return AttributeIs(name)
            self.take("symbol", "=")
            if self.peek()[0] == "variable":
                return AttributeIs(name, variable=self.take("variable"))
            return AttributeIs(name, self.take("string"))
        return Has(self.steps())


def qualified(name: str, *, attribute: bool = False) -> str:
    """Return the Clark name: unprefixed elements are HL7's; unprefixed attributes have no namespace."""
    prefix, _, local = name.rpartition(":")
    if prefix:
        return f"{{{PREFIXES[prefix]}}}{local}"
    return name if attribute else f"{{{HL7}}}{name}"


Node = XmlElement | str


@dataclass(frozen=True)
class XPath:
    """An absolute XPath from the element table: `/root/step[...]/…/@attr`, maybe inside substring(…, n)."""

    source: str
    steps: tuple[Step, ...]
    substring_from: int | None = None

    @classmethod
    def parse(cls, source: str) -> XPath:
        parser = _Parser(source)
        substring_from = None
        if parser.peek() == ("function", "substring"):
            parser.take("function")
        parser.take("symbol", "/")
        steps = parser.steps()
        if parser.peek() == ("symbol", ","):
            parser.take("symbol", ",")
            substring_from = int(parser.take("number"))
            parser.take("symbol", ")")
        parser.take("end")
        return cls(source, steps, substring_from)

    @property
    def repeat(self) -> int:
        """Return how many leading steps reach the innermost repetition ([r], [i], [k]); 0 if none."""
        found = self._repeats()
        return found[-1] + 1 if found else 0

    @property
    def message(self) -> int:
        """Return how many leading steps reach the outermost repetition, the ICSR message; 0 if none."""
        found = self._repeats()
        return found[0] + 1 if found else 0

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(_variables(self.steps))

    def _repeats(self) -> list[int]:
        return [at for at, step in enumerate(self.steps) if any(isinstance(p, Each) for p in step.predicates)]

    def contexts(self, root: XmlElement, variables: Mapping[str, str] | None = None) -> list[XmlElement]:
        """Return each repetition the element belongs to (each message, reaction, drug…); the root if none."""
        if not self.repeat:
            return [root]
        return [node for node in _absolute(root, self.steps[:self.repeat], variables or {})
                if isinstance(node, XmlElement)]

    def contexts_in(self, message: XmlElement) -> list[XmlElement]:
        """Return the repetitions inside one message (a context of a message-level element)."""
        if self.repeat <= self.message:
            return [message]
        return [node for node in _select([message], self.steps[self.message:self.repeat], {})
                if isinstance(node, XmlElement)]

    def values(self, context: XmlElement, variables: Mapping[str, str] | None = None) -> list[str]:
        """Return the element's values inside one context from `contexts`: attribute values or texts."""
        if self.repeat:
            found = _select([context], self.steps[self.repeat:], variables or {})
        else:
            found = _absolute(context, self.steps, variables or {})
        texts = [node for node in found if isinstance(node, str)]
        if self.substring_from is not None:
            texts = [text[self.substring_from - 1:] for text in texts]
        return texts

    def select(self, root: XmlElement, variables: Mapping[str, str] | None = None) -> list[str]:
        """Return every value in the document."""
        return [value for context in self.contexts(root, variables) for value in self.values(context, variables)]


def relative(source: str) -> tuple[Step, ...]:
    """Parse a relative path such as `observation/id/@root`, for `find`."""
    parser = _Parser(source)
    steps = parser.steps()
    parser.take("end")
    return steps


def find(node: XmlElement, steps: tuple[Step, ...]) -> list[str]:
    """Return the attribute values or texts a relative path reaches from a node."""
    return [found for found in _select([node], steps, {}) if isinstance(found, str)]


def _variables(steps: Iterable[Step]) -> Iterable[str]:
    for step in steps:
        for predicate in step.predicates:
            if isinstance(predicate, AttributeIs) and predicate.variable:
                yield predicate.variable
            elif isinstance(predicate, Has):
                yield from _variables(predicate.steps)


def _absolute(root: XmlElement, steps: tuple[Step, ...], variables: Mapping[str, str]) -> list[Node]:
    first, rest = steps[0], steps[1:]
    matched = _filter([root] if root.tag == first.name else [], first.predicates, variables)
    return _select(matched, rest, variables) if matched else []


def _select(nodes: Iterable[Node], steps: tuple[Step, ...], variables: Mapping[str, str]) -> list[Node]:
    current = list(nodes)
    for step in steps:
        elements = [node for node in current if isinstance(node, XmlElement)]
        if step.attribute:
            current = [value for node in elements if (value := node.get(step.name)) is not None]
        elif step.text:
            # An empty element has no text node in XPath; whitespace alone is no value either.
            current = [node.text for node in elements if node.text and node.text.strip()]
        else:
            current = [child for node in elements
                       for child in _filter([c for c in node if c.tag == step.name], step.predicates, variables)]
    return current


def _filter(nodes: list[XmlElement], predicates: tuple[Predicate, ...],
            variables: Mapping[str, str]) -> list[XmlElement]:
    for predicate in predicates:
        if isinstance(predicate, Position):
            nodes = nodes[predicate.index - 1:predicate.index]
        elif isinstance(predicate, AttributeIs):
            # An unbound $k or $i matches any value, as long as the attribute is there.
            expected = variables.get(predicate.variable) if predicate.variable else predicate.value
            nodes = [node for node in nodes if node.get(predicate.name) is not None
                     and (expected is None or node.get(predicate.name) == expected)]
        elif isinstance(predicate, AttributeStartsWith):
            nodes = [node for node in nodes if (node.get(predicate.name) or "").startswith(predicate.prefix)]
        elif isinstance(predicate, Has):
            nodes = [node for node in nodes if _select([node], predicate.steps, variables)]
    return nodes


@dataclass(frozen=True)
class DataElement:
    """One row of elements.csv."""

    number: str
    name: str
    max_length: int | None
    data_type: str  # AN, N, A, TS (date/time), BL (boolean)
    values: tuple[str, ...]  # the code list; ("N.N",) is the MedDRA version format; () is free
    null_flavors: frozenset[str]
    required: bool  # ICH conformance Required/Mandatory, within each repetition the element belongs to
    min_precision: int | None  # fewest TS digits: 4 year, 8 day, 14 second
    no_future: bool
    xpath: XPath
    null_xpath: XPath | None


def load(path: Path | None = None) -> dict[str, DataElement]:
    path = path or Path(__file__).with_name("elements.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["number"]: DataElement(
            number=row["number"],
            name=row["name"],
            max_length=int(row["max_length"]) if row["max_length"] else None,
            data_type=row["data_type"],
            values=tuple(row["values"].split("|")) if row["values"] else (),
            null_flavors=frozenset(row["null_flavors"].split("|")) if row["null_flavors"] else frozenset(),
            required=row["required"] == "yes",
            min_precision=int(row["min_precision"]) if row["min_precision"] else None,
            no_future=row["no_future"] == "yes",
            xpath=XPath.parse(row["xpath"]),
            null_xpath=XPath.parse(row["null_xpath"]) if row["null_xpath"] else None,
        ) for row in rows}


ELEMENTS = load()


class XmlRefused(InvalidInput):
    code = "xml_refused"
    default_message = gettext_lazy("This is not an XML document Sojourn reads.")


class _Declaration(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Declaration


def parse_xml(data: bytes) -> XmlElement:
    """Parse an XML document, refusing any DOCTYPE or ENTITY declaration.

    defusedxml is not installed, and the standard library's parsers expand internal entities (the
    "billion laughs"). Every such attack needs a DTD, so a first pass with expat, which reads the
    declared encoding itself (a UTF-16 DOCTYPE escapes a byte search), refuses any DTD; only then does
    ElementTree build the tree. That is enough for documents of known shape (acknowledgements, our
    own ICSRs); it sets no limit on size or depth, which callers taking uploads add themselves.
    """
    scanner = expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = _refuse
    scanner.EntityDeclHandler = _refuse
    try:
        scanner.Parse(data, True)
    except _Declaration:
        raise XmlRefused(_("XML with a DOCTYPE or ENTITY declaration is refused.")) from None
    except expat.ExpatError as error:
        raise XmlRefused(_("This is not well-formed XML: %(error)s") % {"error": error}) from None
    return ET.fromstring(data)  # noqa: S314 - the expat pass above refused every DTD, the door to entity attacks
