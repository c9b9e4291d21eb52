"""Answers to a questionnaire: which items are enabled, and whether a FHIR QuestionnaireResponse
fits its questionnaire (types, options, ranges, required items, enableWhen)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirResponse
from pydantic import ValidationError

from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.questionnaires.definition import (
    MAX_DEPTH,
    VALUE_KEYS,
    Condition,
    Definition,
    Item,
    option_value,
    too_deep,
)

Answers = dict[str, list[Any]]
RESPONSE_STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")


def _compare(operator: str, given: Any, expected: Any) -> bool:
    if isinstance(expected, Decimal) or isinstance(given, Decimal):
        given, expected = Decimal(str(given)), Decimal(str(expected))
    try:
        return {"=": given == expected, "!=": given != expected, ">": given > expected, "<": given < expected,
                ">=": given >= expected, "<=": given <= expected}[operator]
    except TypeError:
        return False


def condition_holds(condition: Condition, answers: Answers) -> bool:
    """FHIR semantics: `exists` asks whether there is an answer; other operators hold if any answer matches,
    and `!=` holds when there is no answer at all."""
    given = answers.get(condition.question, [])
    if condition.operator == "exists":
        return bool(given) is condition.answer
    if not given:
        return condition.operator == "!="
    if condition.operator == "!=":
        return all(_compare("!=", value, condition.answer) for value in given)
    return any(_compare(condition.operator, value, condition.answer) for value in given)


def enabled_items(definition: Definition, answers: Answers) -> set[str]:
    """The linkIds enabled by these answers: an item's own conditions hold and its parent is enabled.

    Answers to disabled questions do not count, so enabledness is computed in dependency order."""
    items = definition.by_link_id()
    cache: dict[str, bool] = {}

    def is_enabled(link_id: str, guard: frozenset[str] = frozenset()) -> bool:
        if link_id in cache:
            return cache[link_id]
        if link_id in guard:  # a cycle; import refuses these, but never loop
            return False
        item = items[link_id]
        guard = guard | {link_id}
        result = item.parent is None or is_enabled(item.parent, guard)
        if result and item.conditions:
            # Only the questions this item depends on, each counted only if it is itself enabled.
            effective = {c.question: (answers.get(c.question, [])
                                      if c.question in items and is_enabled(c.question, guard) else [])
                         for c in item.conditions}
            outcomes = [condition_holds(c, effective) for c in item.conditions]
            result = all(outcomes) if item.behavior == "all" else any(outcomes)
        cache[link_id] = result
        return result

    return {link_id for link_id in items if is_enabled(link_id)}


def _typed(item: Item, raw: dict[str, Any]) -> tuple[Any, str | None]:
    """Return the answer's value and a problem, if its value[x] does not fit the item."""
    keys = [k for k in raw if k.startswith("value")]
    if len(keys) != 1:
        return None, _("Each answer holds exactly one value.")
    key = keys[0]
    if key not in VALUE_KEYS[item.type]:
        return None, _("%(item)s expects a %(type)s answer, not %(key)s.") % {"item": item.link_id, "type": item.type,
                                                                             "key": key}
    value = option_value(raw) if key != "valueDecimal" else raw[key]
    if item.type in {"choice", "open-choice"}:
        option = item.option(value)
        if option is None and not (item.type == "open-choice" and key == "valueString"):
            return None, _("%(value)s is not one of the options of %(item)s.") % {"value": value,
                                                                                  "item": item.link_id}
        return value, None
    if item.type == "decimal":
        value = Decimal(str(value))
    if item.type == "date":
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            return None, _("%(item)s expects a full date (YYYY-MM-DD).") % {"item": item.link_id}
    if item.type in {"decimal", "integer", "date"}:
        if item.min_value is not None and value < item.min_value:
            return None, _("%(item)s must be at least %(min)s.") % {"item": item.link_id, "min": item.min_value}
        if item.max_value is not None and value > item.max_value:
            return None, _("%(item)s must be at most %(max)s.") % {"item": item.link_id, "max": item.max_value}
    if item.type in {"string", "text"}:
        if not str(value).strip():
            return None, _("%(item)s: an empty answer is no answer.") % {"item": item.link_id}
        if item.max_length and len(value) > item.max_length:
            return None, _("%(item)s takes at most %(n)s characters.") % {"item": item.link_id, "n": item.max_length}
    return value, None


