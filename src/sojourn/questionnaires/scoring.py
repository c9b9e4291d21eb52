"""Scores declared per questionnaire: sums or means of item weights, reversed items, subscales,
a rule for missing items, a multiplier, and bands that say what a score means.

A declaration (stored with the questionnaire, exported as a FHIR extension):

    {"scales": [{"id": "total", "label": {"en": "PHQ-9"}, "items": ["1", "2", …], "method": "sum",
                 "reverse": [], "multiplier": 1, "max_missing": 0, "prorate": false,
                 "bands": [{"min": 0, "max": 4, "code": "minimal", "label": {"en": "Minimal"}}, …]}],
     "flags": [{"code": "self_harm_thoughts", "label": {"en": "Thoughts of self-harm"}, "urgent": true,
                "when": [{"item": "9", "op": ">=", "value": 1}]}]}

A flag is a clinical signal the instrument's published scoring names (PHQ-9 item 9 answered above
0, PHQ-2 ≥ 3, GAD-7 ≥ 10, WHO-5 raw < 13). It is raised when any of its conditions holds, on an
item's weight or a scale's score; the completed response keeps the codes, and the dialogue rules and
hypotheses read them as facts. An urgent flag also puts a task for a person in the nurse queue, due
at once, whatever the program's rules say (channels.subscriptions).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.questionnaires.answers import Answers
from sojourn.questionnaires.definition import Definition, Item

SCORABLE = {"choice", "integer", "decimal", "boolean"}
COMPARISONS = {">=": Decimal.__ge__, ">": Decimal.__gt__, "<=": Decimal.__le__, "<": Decimal.__lt__,
               "==": Decimal.__eq__}
FLAG_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class ScaleScore:
    scale: str
    value: Decimal | None
    band: str
    answered: int
    missing: int
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "value": None if self.value is None else float(self.value), "band": self.band,
                "answered": self.answered, "missing": self.missing, "reason": self.reason}


def _range(item: Item) -> tuple[Decimal, Decimal] | None:
    if item.type == "choice":
        weights = [o.weight for o in item.options if o.weight is not None]
        return (min(weights), max(weights)) if weights else None
    if item.type == "boolean":
        return Decimal(0), Decimal(1)
    if item.min_value is not None and item.max_value is not None:
        return Decimal(item.min_value), Decimal(item.max_value)  # type: ignore[arg-type]
    return None


def check_scoring(definition: Definition, scoring: dict[str, Any]) -> list[ErrorDetail]:
    """Problems with a declaration: unknown or unscorable items, options without weights, bad bands."""
    problems: list[ErrorDetail] = []
    if not scoring:
        return problems
    scales = scoring.get("scales")
    if not isinstance(scales, list) or not scales:
        return [ErrorDetail(_("The scoring declares no scales."), field="scoring.scales")]
    items = definition.by_link_id()
    ids = set()
    for n, scale in enumerate(scales):
        where = f"scoring.scales[{n}]"
        if not isinstance(scale, dict) or not str(scale.get("id", "")).strip():
            problems.append(ErrorDetail(_("Each scale needs an id."), field=where))
            continue
        if scale["id"] in ids:
            problems.append(ErrorDetail(_("The scale %(id)s is declared twice.") % {"id": scale["id"]}, field=where))
        ids.add(scale["id"])
        if scale.get("method", "sum") not in {"sum", "mean"}:
            problems.append(ErrorDetail(_("A scale is a sum or a mean."), field=f"{where}.method"))
        members = scale.get("items") or []
        if not members:
            problems.append(ErrorDetail(_("The scale %(id)s has no items.") % {"id": scale["id"]}, field=where))
        for link_id in members:
            item = items.get(link_id)
            if item is None or item.type not in SCORABLE:
                problems.append(ErrorDetail(_("%(item)s cannot be scored.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
            elif item.type == "choice" and any(o.weight is None and not isinstance(o.value, int)
                                               for o in item.options):
                problems.append(ErrorDetail(_("Every option of %(item)s needs a weight (ordinalValue).")
                                            % {"item": link_id}, field=f"item[{link_id}]"))
        for link_id in scale.get("reverse", []):
            if link_id not in members:
                problems.append(ErrorDetail(_("%(item)s is reversed but not in the scale.") % {"item": link_id},
                                            field=f"{where}.reverse"))
            elif link_id in items and _range(items[link_id]) is None:
                problems.append(ErrorDetail(_("%(item)s needs a range to be reversed.") % {"item": link_id},
                                            field=f"item[{link_id}]"))
        max_missing = scale.get("max_missing", 0)
        if not isinstance(max_missing, int) or max_missing < 0 or max_missing >= max(len(members), 1):
            problems.append(ErrorDetail(_("max_missing must be a whole number below the number of items."),
                                        field=f"{where}.max_missing"))
        bands = sorted(scale.get("bands", []), key=lambda b: Decimal(str(b.get("min", 0))))
        for previous, band in itertools.pairwise(bands):
            if Decimal(str(band["min"])) <= Decimal(str(previous["max"])):
                problems.append(ErrorDetail(_("The bands of %(id)s overlap.") % {"id": scale["id"]},
                                            field=f"{where}.bands"))
    return problems + _check_flags(definition, scoring, ids)


def _check_flags(definition: Definition, scoring: dict[str, Any], scale_ids: set[str]) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    flags = scoring.get("flags", [])
    if not isinstance(flags, list):
        return [ErrorDetail(_("The flags are a list."), field="scoring.flags")]
    items = definition.by_link_id()
    codes: set[str] = set()
    for n, flag in enumerate(flags):
        where = f"scoring.flags[{n}]"
        code = flag.get("code") if isinstance(flag, dict) else None
        if not isinstance(code, str) or not FLAG_CODE.match(code):
            problems.append(ErrorDetail(_("A flag's code is lower-case letters, digits and _ (2 to 40)."),
                                        field=f"{where}.code"))
            continue
        if code in codes:
            problems.append(ErrorDetail(_("The flag %(code)s is declared twice.") % {"code": code}, field=where))
        codes.add(code)
        if not isinstance(flag.get("urgent", False), bool):
            problems.append(ErrorDetail(_("urgent is true or false."), field=f"{where}.urgent"))
        conditions = flag.get("when")
        if not isinstance(conditions, list) or not conditions:
            problems.append(ErrorDetail(_("The flag %(code)s has no condition.") % {"code": code},
                                        field=f"{where}.when"))
            continue
        for m, condition in enumerate(conditions):
            at = f"{where}.when[{m}]"
            if not isinstance(condition, dict) or ("item" in condition) == ("scale" in condition):
                problems.append(ErrorDetail(_("A condition reads one item or one scale."), field=at))
                continue
            if condition.get("op") not in COMPARISONS:
                problems.append(ErrorDetail(_("The comparison is one of %(ops)s.") % {"ops": " ".join(COMPARISONS)},
                                            field=f"{at}.op"))
            value = condition.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(ErrorDetail(_("The value compared with is a number."), field=f"{at}.value"))
            if "scale" in condition and condition["scale"] not in scale_ids:
                problems.append(ErrorDetail(_("The scale %(id)s is not declared.") % {"id": condition["scale"]},
                                            field=f"{at}.scale"))
            if "item" in condition:
                item = items.get(condition["item"])
                if item is None or item.type not in SCORABLE:
                    problems.append(ErrorDetail(_("%(item)s cannot be scored.") % {"item": condition["item"]},
                                                field=f"item[{condition['item']}]"))
    return problems


def _weight(item: Item, value: Any) -> Decimal:
    if item.type == "choice":
        option = item.option(value)
        if option is not None and option.weight is not None:
            return option.weight
        return Decimal(int(value))
    if item.type == "boolean":
        return Decimal(1 if value else 0)
    return Decimal(str(value))


def score(definition: Definition, answers: Answers, scoring: dict[str, Any] | None = None) -> list[ScaleScore]:
    """Score every declared scale from the enabled answers."""
    scoring = scoring if scoring is not None else definition.scoring
    if not scoring:
        return []
    items = definition.by_link_id()
    results = []
    for scale in scoring.get("scales", []):
        members = scale["items"]
        reverse = set(scale.get("reverse", []))
        weights = []
        for link_id in members:
            if not answers.get(link_id):
                continue
            item = items[link_id]
            weight = _weight(item, answers[link_id][0])
            if link_id in reverse:
                low, high = _range(item)  # type: ignore[misc]
                weight = low + high - weight
            weights.append(weight)
        missing = len(members) - len(weights)
        if missing > scale.get("max_missing", 0) or not weights:
            results.append(ScaleScore(scale["id"], None, "", len(weights), missing, "too many items unanswered"))
            continue
        total = sum(weights, Decimal(0))
        mean = total / len(weights)
        if scale.get("method", "sum") == "mean":
            value = mean
        else:
            # Prorating fills each missing item with the mean of the answered ones.
            value = mean * len(members) if scale.get("prorate") and missing else total
        value = (value * Decimal(str(scale.get("multiplier", 1)))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        band = next((b["code"] for b in scale.get("bands", [])
                     if Decimal(str(b["min"])) <= value <= Decimal(str(b["max"]))), "")
        results.append(ScaleScore(scale["id"], value, band, len(weights), missing))
    return results


def raised_flags(definition: Definition, answers: Answers, scores: list[ScaleScore],
                 scoring: dict[str, Any] | None = None) -> list[str]:
    """The codes of the declared flags the answers raise. An unanswered item or a scale without a
    score raises nothing by itself: a flag says what was answered, never what was left out."""
    scoring = scoring if scoring is not None else definition.scoring
    if not scoring:
        return []
    items = definition.by_link_id()
    by_scale = {s.scale: s.value for s in scores}
    raised = []
    for flag in scoring.get("flags", []):
        for condition in flag["when"]:
            if "scale" in condition:
                value = by_scale.get(condition["scale"])
            else:
                given = answers.get(condition["item"])
                value = _weight(items[condition["item"]], given[0]) if given else None
            if value is not None and COMPARISONS[condition["op"]](value, Decimal(str(condition["value"]))):
                raised.append(flag["code"])
                break
    return raised


def flag_declarations(scoring: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {flag["code"]: flag for flag in scoring.get("flags", [])}


def flag_label(scoring: dict[str, Any], code: str, language: str) -> str:
    labels = flag_declarations(scoring).get(code, {}).get("label", {})
    return labels.get(language) or labels.get("en") or code


def flag_evidence(definition: Definition, answers: Answers, scores: list[dict[str, Any]], scoring: dict[str, Any],
                  code: str, language: str) -> list[tuple[str, str]]:
    """What raised the flag, in the reader's language: the question and the answer given, or the
    scale and its score."""
    flag = flag_declarations(scoring).get(code)
    if flag is None:
        return []
    items = definition.by_link_id()
    labels = {s["id"]: s.get("label", {}) for s in scoring.get("scales", [])}
    values = {s["scale"]: s["value"] for s in scores}
    shown = []
    for condition in flag["when"]:
        if "item" in condition and answers.get(condition["item"]):
            item = items[condition["item"]]
            value = answers[condition["item"]][0]
            option = item.option(value) if item.options else None
            shown.append((item.label(language), option.label(language) if option is not None else str(value)))
        elif "scale" in condition and values.get(condition["scale"]) is not None:
            label = labels.get(condition["scale"], {})
            shown.append((label.get(language) or label.get("en") or condition["scale"],
                          f"{values[condition['scale']]:g}"))
    return shown


def band_label(scoring: dict[str, Any], scale_id: str, band: str, language: str) -> str:
    for scale in scoring.get("scales", []):
        if scale["id"] != scale_id:
            continue
        for candidate in scale.get("bands", []):
            if candidate["code"] == band:
                labels = candidate.get("label", {})
                return labels.get(language) or labels.get("en") or band
    return band


def require_valid_scoring(definition: Definition, scoring: dict[str, Any]) -> None:
    problems = check_scoring(definition, scoring)
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
