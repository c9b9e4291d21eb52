"""A FHIR R4 Questionnaire read into Sojourn's terms: items, options with weights, enableWhen,
translations. Anything we do not support is reported by linkId, never dropped without a word.

The FHIR JSON stays the source of truth (it is what we store and export); this module derives the
structure the portal, the validator and the scorer walk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.valueset import ValueSet as FhirValueSet
from pydantic import ValidationError

from sojourn.core.control_characters import control_character_paths, refusal_message
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.questionnaires.expressions import compile_problem

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MIN_OCCURS = "http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs"
MAX_OCCURS = "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ENTRY_FORMAT = "http://hl7.org/fhir/StructureDefinition/entryFormat"
HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"
VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-"
CALCULATED = f"{SDC}calculatedExpression"
INITIAL_EXPRESSION = f"{SDC}initialExpression"
SCORING = "urn:sojourn:fhir:questionnaire-scoring"
# Display hints we keep and export but that change nothing in validation or scoring.
DISPLAY_ONLY = {ITEM_CONTROL, ENTRY_FORMAT}
# Extensions that change how a form behaves in ways Sojourn does not carry out: ignoring them would
# show the patient another form than its author wrote, so they are refused. Any other extension is
# kept verbatim and exported as it came.
UNHONOURED = {f"{SDC}{name}" for name in (
    "launchContext", "sourceQueries", "candidateExpression", "answerExpression", "itemPopulationContext",
    "contextExpression", "enableWhenExpression", "answerOptionsToggleExpression", "answerValueSetSource",
    "subQuestionnaire", "assembleContext", "lookupQuestionnaire", "minQuantity", "maxQuantity", "entryMode",
    "questionnaireAdaptive", "endpoint", "unitOpen", "unitValueSet", "maxSize", "mimeType")} | {
    "http://hl7.org/fhir/StructureDefinition/regex", "http://hl7.org/fhir/StructureDefinition/minLength",
    "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces", "http://hl7.org/fhir/StructureDefinition/cqf-library",
    "http://hl7.org/fhir/StructureDefinition/cqf-expression",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-constraint",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-unitValueSet",
    "http://hl7.org/fhir/StructureDefinition/maxSize", "http://hl7.org/fhir/StructureDefinition/mimeType",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-referenceResource"}

ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string", "text",
              "url", "choice", "open-choice", "quantity"}
ANSWERED_TYPES = ITEM_TYPES - {"group", "display"}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
# The FHIR value[x] each item type is answered with.
OPTION_KEYS = ("valueCoding", "valueInteger", "valueString", "valueDate", "valueTime")
VALUE_KEYS = {"boolean": ("valueBoolean",), "decimal": ("valueDecimal",), "integer": ("valueInteger",),
              "date": ("valueDate",), "dateTime": ("valueDateTime",), "time": ("valueTime",),
              "string": ("valueString",), "text": ("valueString",), "url": ("valueUri",),
              "quantity": ("valueQuantity",), "choice": OPTION_KEYS, "open-choice": OPTION_KEYS}
# What a Questionnaire may contain: one resource type, the value sets its items draw answers from.
CONTAINED_TYPES = {"ValueSet"}
MAX_EXPRESSION = 4000  # characters; real SDC expressions stay far below (Framingham's longest: ~600)


@dataclass(frozen=True)
class Quantity:
    """A quantity answer: a number and its unit (UCUM code and system when the form gives them)."""

    value: Decimal
    unit: str = ""
    system: str = ""
    code: str = ""

    def __str__(self) -> str:
        return f"{self.value} {self.unit or self.code}".strip()

    def as_fhir(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": float(self.value)}
        for key in ("unit", "system", "code"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Expression:
    """A FHIRPath expression from the SDC extensions (variable, initialExpression, calculatedExpression)."""

    text: str
    name: str = ""


@dataclass(frozen=True)
class Option:
    value: Any  # a code (str) for codings, else the plain value
    display: str
    translations: dict[str, str]
    weight: Decimal | None
    system: str = ""

    def label(self, language: str) -> str:
        return self.translations.get(language) or self.display or str(self.value)


@dataclass(frozen=True)
class Condition:
    question: str
    operator: str
    answer: Any


@dataclass(frozen=True)
class Item:
    link_id: str
    type: str
    text: str
    translations: dict[str, str]
    required: bool = False
    repeats: bool = False
    options: tuple[Option, ...] = ()
    conditions: tuple[Condition, ...] = ()
    behavior: str = "all"
    initial: tuple[Any, ...] = ()
    items: tuple[Item, ...] = ()
    min_value: Decimal | date | None = None
    max_value: Decimal | date | None = None
    max_length: int | None = None
    prefix: str = ""
    parent: str | None = None
    hidden: bool = False  # questionnaire-hidden: never shown, may still be calculated
    read_only: bool = False
    min_occurs: int = 0
    max_occurs: int | None = None
    unit: dict[str, str] | None = None  # questionnaire-unit: the unit a quantity or number is in
    unit_options: tuple[dict[str, str], ...] = ()
    variables: tuple[Expression, ...] = ()
    calculated: Expression | None = None
    initial_expression: Expression | None = None

    @property
    def repeating_group(self) -> bool:
        """Is it a group answered in instances (`repeats`), each holding its own answers?"""
        return self.type == "group" and self.repeats

    @property
    def asked(self) -> bool:
        """Does the patient answer it (rather than see it, or have it worked out)?"""
        return self.type in ANSWERED_TYPES and not (self.hidden or self.read_only or self.calculated)

    def label(self, language: str) -> str:
        return self.translations.get(language) or self.text

    def option(self, value: Any) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class Definition:
    url: str
    title: str
    title_translations: dict[str, str]
    language: str
    items: tuple[Item, ...]
    scoring: dict[str, Any] = field(default_factory=dict)
    variables: tuple[Expression, ...] = ()
    resource: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # for %questionnaire
    # The answerValueSet references resolved to the program's imported value sets (not contained ones).
    value_sets: tuple[str, ...] = field(default=(), compare=False)

    def walk(self) -> Iterator[Item]:
        def visit(items: tuple[Item, ...]) -> Iterator[Item]:
            for item in items:
                yield item
                yield from visit(item.items)

        yield from visit(self.items)

    def has_expressions(self) -> bool:
        return bool(self.variables) or any(i.variables or i.calculated or i.initial_expression for i in self.walk())

    def by_link_id(self) -> dict[str, Item]:
        return {item.link_id: item for item in self.walk()}

    def in_repeating_group(self) -> set[str]:
        """The linkIds of the items inside a repeating group (answered once per instance)."""
        inside: set[str] = set()

        def visit(items: tuple[Item, ...], within: bool) -> None:
            for item in items:
                if within:
                    inside.add(item.link_id)
                visit(item.items, within or item.repeating_group)

        visit(self.items, False)
        return inside

    def questions(self) -> list[Item]:
        return [item for item in self.walk() if item.type in ANSWERED_TYPES]

    def languages(self) -> set[str]:
        found = {self.language} if self.language else set()
        for item in self.walk():
            found |= set(item.translations)
        return found

    def title_in(self, language: str) -> str:
        return self.title_translations.get(language) or self.title


def _translations(element: dict[str, Any] | None) -> dict[str, str]:
    """Read FHIR translation extensions on a primitive's `_field` element."""
    out: dict[str, str] = {}
    for ext in (element or {}).get("extension", []):
        if ext.get("url") != TRANSLATION:
            continue
        parts = {e.get("url"): e for e in ext.get("extension", [])}
        lang = parts.get("lang", {}).get("valueCode", "")
        content = parts.get("content", {}).get("valueString", "")
        if lang and content:
            out[lang.split("-")[0]] = content
    return out


