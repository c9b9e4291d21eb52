"""Scores match the instruments' published rules on worked examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sojourn.questionnaires.answers import check_response, response_items
from sojourn.questionnaires.definition import read_questionnaire
from sojourn.questionnaires.instruments import shipped
from sojourn.questionnaires.scoring import check_scoring, raised_flags, score


def answered(name: str, values: dict):
    """Answer through a FHIR QuestionnaireResponse, as every channel does."""
    _resource, definition = read_questionnaire(shipped()[name])
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "item": response_items(definition, {k: v if isinstance(v, list) else [v] for k, v in values.items()})}
    return definition, check_response(definition, response, complete=True)


def scored(name: str, values: dict) -> dict:
    definition, answers = answered(name, values)
    return {s.scale: s for s in score(definition, answers)}


def flagged(name: str, prefix: str, values: list[int]) -> list[str]:
    definition, answers = answered(name, {f"{prefix}-{n + 1}": str(v) for n, v in enumerate(values)})
    return raised_flags(definition, answers, score(definition, answers))


@pytest.mark.parametrize(("answers", "total", "band"), [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
    ([0, 1, 2, 3, 0, 1, 2, 3, 1], 13, "moderate"),
    ([2] * 9, 18, "moderately_severe"),
    ([3] * 9, 27, "severe"),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
])
def test_phq9_is_the_sum_of_nine_items_0_to_27(answers, total, band):
    result = scored("phq-9", {f"phq9-{n + 1}": str(v) for n, v in enumerate(answers)})["total"]
    assert (result.value, result.band) == (Decimal(total), band)


@pytest.mark.parametrize(("answers", "percent", "band"), [
    ([5, 4, 3, 2, 1], 60, "adequate"),   # raw 15 × 4
    ([2, 2, 3, 3, 2], 48, "poor"),       # raw 12: below 13 means poor well-being
    ([1, 1, 1, 2, 2], 28, "likely_depression"),
    ([5, 5, 5, 5, 5], 100, "adequate"),
])
def test_who5_is_the_raw_score_times_four(answers, percent, band):
    result = scored("who-5", {f"who5-{n + 1}": str(v) for n, v in enumerate(answers)})["wellbeing"]
    assert (result.value, result.band) == (Decimal(percent), band)


@pytest.mark.parametrize(("name", "prefix", "answers", "total", "band"), [
    ("gad-7", "gad7", [3] * 7, 21, "severe"),
    ("gad-7", "gad7", [1] * 7, 7, "mild"),
    ("gad-7", "gad7", [2, 2, 2, 2, 1, 1, 0], 10, "moderate"),
    ("phq-2", "phq2", [1, 2], 3, "positive"),
    ("phq-2", "phq2", [1, 1], 2, "negative"),
])
def test_gad7_and_phq2_bands(name, prefix, answers, total, band):
    result = scored(name, {f"{prefix}-{n + 1}": str(v) for n, v in enumerate(answers)})["total"]
    assert (result.value, result.band) == (Decimal(total), band)


@pytest.mark.parametrize(("itch", "band"), [(0, "none"), (3, "mild"), (4, "moderate"), (8, "severe"),
                                           (10, "very_severe")])
def test_the_itch_rating_bands(itch, band):
    assert scored("itch-nrs", {"itch-worst-24h": itch})["itch"].band == band


def test_needs_analysis_scores_each_need_and_skips_the_injection_question_without_injections():
    answers = {"na-treatment": ["topical"], "na-itch": "3", "na-sleep": "2", "na-flares": "1", "na-knowledge": "0",
               "na-side-effects": "2", "na-routine": "0", "na-mood": "3", "na-visible": "1", "na-doctor": "1",
               "na-lifestyle": "2", "na-practical": "0"}
    result = scored("psoriasis-needs", answers)
    assert (result["itch"].value, result["itch"].band) == (Decimal(3), "high")
    assert (result["psychosocial"].value, result["psychosocial"].band) == (Decimal(2), "high")  # mean of 3 and 1
    assert result["injection_confidence"].value is None
    with_injections = scored("psoriasis-needs", {**answers, "na-treatment": ["injection", "topical"],
                                                 "na-injection": "3"})
    assert with_injections["injection_confidence"].band == "high"


def test_a_missing_item_voids_a_scale_that_allows_none():
    _resource, definition = read_questionnaire(shipped()["phq-9"])
    answers = {f"phq9-{n}": ["1"] for n in range(1, 9)}  # item 9 unanswered
    result = score(definition, answers)[0]
    assert result.value is None and result.missing == 1 and "unanswered" in result.reason


def custom() -> dict:
    options = [{"valueCoding": {"code": c}, "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": w}]}
        for c, w in (("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4))]
    return {"resourceType": "Questionnaire", "status": "draft",
            "item": [{"linkId": f"q{n}", "type": "choice", "answerOption": options} for n in range(1, 5)]}


def test_reversed_items_a_multiplier_and_prorating():
    _resource, definition = read_questionnaire(custom())
    scoring = {"scales": [{"id": "s", "items": ["q1", "q2", "q3", "q4"], "method": "sum", "reverse": ["q2"],
                           "max_missing": 1, "prorate": True, "multiplier": 4}]}
    assert check_scoring(definition, scoring) == []
    result = score(definition, {"q1": ["e"], "q2": ["a"], "q3": ["c"]}, scoring)[0]
    # (4 + (0+4-0) + 2) / 3 answered × 4 items × 4
    assert result.value == Decimal("53.33") and result.missing == 1
    mean = score(definition, {"q1": ["e"], "q2": ["a"], "q3": ["c"], "q4": ["a"]},
                 {"scales": [{**scoring["scales"][0], "method": "mean", "multiplier": 1}]})[0]
    assert mean.value == Decimal("2.50")


def test_a_declaration_that_cannot_be_computed_is_refused():
    _resource, definition = read_questionnaire(custom())
    problems = check_scoring(definition, {"scales": [
        {"id": "s", "items": ["q1", "nope"], "reverse": ["q3"], "max_missing": 5,
         "bands": [{"min": 0, "max": 5, "code": "a"}, {"min": 5, "max": 9, "code": "b"}]}]})
    fields = {p.field for p in problems}
    assert {"item[nope]", "scoring.scales[0].reverse", "scoring.scales[0].max_missing",
            "scoring.scales[0].bands"} <= fields


# The instruments' published rules: PHQ-9 item 9 above 0 asks for a suicide-risk assessment (Kroenke,
# Spitzer & Williams 2001); PHQ-9 ≥ 10 and PHQ-2 ≥ 3 are positive depression screens (Kroenke 2001,
# 2003); GAD-7 ≥ 10 a positive anxiety screen (Spitzer 2006); a WHO-5 raw score below 13 is poor
# well-being and a reason to screen for depression (WHO-5 manual).
@pytest.mark.parametrize(("answers", "flags"), [
    ([0] * 9, []),
    ([0] * 8 + [1], ["self_harm_thoughts"]),  # a total of 1, "minimal": the item alone raises it
    ([1, 1, 0, 0, 0, 0, 0, 0, 0], []),  # PHQ-2 of 2
    ([2, 1, 0, 0, 0, 0, 0, 0, 0], ["phq2_positive"]),  # PHQ-2 of 3 inside a PHQ-9 of 3
    ([0, 0, 2, 2, 2, 2, 1, 0, 0], []),  # 9: below the cut-off
    ([0, 0, 2, 2, 2, 2, 2, 0, 0], ["phq9_positive"]),  # 10: at it
    ([3] * 9, ["self_harm_thoughts", "phq9_positive", "phq2_positive"]),
])
def test_phq9_flags_follow_the_published_rules(answers, flags):
    assert flagged("phq-9", "phq9", answers) == flags


@pytest.mark.parametrize(("name", "prefix", "answers", "flags"), [
    ("phq-2", "phq2", [1, 1], []),
    ("phq-2", "phq2", [2, 1], ["phq2_positive"]),
    ("gad-7", "gad7", [2, 2, 2, 2, 1, 0, 0], []),  # 9
    ("gad-7", "gad7", [2, 2, 2, 2, 1, 1, 0], ["gad7_positive"]),  # 10
    ("who-5", "who5", [2, 2, 3, 3, 2], ["who5_poor_wellbeing"]),  # raw 12
    ("who-5", "who5", [3, 3, 3, 2, 2], []),  # raw 13
    ("who-5", "who5", [5, 5, 5, 5, 0], []),  # raw 20
])
def test_phq2_gad7_and_who5_flags_at_their_cut_offs(name, prefix, answers, flags):
    assert flagged(name, prefix, answers) == flags


def test_phq2_is_scored_inside_every_phq9_and_who5_keeps_its_raw_score():
    phq9 = scored("phq-9", {f"phq9-{n + 1}": str(v) for n, v in enumerate([3, 2, 0, 0, 0, 0, 0, 0, 0])})
    assert (phq9["total"].value, phq9["phq2"].value) == (Decimal(5), Decimal(5))
    who5 = scored("who-5", {f"who5-{n + 1}": str(v) for n, v in enumerate([2, 2, 3, 3, 2])})
    assert (who5["raw"].value, who5["wellbeing"].value) == (Decimal(12), Decimal(48))


def test_an_unanswered_item_raises_no_flag():
    _resource, definition = read_questionnaire(shipped()["phq-9"])
    answers = {f"phq9-{n}": ["3"] for n in range(1, 9)}  # item 9 unanswered: the total is void too
    assert raised_flags(definition, answers, score(definition, answers)) == ["phq2_positive"]


def test_a_flag_that_cannot_be_read_is_refused():
    _resource, definition = read_questionnaire(custom())
    scales = [{"id": "s", "items": ["q1", "q2"], "method": "sum"}]
    problems = check_scoring(definition, {"scales": scales, "flags": [
        {"code": "Bad Code", "when": [{"item": "q1", "op": ">=", "value": 1}]},
        {"code": "twice", "when": [{"scale": "nope", "op": ">=", "value": 1}]},
        {"code": "twice", "when": []},
        {"code": "odd", "urgent": "yes", "when": [{"item": "q9", "op": "≥", "value": "1"},
                                                  {"item": "q1", "scale": "s", "op": ">", "value": 1}]}]})
    fields = {p.field for p in problems}
    assert {"scoring.flags[0].code", "scoring.flags[1].when[0].scale", "scoring.flags[2]",
            "scoring.flags[2].when", "scoring.flags[3].urgent", "item[q9]", "scoring.flags[3].when[0].op",
            "scoring.flags[3].when[0].value", "scoring.flags[3].when[1]"} <= fields
    assert check_scoring(definition, {"scales": scales, "flags": [
        {"code": "high", "urgent": True, "when": [{"item": "q1", "op": ">=", "value": 3},
                                                  {"scale": "s", "op": ">", "value": 6.5}]}]}) == []