def read_answers(definition: Definition, response_items: list[dict[str, Any]]) -> tuple[Answers, list[ErrorDetail]]:
    """Flatten the response's nested items into linkId → values, with a problem per bad answer."""
    items = definition.by_link_id()
    answers: Answers = {}
    problems: list[ErrorDetail] = []

    def visit(raw_items: list[dict[str, Any]]) -> None:
        for raw in raw_items:
            link_id = str(raw.get("linkId", ""))
            item = items.get(link_id)
            if item is None:
                problems.append(ErrorDetail(_("%(item)s is not an item of this questionnaire.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
                continue
            raw_answers = raw.get("answer", [])
            if raw_answers and item.type not in VALUE_KEYS:
                problems.append(ErrorDetail(_("%(item)s takes no answer.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
            if len(raw_answers) > 1 and not item.repeats:
                problems.append(ErrorDetail(_("%(item)s takes one answer.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
            if link_id in answers:
                problems.append(ErrorDetail(_("%(item)s is answered twice.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
            values = []
            for raw_answer in raw_answers:
                if item.type in VALUE_KEYS:
                    value, problem = _typed(item, raw_answer)
                    if problem:
                        problems.append(ErrorDetail(problem, field=f"item[{link_id}]"))
                    else:
                        values.append(value)
                visit(raw_answer.get("item", []))
            if values:
                answers[link_id] = values
            visit(raw.get("item", []))

    visit(response_items)
    return answers, problems


def check_response(definition: Definition, resource: dict[str, Any], *, complete: bool) -> Answers:
    """Validate a QuestionnaireResponse against FHIR and its questionnaire; return the enabled answers.

    An in-progress response may leave required items open; a completed one may not."""
    if too_deep(resource):
        raise InvalidInput(_("The JSON nests deeper than %(n)s levels.") % {"n": MAX_DEPTH}, field="item")
    try:
        FhirResponse.model_validate(resource)
    except (ValidationError, ValueError, TypeError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": (), "msg": str(exc)}]
        details = [ErrorDetail(str(e.get("msg", "invalid"))[:300],
                               field=".".join(str(p) for p in e.get("loc", ())) or "resource") for e in errors[:50]]
        raise InvalidInput(_("The response is not a valid FHIR QuestionnaireResponse."), field=details[0].field,
                           details=details) from exc
    answers, problems = read_answers(definition, resource.get("item", []))
    if resource.get("status") not in RESPONSE_STATUSES:
        problems.insert(0, ErrorDetail(_("The status must be one of %(statuses)s.")
                                       % {"statuses": ", ".join(RESPONSE_STATUSES)}, field="status"))
    enabled = enabled_items(definition, answers)
    for link_id in sorted(set(answers) - enabled):
        problems.append(ErrorDetail(_("%(item)s is not asked, given the other answers.") % {"item": link_id},
                                    field=f"item[{link_id}]"))
    if complete:
        for item in definition.questions():
            if item.required and item.link_id in enabled and item.link_id not in answers:
                problems.append(ErrorDetail(_("%(item)s needs an answer.") % {"item": item.link_id},
                                            field=f"item[{item.link_id}]"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return {k: v for k, v in answers.items() if k in enabled}


def answer_json(item: Item, value: Any) -> dict[str, Any]:
    """One answer as FHIR value[x], for responses built by the portal, SMS or a nurse."""
    if item.type in {"choice", "open-choice"}:
        option = item.option(value)
        if option is None:
            return {"valueString": str(value)}
        if isinstance(option.value, int) and not option.display:
            return {"valueInteger": option.value}
        coding = {"code": str(option.value)}
        if option.system:
            coding["system"] = option.system
        if option.display:
            coding["display"] = option.display
        return {"valueCoding": coding}
    key = VALUE_KEYS[item.type][0]
    if item.type == "decimal":
        return {key: float(value)}
    if item.type == "date":
        return {key: value.isoformat() if isinstance(value, date) else str(value)}
    return {key: value}


def response_items(definition: Definition, answers: Answers) -> list[dict[str, Any]]:
    """Answers as the nested FHIR response item tree (groups hold their children)."""

    def build(items: tuple[Item, ...]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            node: dict[str, Any] = {"linkId": item.link_id}
            if item.link_id in answers:
                node["answer"] = [answer_json(item, v) for v in answers[item.link_id]]
            children = build(item.items)
            if children:
                node["item"] = children
            if "answer" in node or children:
                out.append(node)
        return out

    return build(definition.items)