def _extension_value(extensions: list[dict[str, Any]], url: str) -> Any:
    for ext in extensions:
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def option_value(raw: dict[str, Any]) -> Any:
    """The comparable value of an answerOption, initial or answer: a coding's code, else the value."""
    if "valueCoding" in raw:
        return str(raw["valueCoding"].get("code", ""))
    for key in ("valueInteger", "valueString", "valueDate", "valueTime", "valueBoolean", "valueDecimal"):
        if key in raw:
            return raw[key]
    return None


class _Reader:
    def __init__(self, value_sets: dict[str, dict[str, Any]], imported: Mapping[str, dict[str, Any]]) -> None:
        self.problems: list[ErrorDetail] = []
        self.value_sets = value_sets  # contained ValueSets by "#id" and by canonical url (and url|version)
        self.imported = imported  # the program's imported ValueSets by url (the latest) and url|version
        self.used: set[str] = set()  # the references resolved to imported value sets

    def problem(self, link_id: str | None, message: str) -> None:
        self.problems.append(ErrorDetail(message, field=f"item[{link_id}]" if link_id else None))

    def extensions(self, link_id: str | None, element: dict[str, Any]) -> None:
        """Refuse what changes meaning without our knowing (modifiers, behaviour we do not carry out)."""
        if "modifierExtension" in element:
            self.problem(link_id, _("A modifierExtension changes what the form means; it is refused."))
        for ext in element.get("extension", []):
            if ext.get("url") in UNHONOURED:
                self.problem(link_id, _("The extension %(url)s is not supported.") % {"url": ext.get("url")})

    def expressions(self, link_id: str | None, extensions: list[dict[str, Any]], url: str) -> list[Expression]:
        found = []
        for ext in extensions:
            if ext.get("url") != url:
                continue
            raw = ext.get("valueExpression") or {}
            language, text = raw.get("language"), str(raw.get("expression", "") or "")
            if language != "text/fhirpath":
                self.problem(link_id, _("Only FHIRPath expressions are supported, not %(language)s.")
                             % {"language": language})
            elif not text.strip() or len(text) > MAX_EXPRESSION:
                self.problem(link_id, _("An expression must hold 1 to %(n)s characters.") % {"n": MAX_EXPRESSION})
            elif url == VARIABLE and not raw.get("name"):
                self.problem(link_id, _("A variable needs a name."))
            else:
                why = compile_problem(text)
                if why:
                    self.problem(link_id, _("The expression %(expression)s cannot be read: %(why)s")
                                 % {"expression": text[:200], "why": why})
                else:
                    found.append(Expression(text=text, name=str(raw.get("name", "") or "")))
        return found

    def option(self, link_id: str, n: int, raw_option: dict[str, Any]) -> Option | None:
        self.extensions(link_id, raw_option)
        if "valueReference" in raw_option:
            self.problem(link_id, _("Options that reference resources are not supported."))
            return None
        coding = raw_option.get("valueCoding", {})
        weight = _weight(raw_option.get("extension", []), coding.get("extension", []))
        value = option_value(raw_option)
        if value in (None, ""):
            self.problem(link_id, _("Option %(n)s has no value.") % {"n": n + 1})
            return None
        return Option(value=value, display=str(coding.get("display", "") or ""),
                      translations=_translations(coding.get("_display")), weight=weight,
                      system=str(coding.get("system", "") or ""))

    def value_set(self, link_id: str, url: str) -> list[Option]:
        """Expand a value set: contained in the form first, then imported into the program."""
        found = self.value_sets.get(url)
        if found is None and not url.startswith("#"):
            found = self.imported.get(url)
            if found is not None:
                self.used.add(url)
        if found is None:
            self.problem(link_id, _("The value set %(url)s is not loaded: import it into the program first (alone, "
                                    "or in a Bundle with the Questionnaire), or contain it in the Questionnaire.")
                         % {"url": url})
            return []
        if expansion_problems(found):
            self.problem(link_id, _("The value set %(url)s needs a terminology server to expand: list its "
                                    "concepts or include its expansion.") % {"url": url})
            return []
        return expand_value_set(found)

    def condition(self, link_id: str, raw_condition: dict[str, Any]) -> Condition | None:
        operator = raw_condition.get("operator")
        if operator not in OPERATORS:
            self.problem(link_id, _("The enableWhen operator %(op)s is not supported.") % {"op": operator})
            return None
        answer_keys = [k for k in raw_condition if k.startswith("answer")]
        if len(answer_keys) != 1:
            self.problem(link_id, _("Each enableWhen needs exactly one answer."))
            return None
        key = answer_keys[0]
        if key == "answerReference":
            self.problem(link_id, _("%(feature)s in enableWhen is not supported.") % {"feature": key})
            return None
        answer = read_value(key.replace("answer", "value", 1), raw_condition[key])
        if answer is None:
            self.problem(link_id, _("The enableWhen answer %(value)s cannot be read.") % {"value": raw_condition[key]})
            return None
        return Condition(question=str(raw_condition.get("question", "")), operator=operator, answer=answer)

    def item(self, raw: dict[str, Any], seen: set[str], parent: str | None) -> Item | None:
        link_id = str(raw.get("linkId", "")).strip()
        if not link_id:
            self.problem(None, _("Every item needs a linkId."))
            return None
        if link_id in seen:
            self.problem(link_id, _("The linkId %(id)s is used twice.") % {"id": link_id})
        seen.add(link_id)
        kind = raw.get("type", "")
        if kind == "attachment":
            self.problem(link_id, _("Attachments are not supported: a file from a patient needs scanning and "
                                    "storage that a questionnaire response does not give."))
            return None
        if kind not in ITEM_TYPES:
            self.problem(link_id, _("Item type %(type)s is not supported.") % {"type": kind})
            return None
        self.extensions(link_id, raw)
        for nested in (*raw.get("enableWhen", []), *raw.get("initial", [])):
            if "modifierExtension" in nested:
                self.problem(link_id, _("A modifierExtension changes what the form means; it is refused."))
        extensions = raw.get("extension", [])
        if kind == "display" and raw.get("required"):
            self.problem(link_id, _("A display item cannot be required."))
        options = [o for n, r in enumerate(raw.get("answerOption", [])) if (o := self.option(link_id, n, r))]
        if "answerValueSet" in raw:
            if options:
                self.problem(link_id, _("Give answer options or a value set, not both."))
            options = self.value_set(link_id, str(raw["answerValueSet"]))
        elif kind in {"choice", "open-choice"} and not options:
            self.problem(link_id, _("A choice item needs answer options."))
        if len({(o.system, o.value) for o in options}) != len(options):
            self.problem(link_id, _("Two answer options have the same value."))
        conditions = [c for c in (self.condition(link_id, r) for r in raw.get("enableWhen", [])) if c]
        behavior = raw.get("enableBehavior") or "all"
        if len(conditions) > 1 and not raw.get("enableBehavior"):
            self.problem(link_id, _("Several enableWhen conditions need an enableBehavior (all or any)."))
        initial = tuple(option_value(v) if kind in {"choice", "open-choice"} else
                        read_value(next((k for k in v if k.startswith("value")), ""),
                                   next((v[k] for k in v if k.startswith("value")), None))
                        for v in raw.get("initial", []))
        children = [c for c in (self.item(child, seen, link_id) for child in raw.get("item", [])) if c]
        if kind == "display" and children:
            self.problem(link_id, _("A display item cannot hold other items."))
        bounds = {name: _extension_value(extensions, url) for name, url in (("min", MIN_VALUE), ("max", MAX_VALUE))}
        if kind not in {"integer", "decimal", "date"} and any(v is not None for v in bounds.values()):
            self.problem(link_id, _("minValue and maxValue are supported on integer, decimal and date items."))
        calculated = self.expressions(link_id, extensions, CALCULATED)
        initial_expression = self.expressions(link_id, extensions, INITIAL_EXPRESSION)
        if calculated and (initial or initial_expression):
            self.problem(link_id, _("A calculated item cannot also have an initial value."))
        if kind in {"group", "display"} and (calculated or initial_expression or initial):
            self.problem(link_id, _("Only a question can be calculated or have an initial value."))
        min_occurs = _extension_value(extensions, MIN_OCCURS)
        max_occurs = _extension_value(extensions, MAX_OCCURS)
        if kind == "group" and raw.get("repeats") and (calculated or initial_expression or any(
                e.get("url") == VARIABLE for e in extensions)):
            self.problem(link_id, _("Expressions in a repeating group are not supported."))
        unit = _extension_value(extensions, UNIT)
        unit_options = tuple(_coding(e.get("valueCoding")) for e in extensions if e.get("url") == UNIT_OPTION)
        return Item(
            link_id=link_id, type=kind, text=str(raw.get("text", "") or ""),
            translations=_translations(raw.get("_text")),
            required=bool(raw.get("required", False)), repeats=bool(raw.get("repeats", False)),
            options=tuple(options), conditions=tuple(conditions), behavior=behavior, initial=initial,
            items=tuple(children),
            min_value=_parse_date(bounds["min"]) if kind == "date" else _as_decimal(bounds["min"]),
            max_value=_parse_date(bounds["max"]) if kind == "date" else _as_decimal(bounds["max"]),
            max_length=raw.get("maxLength"), prefix=str(raw.get("prefix", "") or ""), parent=parent,
            hidden=_extension_value(extensions, HIDDEN) is True, read_only=bool(raw.get("readOnly", False)),
            min_occurs=min_occurs if isinstance(min_occurs, int) else 0,
            max_occurs=max_occurs if isinstance(max_occurs, int) else None,
            unit=_coding(unit) if unit else None, unit_options=unit_options,
            variables=tuple(self.expressions(link_id, extensions, VARIABLE)),
            calculated=calculated[0] if calculated else None,
            initial_expression=initial_expression[0] if initial_expression else None)


