"""A FHIR R4 Questionnaire read into Sojourn's terms: items, options with weights, enableWhen,
translations. Anything we do not support is reported by linkId, never dropped without a word.

The FHIR JSON stays the source of truth (it is what we store and export); this module derives the
structure the portal, the validator and the scorer walk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from pydantic import ValidationError

from sojourn.core.control_characters import control_character_paths, refusal_message
from sojourn.core.errors import ErrorDetail, InvalidInput

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ENTRY_FORMAT = "http://hl7.org/fhir/StructureDefinition/entryFormat"
SCORING = "urn:sojourn:fhir:questionnaire-scoring"
# Display hints we keep and export but that change nothing in validation or scoring.
DISPLAY_ONLY = {ITEM_CONTROL, ENTRY_FORMAT}

ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "string", "text", "choice",
              "open-choice"}
ANSWERED_TYPES = ITEM_TYPES - {"group", "display"}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
# The FHIR value[x] each item type is answered with.
VALUE_KEYS = {"boolean": ("valueBoolean",), "decimal": ("valueDecimal",), "integer": ("valueInteger",),
              "date": ("valueDate",), "string": ("valueString",), "text": ("valueString",),
              "choice": ("valueCoding", "valueInteger", "valueString", "valueDate"),
              "open-choice": ("valueCoding", "valueInteger", "valueString", "valueDate")}
ITEM_KEYS = {"linkId", "text", "_text", "type", "required", "repeats", "answerOption", "enableWhen",
             "enableBehavior", "initial", "item", "prefix", "_prefix", "extension", "maxLength", "code", "id",
             "definition", "readOnly"}
ROOT_KEYS = {"resourceType", "id", "meta", "url", "identifier", "version", "name", "title", "_title", "status",
             "date", "publisher", "description", "_description", "copyright", "_copyright", "purpose", "language",
             "subjectType", "code", "extension", "item", "experimental", "contact", "useContext", "jurisdiction",
             "approvalDate", "lastReviewDate", "effectivePeriod", "text"}


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

    def walk(self) -> Iterator[Item]:
        def visit(items: tuple[Item, ...]) -> Iterator[Item]:
            for item in items:
                yield item
                yield from visit(item.items)

        yield from visit(self.items)

    def by_link_id(self) -> dict[str, Item]:
        return {item.link_id: item for item in self.walk()}

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
    for key in ("valueInteger", "valueString", "valueDate", "valueBoolean", "valueDecimal"):
        if key in raw:
            return raw[key]
    return None


class _Reader:
    def __init__(self) -> None:
        self.problems: list[ErrorDetail] = []

    def problem(self, link_id: str | None, message: str) -> None:
        self.problems.append(ErrorDetail(message, field=f"item[{link_id}]" if link_id else None))

    def item(self, raw: dict[str, Any], seen: set[str], parent: str | None) -> Item | None:
        link_id = str(raw.get("linkId", "")).strip()
        if not link_id:
            self.problem(None, _("Every item needs a linkId."))
            return None
        if link_id in seen:
            self.problem(link_id, _("The linkId %(id)s is used twice.") % {"id": link_id})
        seen.add(link_id)
        kind = raw.get("type", "")
        if kind not in ITEM_TYPES:
            self.problem(link_id, _("Item type %(type)s is not supported.") % {"type": kind})
            return None
        for key in sorted(set(raw) - ITEM_KEYS):
            self.problem(link_id, _("%(feature)s is not supported.") % {"feature": key})
        extensions = raw.get("extension", [])
        for ext in extensions:
            if ext.get("url") not in {MIN_VALUE, MAX_VALUE, ITEM_WEIGHT} | DISPLAY_ONLY:
                self.problem(link_id, _("The extension %(url)s is not supported.") % {"url": ext.get("url")})
        if kind == "group" and raw.get("repeats"):
            self.problem(link_id, _("Repeating groups are not supported."))
        if kind == "display" and raw.get("required"):
            self.problem(link_id, _("A display item cannot be required."))
        options = []
        for n, raw_option in enumerate(raw.get("answerOption", [])):
            unknown = [e.get("url") for e in raw_option.get("extension", []) if e.get("url") not in
                       {ORDINAL_VALUE, ITEM_WEIGHT}]
            for url in unknown:
                self.problem(link_id, _("The extension %(url)s is not supported.") % {"url": url})
            if "valueReference" in raw_option:
                self.problem(link_id, _("Options that reference resources are not supported."))
                continue
            coding = raw_option.get("valueCoding", {})
            opt_ext = raw_option.get("extension", [])
            weight = _as_decimal(_extension_value(opt_ext, ORDINAL_VALUE))
            if weight is None:
                weight = _as_decimal(_extension_value(opt_ext, ITEM_WEIGHT))
            if weight is None:
                weight = _as_decimal(_extension_value(coding.get("extension", []), ORDINAL_VALUE))
            value = option_value(raw_option)
            if value in (None, ""):
                self.problem(link_id, _("Option %(n)s has no value.") % {"n": n + 1})
                continue
            options.append(Option(value=value, display=str(coding.get("display", "") or ""),
                                  translations=_translations(coding.get("_display")), weight=weight,
                                  system=str(coding.get("system", "") or "")))
        if kind in {"choice", "open-choice"} and not options:
            if "answerValueSet" in raw:
                self.problem(link_id, _("Answer value sets are not supported: list the answer options."))
            else:
                self.problem(link_id, _("A choice item needs answer options."))
        if "answerValueSet" in raw and options:
            self.problem(link_id, _("Answer value sets are not supported: list the answer options."))
        if len({o.value for o in options}) != len(options):
            self.problem(link_id, _("Two answer options have the same value."))
        conditions = []
        for raw_condition in raw.get("enableWhen", []):
            operator = raw_condition.get("operator")
            if operator not in OPERATORS:
                self.problem(link_id, _("The enableWhen operator %(op)s is not supported.") % {"op": operator})
                continue
            answer_keys = [k for k in raw_condition if k.startswith("answer")]
            if len(answer_keys) != 1:
                self.problem(link_id, _("Each enableWhen needs exactly one answer."))
                continue
            key = answer_keys[0]
            if key in {"answerQuantity", "answerReference", "answerTime", "answerDateTime"}:
                self.problem(link_id, _("%(feature)s in enableWhen is not supported.") % {"feature": key})
                continue
            answer = raw_condition[key]
            if key == "answerCoding":
                answer = str(answer.get("code", ""))
            elif key == "answerDecimal":
                answer = _as_decimal(answer)
            elif key == "answerDate":
                answer = _parse_date(answer)
            conditions.append(Condition(question=str(raw_condition.get("question", "")), operator=operator,
                                        answer=answer))
        behavior = raw.get("enableBehavior") or "all"
        if len(conditions) > 1 and not raw.get("enableBehavior"):
            self.problem(link_id, _("Several enableWhen conditions need an enableBehavior (all or any)."))
        initial = tuple(option_value(v) for v in raw.get("initial", []))
        children = []
        for child in raw.get("item", []):
            parsed = self.item(child, seen, link_id)
            if parsed is not None:
                children.append(parsed)
        if kind == "display" and children:
            self.problem(link_id, _("A display item cannot hold other items."))
        bounds = {name: _extension_value(extensions, url) for name, url in (("min", MIN_VALUE), ("max", MAX_VALUE))}
        return Item(
            link_id=link_id, type=kind, text=str(raw.get("text", "") or ""),
            translations=_translations(raw.get("_text")),
            required=bool(raw.get("required", False)), repeats=bool(raw.get("repeats", False)),
            options=tuple(options), conditions=tuple(conditions), behavior=behavior, initial=initial,
            items=tuple(children),
            min_value=_parse_date(bounds["min"]) if kind == "date" else _as_decimal(bounds["min"]),
            max_value=_parse_date(bounds["max"]) if kind == "date" else _as_decimal(bounds["max"]),
            max_length=raw.get("maxLength"), prefix=str(raw.get("prefix", "") or ""), parent=parent)


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None


def _check_conditions(definition: Definition, reader: _Reader) -> None:
    """enableWhen must name a question that exists, compare like with like, and never go in a circle."""
    items = definition.by_link_id()
    depends: dict[str, set[str]] = {}
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
                  and target.type in {"boolean", "choice", "open-choice", "string", "text"}
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


def _comparable(item: Item, answer: Any) -> bool:
    if item.type == "boolean":
        return isinstance(answer, bool)
    if item.type in {"decimal", "integer"}:
        return isinstance(answer, (int, Decimal)) and not isinstance(answer, bool)
    if item.type == "date":
        return isinstance(answer, date)
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


def read_questionnaire(data: str | bytes | dict[str, Any]) -> tuple[dict[str, Any], Definition]:
    """Validate FHIR JSON and read it; raise InvalidInput listing every problem by linkId."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(_("This is not valid JSON: %(why)s") % {"why": str(exc)[:200]}, field="resource") \
                from exc
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise InvalidInput(_("Expected a FHIR Questionnaire resource."), field="resourceType")
    if too_deep(data):
        raise InvalidInput(_("The JSON nests deeper than %(n)s levels.") % {"n": MAX_DEPTH}, field="item")
    bad = next(control_character_paths(data), None)
    if bad is not None:  # a file upload reaches here without passing the request guard
        raise InvalidInput(refusal_message(), field=".".join(bad))
    try:
        FhirQuestionnaire.model_validate(data)
    except (ValidationError, ValueError, TypeError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": (), "msg": str(exc)}]
        details = [ErrorDetail(str(e.get("msg", "invalid"))[:300],
                               field=".".join(str(p) for p in e.get("loc", ())) or "resource")
                   for e in errors[:50]]
        raise InvalidInput(_("The Questionnaire is not valid FHIR R4."), field=details[0].field,
                           details=details) from exc
    reader = _Reader()
    if data.get("status") not in {"draft", "active", "retired", "unknown"}:
        reader.problems.append(ErrorDetail(_("The status must be draft, active, retired or unknown."),
                                           field="status"))
    for key in sorted(set(data) - ROOT_KEYS):
        reader.problem(None, _("%(feature)s is not supported.") % {"feature": key})
    for ext in data.get("extension", []):
        if ext.get("url") != SCORING:
            reader.problem(None, _("The extension %(url)s is not supported.") % {"url": ext.get("url")})
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
                            language=str(data.get("language", "") or "").split("-")[0], items=items, scoring=scoring)
    _check_conditions(definition, reader)
    if reader.problems:
        first = reader.problems[0]
        raise InvalidInput(first.message, field=first.field, details=reader.problems)
    return data, definition


def definition_of(resource: dict[str, Any]) -> Definition:
    """Read a stored (already validated) resource."""
    return read_questionnaire(resource)[1]
