"""Responses are checked against their questionnaire; enableWhen follows FHIR's rules (property-based)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sojourn.core.errors import InvalidInput
from sojourn.questionnaires.answers import check_response, condition_holds, enabled_items, response_items
from sojourn.questionnaires.definition import Condition, read_questionnaire
from sojourn.questionnaires.instruments import shipped

_RESOURCE, NEEDS = read_questionnaire(shipped()["psoriasis-needs"])
_ITCH, ITCH = read_questionnaire(shipped()["itch-nrs"])


def response(*items: dict, status: str = "completed") -> dict:
    return {"resourceType": "QuestionnaireResponse", "status": status, "item": list(items)}


def refused(definition, resource, complete=True) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        check_response(definition, resource, complete=complete)
    found: dict[str, str] = {}
    for detail in caught.value.as_dict()["details"]:
        found[detail["field"]] = " ".join(filter(None, [found.get(detail["field"]), detail["message"]]))
    return found


def test_wrong_types_options_ranges_and_unknown_items_are_named_by_link_id():
    found = refused(NEEDS, response(
        {"linkId": "na-itch", "answer": [{"valueInteger": 2}]},
        {"linkId": "na-sleep", "answer": [{"valueCoding": {"code": "7"}}]},
        {"linkId": "na-mood", "answer": [{"valueCoding": {"code": "1"}}, {"valueCoding": {"code": "2"}}]},
        {"linkId": "na-nope", "answer": [{"valueString": "?"}]},
    ), complete=False)
    assert set(found) == {"item[na-itch]", "item[na-sleep]", "item[na-mood]", "item[na-nope]"}
    assert "7 is not one of the options" in found["item[na-sleep]"]
    assert "one answer" in found["item[na-mood]"]
    out_of_range = refused(ITCH, response({"linkId": "itch-worst-24h", "answer": [{"valueInteger": 11}]}))
    assert "at most 10" in out_of_range["item[itch-worst-24h]"]


def test_a_completed_response_needs_every_enabled_required_answer_but_a_draft_does_not():
    partial = response({"linkId": "na-itch", "answer": [{"valueCoding": {"code": "1"}}]}, status="in-progress")
    assert check_response(NEEDS, partial, complete=False) == {"na-itch": ["1"]}
    missing = refused(NEEDS, partial)
    assert "item[na-sleep]" in missing and "item[na-injection]" not in missing  # not asked without injections


def test_an_answer_to_a_question_that_is_not_asked_is_refused():
    found = refused(NEEDS, response(
        {"linkId": "na-treatment", "answer": [{"valueCoding": {"code": "topical"}}]},
        {"linkId": "na-injection", "answer": [{"valueCoding": {"code": "2"}}]}), complete=False)
    assert "not asked" in found["item[na-injection]"]


def test_malformed_fhir_is_refused_before_anything_else():
    found = refused(NEEDS, {"resourceType": "QuestionnaireResponse", "status": "finished-ish", "item": []})
    assert any("status" in field for field in found)


values = st.one_of(st.booleans(), st.integers(-5, 5))


@given(st.lists(st.integers(-5, 5), max_size=3), st.integers(-5, 5))
def test_equal_and_not_equal_never_both_hold_for_one_answer(given_values, expected):
    answers = {"q": given_values}
    equal = condition_holds(Condition("q", "=", expected), answers)
    not_equal = condition_holds(Condition("q", "!=", expected), answers)
    assert not (equal and not_equal) or len(set(given_values)) > 1
    if len(given_values) <= 1:
        assert equal != not_equal


@given(st.lists(st.integers(-5, 5), max_size=3), st.booleans())
def test_exists_is_exactly_whether_there_is_an_answer(given_values, wanted):
    assert condition_holds(Condition("q", "exists", wanted), {"q": given_values}) is (bool(given_values) is wanted)


@given(st.integers(-5, 5), st.integers(-5, 5))
def test_orderings_are_complementary_for_one_answer(answer, expected):
    answers = {"q": [answer]}
    for op, opposite in ((">", "<="), ("<", ">=")):
        assert condition_holds(Condition("q", op, expected), answers) != condition_holds(
            Condition("q", opposite, expected), answers)


def chain_questionnaire(links: list[tuple[str, int]], behavior: str) -> dict:
    """q0 … qn integers; each later question depends on one or two earlier ones (never a circle)."""
    items = [{"linkId": "q0", "type": "integer"}]
    for n, (op, value) in enumerate(links, start=1):
        conditions = [{"question": f"q{n - 1}", "operator": op, "answerInteger": value}]
        if n > 1:
            conditions.append({"question": "q0", "operator": "exists", "answerBoolean": True})
        item = {"linkId": f"q{n}", "type": "integer", "enableWhen": conditions}
        if len(conditions) > 1:
            item["enableBehavior"] = behavior
        items.append(item)
    return {"resourceType": "Questionnaire", "status": "draft", "item": items}


ops = st.sampled_from(["=", "!=", ">", "<", ">=", "<="])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ops, st.integers(0, 3)), min_size=1, max_size=5), st.sampled_from(["all", "any"]),
       st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_answering_only_what_is_enabled_is_always_accepted(links, behavior, raw_values):
    _resource, definition = read_questionnaire(chain_questionnaire(links, behavior))
    answers: dict[str, list] = {}
    for n in range(len(links) + 1):  # answer in order, as the portal asks them
        if f"q{n}" in enabled_items(definition, answers):
            answers[f"q{n}"] = [raw_values[n]]
    accepted = check_response(definition, response(*response_items(definition, answers)), complete=True)
    assert accepted == answers
    enabled = enabled_items(definition, answers)
    assert set(answers) <= enabled
    # Every enabled question was answered, and a question after a disabled one is enabled only by "any".
    assert {f"q{n}" for n in range(len(links) + 1)} & enabled == set(answers)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(ops, st.integers(0, 3)), min_size=1, max_size=4), st.data())
def test_all_implies_any(links, data):
    all_def = read_questionnaire(chain_questionnaire(links, "all"))[1]
    any_def = read_questionnaire(chain_questionnaire(links, "any"))[1]
    answers = {f"q{n}": [data.draw(st.integers(0, 3))] for n in range(len(links) + 1)}
    assert enabled_items(all_def, answers) <= enabled_items(any_def, answers)


def test_a_child_of_a_hidden_group_is_hidden():
    _resource, definition = read_questionnaire({"resourceType": "Questionnaire", "status": "draft", "item": [
        {"linkId": "gate", "type": "boolean"},
        {"linkId": "group", "type": "group", "enableWhen": [{"question": "gate", "operator": "=",
                                                              "answerBoolean": True}],
         "item": [{"linkId": "inner", "type": "string"}]}]})
    assert "inner" not in enabled_items(definition, {"gate": [False]})
    assert "inner" in enabled_items(definition, {"gate": [True]})


def test_a_hostile_deeply_nested_response_is_refused():
    node = {"linkId": "na-itch"}
    for _ in range(3000):
        node = {"linkId": "na-itch", "item": [node]}
    assert "deeper than" in refused(NEEDS, response(node))["item"]