def _coding(raw: Any) -> dict[str, str]:
    raw = raw if isinstance(raw, dict) else {}
    return {k: str(raw[k]) for k in ("system", "code", "display") if raw.get(k)}


def _weight(*extension_lists: list[dict[str, Any]]) -> Decimal | None:
    """An option's score: ordinalValue first, then itemWeight, on the option or its coding."""
    for url in (ORDINAL_VALUE, ITEM_WEIGHT):
        for extensions in extension_lists:
            weight = _as_decimal(_extension_value(extensions, url))
            if weight is not None:
                return weight
    return None


def _flatten(contains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for entry in contains:
        if not entry.get("abstract"):
            out.append(entry)
        out.extend(_flatten(entry.get("contains", [])))
    return out


def _designations(concept: dict[str, Any]) -> dict[str, str]:
    """A concept's translations: its designations with a language, as FHIR ValueSets give them."""
    return {str(d["language"]).split("-")[0]: str(d["value"]) for d in concept.get("designation", [])
            if d.get("language") and d.get("value")}


def _concept_option(concept: dict[str, Any], system: Any) -> Option:
    return Option(value=str(concept.get("code", "")), display=str(concept.get("display", "") or ""),
                  translations=_designations(concept), weight=_weight(concept.get("extension", [])),
                  system=str(system or ""))


def expansion_problems(value_set: dict[str, Any]) -> list[ErrorDetail]:
    """What keeps a value set from being expanded without a terminology server, each by its field.

    The same rules for a value set contained in a form and one a program imports."""
    if _flatten(value_set.get("expansion", {}).get("contains", [])):
        return []
    compose = value_set.get("compose", {})
    includes = compose.get("include", [])
    problems = []
    if compose.get("exclude"):
        problems.append(ErrorDetail(_("An exclude needs a terminology server to expand: list only the concepts "
                                      "you keep."), field="compose.exclude"))
    if not includes:
        problems.append(ErrorDetail(_("The value set has neither an expansion nor concepts to list."),
                                    field="compose.include"))
    for n, include in enumerate(includes):
        where = f"compose.include[{n}]"
        if "filter" in include:
            problems.append(ErrorDetail(_("A filter needs a terminology server to expand: list the concepts "
                                          "instead."), field=f"{where}.filter"))
        if "valueSet" in include:
            problems.append(ErrorDetail(_("Including another value set needs a terminology server: list its "
                                          "concepts instead."), field=f"{where}.valueSet"))
        if not include.get("concept") and not ({"filter", "valueSet"} & set(include)):
            problems.append(ErrorDetail(_("A whole code system needs a terminology server to expand: list the "
                                          "concepts you use."), field=f"{where}.concept"))
    return problems


def expand_value_set(value_set: dict[str, Any]) -> list[Option]:
    """A value set's options: its expansion, or the concepts its compose lists (see expansion_problems)."""
    contains = _flatten(value_set.get("expansion", {}).get("contains", []))
    if contains:
        return [_concept_option(c, c.get("system")) for c in contains if c.get("code")]
    return [_concept_option(c, include.get("system")) for include in value_set.get("compose", {}).get("include", [])
            for c in include.get("concept", []) if c.get("code")]


def read_value(key: str, raw: Any) -> Any:
    """A FHIR value[x] as the Python value answers and conditions compare (None if it cannot be read)."""
    try:
        if key == "valueCoding":
            return str(raw.get("code", "")) if isinstance(raw, dict) else None
        if key == "valueDecimal":
            return _as_decimal(raw)
        if key == "valueDate":
            return date.fromisoformat(str(raw))
        if key == "valueDateTime":
            return parse_date_time(str(raw))
        if key == "valueTime":
            return time.fromisoformat(str(raw))
        if key == "valueQuantity":
            value = _as_decimal(raw.get("value")) if isinstance(raw, dict) else None
            return None if value is None else Quantity(value, str(raw.get("unit", "") or ""),
                                                       str(raw.get("system", "") or ""),
                                                       str(raw.get("code", "") or ""))
        if key in {"valueBoolean", "valueInteger", "valueString", "valueUri"}:
            return raw
    except (ValueError, TypeError):
        return None
    return None


def parse_date_time(text: str) -> datetime | date:
    """A FHIR dateTime: a day, or a moment with its offset (a partial year or month is not an answer)."""
    if "T" not in text:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a dateTime with a time needs its offset")
    return moment


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None


def _check_conditions(definition: Definition, reader: _Reader) -> None:
    """enableWhen must name a question that exists, compare like with like, and never go in a circle."""
    items = definition.by_link_id()
    inside = definition.in_repeating_group()
    depends: dict[str, set[str]] = {}
    for link_id in sorted(inside):
        if items[link_id].variables or items[link_id].calculated or items[link_id].initial_expression:
            reader.problem(link_id, _("Expressions in a repeating group are not supported."))
    for item in items.values():
        needs = {c.question for c in item.conditions}
        if item.parent:
            needs.add(item.parent)  # a child is hidden when its group is
        depends[item.link_id] = needs
        for condition in item.conditions:
            target = items.get(condition.question)
            if target is None:
                reader.problem(item.link_id, _("enableWhen names %(q)s, which is not an item.")
                               % {"q": condition.question})
                continue
            if condition.question in inside and not _shares_instance(items, item.link_id, condition.question):
                reader.problem(item.link_id, _("enableWhen names %(q)s, which is inside a repeating group: only "
                                               "items in the same group may.") % {"q": condition.question})
                continue
            if target.type not in ANSWERED_TYPES:
                reader.problem(item.link_id, _("enableWhen names %(q)s, which takes no answer.")
                               % {"q": condition.question})
                continue
            if condition.operator == "exists":
                if not isinstance(condition.answer, bool):
                    reader.problem(item.link_id, _("An exists condition is answered true or false."))
            elif not _comparable(target, condition.answer):
                reader.problem(item.link_id, _("enableWhen compares %(q)s with a value of another type.")
                               % {"q": condition.question})
            elif (condition.operator in {">", "<", ">=", "<="}
                  and target.type in {"boolean", "choice", "open-choice", "string", "text", "url"}
                  and not (target.type in {"choice", "open-choice"} and isinstance(condition.answer, int))):
                reader.problem(item.link_id, _("%(op)s cannot compare answers to %(q)s.")
                                   % {"op": condition.operator, "q": condition.question})
    state: dict[str, int] = {}

    def visit(link_id: str, path: list[str]) -> None:
        state[link_id] = 1
        for needed in sorted(depends.get(link_id, ())):
            if needed not in depends:
                continue
            if state.get(needed) == 1:
                cycle = [*path[path.index(needed):], needed] if needed in path else [link_id, needed]
                reader.problem(link_id, _("enableWhen goes in a circle: %(cycle)s.") % {"cycle": " → ".join(cycle)})
            elif state.get(needed) is None:
                visit(needed, [*path, needed])
        state[link_id] = 2

    for link_id in depends:
        if state.get(link_id) is None:
            visit(link_id, [link_id])


def _groups_above(items: dict[str, Item], link_id: str) -> list[str]:
    """The repeating groups holding an item, innermost first."""
    found = []
    parent = items[link_id].parent if link_id in items else None
    while parent is not None and parent in items:
        if items[parent].repeating_group:
            found.append(parent)
        parent = items[parent].parent
    return found


def _shares_instance(items: dict[str, Item], link_id: str, question: str) -> bool:
    """Is `question` answered in an instance that `link_id` sits in (so its enableWhen reads that instance)?"""
    innermost = _groups_above(items, question)[:1]
    return bool(innermost) and innermost[0] in _groups_above(items, link_id)


def _comparable(item: Item, answer: Any) -> bool:
    if item.type == "boolean":
        return isinstance(answer, bool)
    if item.type in {"decimal", "integer"}:
        return isinstance(answer, (int, Decimal)) and not isinstance(answer, bool)
    if item.type in {"date", "dateTime"}:
        return isinstance(answer, date)
    if item.type == "time":
        return isinstance(answer, time)
    if item.type == "quantity":
        return isinstance(answer, Quantity)
    if item.type in {"choice", "open-choice"}:
        return isinstance(answer, (str, int)) and not isinstance(answer, bool)
    return isinstance(answer, str)


MAX_DEPTH = 64  # JSON nesting; a real questionnaire stays far below, a hostile one would exhaust the stack


def too_deep(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Is the JSON nested deeper than the limit? Walked without recursion."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_json(data: str | bytes | dict[str, Any]) -> Any:
    """Parse a resource given as JSON text (a dict passes through)."""
    if isinstance(data, (str, bytes)):
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(_("This is not valid JSON: %(why)s") % {"why": str(exc)[:200]}, field="resource") \
                from exc
    return data


def _require_safe(data: dict[str, Any]) -> None:
    if too_deep(data):
        raise InvalidInput(_("The JSON nests deeper than %(n)s levels.") % {"n": MAX_DEPTH}, field="item")
    bad = next(control_character_paths(data), None)
    if bad is not None:  # a file upload reaches here without passing the request guard
        raise InvalidInput(refusal_message(), field=".".join(bad))


def _require_valid_fhir(model: Any, data: dict[str, Any], message: str) -> None:
    """Validate against the FHIR R4 model (fhir.resources), each problem by its path."""
    try:
        model.model_validate(data)
    except (ValidationError, ValueError, TypeError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": (), "msg": str(exc)}]
        details = [ErrorDetail(str(e.get("msg", "invalid"))[:300],
                               field=".".join(str(p) for p in e.get("loc", ())) or "resource")
                   for e in errors[:50]]
        raise InvalidInput(message, field=details[0].field, details=details) from exc


MAX_URL, MAX_VERSION = 255, 64  # the columns an imported value set's canonical URL and version go in


def read_value_set(data: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """Validate a ValueSet a program imports: FHIR R4, a canonical URL, and expandable without a
    terminology server by the same rules as a contained one. Raise InvalidInput naming each field."""
    data = load_json(data)
    if not isinstance(data, dict) or data.get("resourceType") != "ValueSet":
        raise InvalidInput(_("Expected a FHIR ValueSet resource."), field="resourceType")
    _require_safe(data)
    _require_valid_fhir(FhirValueSet, data, _("The ValueSet is not valid FHIR R4."))
    problems = []
    url, version = str(data.get("url", "") or ""), str(data.get("version", "") or "")
    if not url or len(url) > MAX_URL or "|" in url:
        problems.append(ErrorDetail(_("A value set needs its canonical url (at most %(n)s characters, without "
                                      "|): the questionnaires' answerValueSet names it.") % {"n": MAX_URL},
                                    field="url"))
    if len(version) > MAX_VERSION:
        problems.append(ErrorDetail(_("The version takes at most %(n)s characters.") % {"n": MAX_VERSION},
                                    field="version"))
    for name in ("modifierExtension", "implicitRules"):
        if name in data:
            problems.append(ErrorDetail(_("%(feature)s is not supported.") % {"feature": name}, field=name))
    problems.extend(ErrorDetail(_("The extension %(url)s is not supported.") % {"url": e.get("url")},
                                field="extension") for e in data.get("extension", []) if e.get("url") in UNHONOURED)
    problems.extend(expansion_problems(data))
    if not problems and not expand_value_set(data):
        problems.append(ErrorDetail(_("The value set lists no codes."), field="compose.include"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return data


def within(prefix: str, error: InvalidInput) -> InvalidInput:
    """The same refusal with each field put under `prefix` (a Bundle entry's resource)."""
    details = [ErrorDetail(d.message, field=f"{prefix}.{d.field}" if d.field else prefix, line=d.line)
               for d in (error.details or [ErrorDetail(error.message, field=error.field)])]
    return InvalidInput(error.message, field=details[0].field, details=details)


BUNDLE_TYPES = {"collection", "transaction"}


def read_bundle(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Split a Bundle into its one Questionnaire, the ValueSets (validated) and the Questionnaire's entry."""
    _require_safe(data)
    problems = []
    if data.get("type") not in BUNDLE_TYPES:
        problems.append(ErrorDetail(_("A Bundle to import is a collection or a transaction."), field="type"))
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(_("The Bundle has no entries."), field="entry")
    questionnaires, value_sets = [], []
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind == "Questionnaire":
            questionnaires.append(n)
        elif kind == "ValueSet":
            try:
                value_sets.append(read_value_set(resource))
            except InvalidInput as error:
                problems.extend(within(f"entry[{n}].resource", error).details)
        else:
            problems.append(ErrorDetail(_("A Bundle to import holds one Questionnaire and its ValueSets, not "
                                          "%(type)s.") % {"type": kind}, field=f"entry[{n}].resource.resourceType"))
    if len(questionnaires) != 1:
        problems.append(ErrorDetail(_("A Bundle to import holds exactly one Questionnaire (this one: %(n)s).")
                                    % {"n": len(questionnaires)}, field="entry"))
    urls = [f"{v['url']}|{v.get('version', '')}" for v in value_sets]
    if len(set(urls)) != len(urls):
        problems.append(ErrorDetail(_("The Bundle holds a value set twice (the same url and version)."),
                                    field="entry"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return entries[questionnaires[0]]["resource"], value_sets, questionnaires[0]


def value_set_references(data: dict[str, Any]) -> set[str]:
    """The answerValueSet references of a Questionnaire's items that are not contained ids (#id)."""
    found: set[str] = set()
    stack = list(data.get("item", []) if isinstance(data.get("item"), list) else [])
    while stack:
        raw = stack.pop()
        if not isinstance(raw, dict):
            continue
        reference = raw.get("answerValueSet")
        if isinstance(reference, str) and reference and not reference.startswith("#"):
            found.add(reference)
        stack.extend(raw.get("item", []) if isinstance(raw.get("item"), list) else [])
    return found


def read_questionnaire(data: str | bytes | dict[str, Any], value_sets: Mapping[str, dict[str, Any]] | None = None
                       ) -> tuple[dict[str, Any], Definition]:
    """Validate FHIR JSON and read it; raise InvalidInput listing every problem by linkId.

    `value_sets` are the program's imported ValueSets by canonical url (the latest version) and by
    url|version; contained ones come first."""
    data = load_json(data)
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise InvalidInput(_("Expected a FHIR Questionnaire resource."), field="resourceType")
    _require_safe(data)
    _require_valid_fhir(FhirQuestionnaire, data, _("The Questionnaire is not valid FHIR R4."))
    contained_sets: dict[str, dict[str, Any]] = {}
    contained_problems = []
    for contained in data.get("contained", []):
        if contained.get("resourceType") not in CONTAINED_TYPES:
            contained_problems.append(ErrorDetail(
                _("A contained %(type)s is not supported: a Questionnaire may contain value sets.")
                % {"type": contained.get("resourceType")}, field="contained"))
            continue
        contained_sets[f"#{contained.get('id', '')}"] = contained
        if contained.get("url"):
            contained_sets[str(contained["url"])] = contained
            if contained.get("version"):
                contained_sets[f"{contained['url']}|{contained['version']}"] = contained
    reader = _Reader(contained_sets, value_sets or {})
    reader.problems.extend(contained_problems)
    if data.get("status") not in {"draft", "active", "retired", "unknown"}:
        reader.problems.append(ErrorDetail(_("The status must be draft, active, retired or unknown."),
                                           field="status"))
    if "implicitRules" in data:
        reader.problem(None, _("%(feature)s is not supported.") % {"feature": "implicitRules"})
    reader.extensions(None, data)
    for contained in contained_sets.values():
        reader.extensions(None, contained)
    variables = tuple(reader.expressions(None, data.get("extension", []), VARIABLE))
    seen: set[str] = set()
    items = tuple(i for i in (reader.item(raw, seen, None) for raw in data.get("item", [])) if i is not None)
    if not items:
        reader.problem(None, _("The Questionnaire has no items."))
    scoring_text = _extension_value(data.get("extension", []), SCORING)
    scoring: dict[str, Any] = {}
    if scoring_text:
        try:
            scoring = json.loads(scoring_text)
        except ValueError:
            reader.problem(None, _("The scoring extension is not valid JSON."))
    definition = Definition(url=str(data.get("url", "") or ""), title=str(data.get("title", "") or ""),
                            title_translations=_translations(data.get("_title")),
                            language=str(data.get("language", "") or "").split("-")[0], items=items, scoring=scoring,
                            variables=variables, resource=data, value_sets=tuple(sorted(reader.used)))
    _check_conditions(definition, reader)
    if reader.problems:
        first = reader.problems[0]
        raise InvalidInput(first.message, field=first.field, details=reader.problems)
    return data, definition


def definition_of(resource: dict[str, Any], value_sets: Mapping[str, dict[str, Any]] | None = None) -> Definition:
    """Read a stored (already validated) resource."""
    return read_questionnaire(resource, value_sets)[1]
