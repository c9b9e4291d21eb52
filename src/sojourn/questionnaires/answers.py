"""Answers to a questionnaire: which items are enabled, what its expressions calculate, and whether a
FHIR QuestionnaireResponse fits its questionnaire (types, options, ranges, required items, enableWhen,
calculated values)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
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
    Expression,
    Item,
    Quantity,
    option_value,
    parse_date_time,
    read_value,
    too_deep,
)
from sojourn.questionnaires.expressions import ExpressionFailed, evaluate, guarded

Answers = dict[str, list[Any]]
RESPONSE_STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")
# An answer inside a repeating group is keyed by its instance path: "medication[1]/dose" is the dose in the
# second medication (nested groups: "visit[0]/drug[2]/name"). Outside repeating groups the key is the linkId.
INSTANCE = "]/"


def link_of(key: str) -> str:
    """The linkId an answer key names."""
    return key.rsplit(INSTANCE, 1)[-1]


def instance_of(key: str) -> str:
    """The innermost group instance a key sits in ("medication[1]/"), or "" outside repeating groups."""
    return key[:len(key) - len(link_of(key))]


def _scopes(prefix: str) -> list[str]:
    """The instance prefixes a key in `prefix` sees, innermost first, ending with the top level."""
    parts = prefix.split(INSTANCE)[:-1]
    return [INSTANCE.join(parts[:n]) + INSTANCE for n in range(len(parts), 0, -1)] + [""]


def instance_count(answers: Answers, group_key: str) -> int:
    """How many instances of the repeating group `group_key` the answers fill."""
    start = f"{group_key}["
    indexes = [int(k[len(start):].split(INSTANCE, 1)[0]) for k in answers
               if k.startswith(start) and k[len(start):].split(INSTANCE, 1)[0].isdigit()]
    return max(indexes, default=-1) + 1


def remove_instance(answers: Answers, instance: str) -> Answers:
    """The answers without one group instance ("medication[1]/"), the instances after it moved up."""
    group_key, _sep, rest = instance.rpartition("[")
    removed = int(rest.split(INSTANCE, 1)[0])
    start = f"{group_key}["
    kept: Answers = {}
    for key, values in answers.items():
        index = key[len(start):].split(INSTANCE, 1)[0] if key.startswith(start) else ""
        if not index.isdigit():
            kept[key] = values
        elif int(index) > removed:
            kept[f"{start}{int(index) - 1}{key[len(start) + len(index):]}"] = values
        elif int(index) < removed:
            kept[key] = values
    return kept


def answer_keys(definition: Definition, answers: Answers, *, adding: str = "", one_each: bool = False
                ) -> dict[str, tuple[Item, str | None]]:
    """Every answer key the form has given these answers, in form order, with its item and parent key.

    A repeating group has the instances its answers fill; `one_each` gives each at least one (the portal
    asks the first), and `adding` names an instance prefix one past the last that is being added."""
    found: dict[str, tuple[Item, str | None]] = {}

    def visit(items: tuple[Item, ...], prefix: str, parent: str | None) -> None:
        for item in items:
            key = f"{prefix}{item.link_id}"
            found[key] = (item, parent)
            if not item.repeating_group:
                visit(item.items, prefix, key)
                continue
            count = instance_count(answers, key)
            room = item.max_occurs is None or count < item.max_occurs
            if (room and adding.startswith(f"{key}[{count}{INSTANCE}")) or (one_each and count == 0):
                count += 1
            for index in range(count):
                visit(item.items, f"{key}[{index}{INSTANCE}", key)

    visit(definition.items, "", None)
    return found


def _compare(operator: str, given: Any, expected: Any) -> bool:
    if isinstance(given, Quantity) and isinstance(expected, Quantity):
        if expected.code and given.code and (given.code, given.system) != (expected.code, expected.system):
            return operator == "!="  # quantities in other units are not compared
        given, expected = given.value, expected.value
    if isinstance(given, datetime) is not isinstance(expected, datetime):
        return operator == "!="  # a day and a moment are not ordered
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


def enabled_items(definition: Definition, answers: Answers, *, adding: str = "", one_each: bool = False
                  ) -> set[str]:
    """The answer keys enabled by these answers (the linkIds, outside repeating groups): an item's own
    conditions hold and its parent is enabled. Inside a group instance, enableWhen reads that instance.

    Answers to disabled questions do not count, so enabledness is computed in dependency order."""
    keys = answer_keys(definition, answers, adding=adding, one_each=one_each)
    cache: dict[str, bool] = {}

    def is_enabled(key: str, guard: frozenset[str] = frozenset()) -> bool:
        if key in cache:
            return cache[key]
        if key in guard:  # a cycle; import refuses these, but never loop
            return False
        item, parent = keys[key]
        guard = guard | {key}
        result = parent is None or is_enabled(parent, guard)
        if result and item.conditions:
            scopes = _scopes(instance_of(key))
            # Only the questions this item depends on, each counted only if it is itself enabled.
            effective = {}
            for c in item.conditions:
                target = next((f"{p}{c.question}" for p in scopes if f"{p}{c.question}" in keys), None)
                effective[c.question] = (answers.get(target, []) if target and is_enabled(target, guard) else [])
            outcomes = [condition_holds(c, effective) for c in item.conditions]
            result = all(outcomes) if item.behavior == "all" else any(outcomes)
        cache[key] = result
        return result

    return {key for key in keys if is_enabled(key)}


def _typed(item: Item, raw: dict[str, Any]) -> tuple[Any, str | None]:
    """Return the answer's value and a problem, if its value[x] does not fit the item."""
    keys = [k for k in raw if k.startswith("value")]
    if len(keys) != 1:
        return None, _("Each answer holds exactly one value.")
    key = keys[0]
    if key not in VALUE_KEYS[item.type]:
        return None, _("%(item)s expects a %(type)s answer, not %(key)s.") % {"item": item.link_id, "type": item.type,
                                                                             "key": key}
    if item.type in {"choice", "open-choice"}:
        value = option_value(raw)
        option = item.option(value)
        if option is None and not (item.type == "open-choice" and key == "valueString"):
            return None, _("%(value)s is not one of the options of %(item)s.") % {"value": value,
                                                                                  "item": item.link_id}
        return value, None
    value = read_value(key, raw[key])
    if value is None or (item.type == "dateTime" and not isinstance(value, date)):
        return None, {"date": _("%(item)s expects a full date (YYYY-MM-DD)."),
                      "dateTime": _("%(item)s expects a date, or a date and time with its offset."),
                      "time": _("%(item)s expects a time (hh:mm:ss)."),
                      "quantity": _("%(item)s expects a number with its unit.")}.get(
            item.type, _("%(item)s expects a %(type)s answer, not %(key)s.")) % {
            "item": item.link_id, "type": item.type, "key": key}
    if item.type == "quantity" and item.unit_options and not any(
            (value.code, value.system) == (u.get("code", ""), u.get("system", "")) for u in item.unit_options):
        return None, _("%(item)s is answered in one of its units.") % {"item": item.link_id}
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
    """Flatten the response's nested items into answer key → values, with a problem per bad answer.

    Each instance of a repeating group is numbered in the order it comes (see `answer_keys`)."""
    items = definition.by_link_id()
    answers: Answers = {}
    problems: list[ErrorDetail] = []

    def visit(raw_items: list[dict[str, Any]], prefix: str) -> None:
        instances: dict[str, int] = {}
        for raw in raw_items:
            link_id = str(raw.get("linkId", ""))
            item = items.get(link_id)
            if item is None:
                problems.append(ErrorDetail(_("%(item)s is not an item of this questionnaire.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
                continue
            key = f"{prefix}{link_id}"
            if item.repeating_group:
                if raw.get("answer"):
                    problems.append(ErrorDetail(_("%(item)s takes no answer.") % {"item": link_id},
                                                field=f"item[{link_id}]"))
                index = instances[key] = instances.get(key, -1) + 1
                if item.max_occurs is not None and index == item.max_occurs:
                    problems.append(ErrorDetail(_("%(item)s takes at most %(n)s entries.")
                                                % {"item": link_id, "n": item.max_occurs}, field=f"item[{link_id}]"))
                visit(raw.get("item", []), f"{key}[{index}{INSTANCE}")
                continue
            raw_answers = raw.get("answer", [])
            if raw_answers and item.type not in VALUE_KEYS:
                problems.append(ErrorDetail(_("%(item)s takes no answer.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
            if len(raw_answers) > 1 and not item.repeats:
                problems.append(ErrorDetail(_("%(item)s takes one answer.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
            elif item.max_occurs is not None and len(raw_answers) > item.max_occurs:
                problems.append(ErrorDetail(_("%(item)s takes at most %(n)s answers.")
                                            % {"item": link_id, "n": item.max_occurs}, field=f"item[{link_id}]"))
            if key in answers:
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
                visit(raw_answer.get("item", []), prefix)
            if values:
                answers[key] = values
            visit(raw.get("item", []), prefix)

    visit(response_items, "")
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
    if definition.has_expressions() and not problems:
        # A calculated answer is worked out again here and must be what was sent: never taken on trust.
        expected = calculated_answers(definition, answers)
        for item in definition.walk():
            if item.calculated and _as_json(item, answers.get(item.link_id, [])) != _as_json(
                    item, expected.get(item.link_id, [])):
                problems.append(ErrorDetail(
                    _("%(item)s is calculated by the questionnaire: its answer must be %(value)s.")
                    % {"item": item.link_id, "value": ", ".join(str(v) for v in expected.get(item.link_id, []))
                       or "—"}, field=f"item[{item.link_id}]"))
        answers = expected
    if resource.get("status") not in RESPONSE_STATUSES:
        problems.insert(0, ErrorDetail(_("The status must be one of %(statuses)s.")
                                       % {"statuses": ", ".join(RESPONSE_STATUSES)}, field="status"))
    enabled = enabled_items(definition, answers)
    for key in sorted(set(answers) - enabled):
        problems.append(ErrorDetail(_("%(item)s is not asked, given the other answers.") % {"item": link_of(key)},
                                    field=f"item[{link_of(key)}]"))
    if complete:
        problems.extend(_missing(definition, answers, enabled))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return {k: v for k, v in answers.items() if k in enabled}


def _missing(definition: Definition, answers: Answers, enabled: set[str]) -> list[ErrorDetail]:
    """What a completed response still lacks: required answers (per group instance) and instances."""
    problems = []
    for key, (item, _parent) in answer_keys(definition, answers).items():
        if key not in enabled:
            continue
        where = f"item[{item.link_id}]"
        if item.repeating_group:
            least = max(item.min_occurs, 1 if item.required else 0)
            if instance_count(answers, key) < least:
                problems.append(ErrorDetail(_("%(item)s needs at least %(n)s entries.")
                                            % {"item": item.link_id, "n": least}, field=where))
        elif item.type in VALUE_KEYS and item.required and key not in answers:
            problems.append(ErrorDetail(_("%(item)s needs an answer in entry %(n)s.")
                                        % {"item": item.link_id, "n": _instance_number(key)} if instance_of(key)
                                        else _("%(item)s needs an answer.") % {"item": item.link_id}, field=where))
        elif item.type in VALUE_KEYS and item.min_occurs > 1 and len(answers.get(key, [])) < item.min_occurs:
            problems.append(ErrorDetail(_("%(item)s needs at least %(n)s answers.")
                                        % {"item": item.link_id, "n": item.min_occurs}, field=where))
    return problems


def _instance_number(key: str) -> int:
    """The 1-based number of the innermost instance a key sits in."""
    return int(instance_of(key).rsplit("[", 1)[-1].split(INSTANCE, 1)[0]) + 1


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
    if item.type == "quantity":
        return {key: value.as_fhir()}
    if isinstance(value, (date, time)):
        return {key: value.isoformat()}
    return {key: value}


def _as_json(item: Item, values: list[Any]) -> list[dict[str, Any]]:
    return [answer_json(item, v) for v in values]


def _build(definition: Definition, answers: Answers, *, every: bool, nodes: dict[str, dict[str, Any]] | None = None
           ) -> list[dict[str, Any]]:
    """The FHIR response item tree: groups hold their children (a repeating group one node per instance),
    a question's children sit under its answer. `every` keeps unanswered items (not display ones)."""

    def build(items: tuple[Item, ...], prefix: str) -> list[dict[str, Any]]:
        out = []
        for item in items:
            if every and item.type == "display":
                continue
            key = f"{prefix}{item.link_id}"
            if item.repeating_group:
                count = max(instance_count(answers, key), 1 if every else 0)
                out.extend(_node(item, None, build(item.items, f"{key}[{n}{INSTANCE}"), every, nodes)
                           for n in range(count))
                continue
            out.append(_node(item, answers.get(key), build(item.items, prefix), every, nodes))
        return [node for node in out if node]

    return build(definition.items, "")


def _node(item: Item, values: list[Any] | None, children: list[dict[str, Any]], every: bool,
          nodes: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    node: dict[str, Any] = {"linkId": item.link_id}
    if every and item.text:
        node["text"] = item.text
    if values:
        node["answer"] = _as_json(item, values)
    if children and item.type == "group":
        node["item"] = children
    elif children and "answer" in node:
        node["answer"][0]["item"] = children
    elif children and every:
        node["item"] = children
    if nodes is not None:
        nodes.setdefault(item.link_id, node)
    return node if every or "answer" in node or "item" in node else {}


def _tree(definition: Definition, answers: Answers) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The response FHIRPath sees: every item but display ones, answered or not, and each node by linkId."""
    nodes: dict[str, dict[str, Any]] = {}
    items = _build(definition, answers, every=True, nodes=nodes)
    return {"resourceType": "QuestionnaireResponse", "status": "in-progress", "item": items}, nodes


def _weights(definition: Definition) -> dict[tuple[str, str], Decimal]:
    weights: dict[tuple[str, str], Decimal] = {}
    for item in definition.walk():
        for option in item.options:
            if option.weight is not None:
                weights[(option.system, str(option.value))] = option.weight
                weights.setdefault(("", str(option.value)), option.weight)
    return weights


def _converted(item: Item, results: list[Any]) -> list[Any]:
    """An expression's result as answers to the item, or ExpressionFailed if it does not fit."""
    values = []
    for result in results if item.repeats else results[:1]:
        try:
            values.append(_one(item, result))
        except (ValueError, TypeError, InvalidOperation, AttributeError):
            raise ExpressionFailed(item.calculated.text if item.calculated else "",
                                   f"gives {str(result)[:80]}, which is no {item.type} answer") from None
    return values


def _one(item: Item, result: Any) -> Any:
    if item.type in {"choice", "open-choice"}:
        code = str(result.get("code", "")) if isinstance(result, dict) else str(result)
        if item.option(code) is None and not (item.type == "open-choice" and isinstance(result, str)):
            raise ValueError(code)
        return code
    if item.type == "boolean":
        if not isinstance(result, bool):
            raise TypeError(result)
        return result
    if item.type in {"decimal", "integer", "quantity"}:
        if isinstance(result, bool):
            raise TypeError(result)
        number = Decimal(str(result["value"] if isinstance(result, dict) else result))
        if item.type == "integer":
            if number != number.to_integral_value():
                raise ValueError(number)
            return int(number)
        if item.type == "quantity":
            if isinstance(result, dict):
                return read_value("valueQuantity", result)
            unit = item.unit or (item.unit_options[0] if item.unit_options else {})
            return Quantity(number, unit.get("display", "") or unit.get("code", ""), unit.get("system", ""),
                            unit.get("code", ""))
        return number
    if item.type == "date":
        return date.fromisoformat(str(result))
    if item.type == "dateTime":
        return parse_date_time(str(result))
    if item.type == "time":
        return time.fromisoformat(str(result))
    if isinstance(result, (dict, list)):
        raise TypeError(result)
    return str(result)


def _expression_values(definition: Definition, answers: Answers, enabled: set[str], pick: str) -> Answers:
    """Evaluate each enabled item's `pick` expression (calculated or initial_expression), with the
    variables of the Questionnaire and of the item's ancestors in scope, as the SDC says."""
    tree, nodes = _tree(definition, answers)
    weights = _weights(definition)
    raw_items = {str(i.get("linkId")): i for i in _raw_items(definition.resource.get("item", []))}
    found: Answers = {}

    def scope(variables: tuple[Expression, ...], focus: Any, env: dict[str, Any], where: str | None) -> dict[str, Any]:
        env = dict(env)
        for variable in variables:
            with _failing(where):
                env[variable.name] = evaluate(variable.text, focus, env, weights)
        return env

    def visit(items: tuple[Item, ...], env: dict[str, Any]) -> None:
        for item in items:
            if item.link_id not in enabled:
                continue
            focus = nodes.get(item.link_id, tree)
            inner = scope(item.variables, focus, {**env, "qitem": raw_items.get(item.link_id, {})}, item.link_id)
            expression = getattr(item, pick)
            if expression is not None:
                with _failing(item.link_id):
                    values = _converted(item, evaluate(expression.text, focus, inner, weights))
                if values:
                    found[item.link_id] = values
            visit(item.items, inner)

    with guarded():
        visit(definition.items, scope(definition.variables, tree, {"resource": tree, "rootResource": tree,
                                                                   "questionnaire": definition.resource}, None))
    return found


def _raw_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for item in items for x in (item, *_raw_items(item.get("item", [])))]


@contextmanager
def _failing(link_id: str | None) -> Iterator[None]:
    """Turn a failed expression into a refusal that names the item and the expression."""
    try:
        yield
    except ExpressionFailed as exc:
        raise InvalidInput(_("An expression of %(item)s failed: %(why)s (%(expression)s)")
                           % {"item": link_id or _("the questionnaire"), "why": exc.why,
                              "expression": exc.expression[:200]},
                           field=f"item[{link_id}]" if link_id else "extension") from None


def calculated_answers(definition: Definition, answers: Answers) -> Answers:
    """The answers with every calculated item worked out again (whatever was sent for it), repeated until
    calculations that read other calculations settle."""
    items = definition.by_link_id()
    result = {k: v for k, v in answers.items() if not (k in items and items[k].calculated)}
    if not definition.has_expressions():
        return result
    given = dict(result)
    for _round in range(sum(1 for i in items.values() if i.calculated) + 1):
        values = _expression_values(definition, result, enabled_items(definition, result), "calculated")
        settled = {**given, **values}
        if settled == result:
            break
        result = settled
    return result


def initial_answers(definition: Definition, answers: Answers) -> Answers:
    """The initialExpression values of the enabled items, from the answers so far."""
    if not any(i.initial_expression for i in definition.walk()):
        return {}
    return _expression_values(definition, answers, enabled_items(definition, answers), "initial_expression")


def response_items(definition: Definition, answers: Answers) -> list[dict[str, Any]]:
    """Answers as the nested FHIR response item tree (groups hold their children, one node per instance of
    a repeating group, a question's children sit under its answer), with the calculated items worked out."""
    return _build(definition, calculated_answers(definition, answers), every=False)
