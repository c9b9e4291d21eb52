"""Reading FHIR Questionnaires: what is supported is kept, what is not is named by linkId."""

from __future__ import annotations

import copy
import json

import pytest

from sojourn.core.errors import InvalidInput
from sojourn.questionnaires.definition import read_questionnaire
from sojourn.questionnaires.instruments import shipped


def minimal(*items: dict) -> dict:
    return {"resourceType": "Questionnaire", "status": "draft", "item": list(items)}


def problems(resource) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        read_questionnaire(resource)
    return {d["field"]: d["message"] for d in caught.value.as_dict()["details"]}


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_shipped_instrument_reads_in_all_four_languages(name):
    _resource, definition = read_questionnaire(shipped()[name])
    assert definition.languages() == {"en", "de", "fr", "ja"}
    for item in definition.walk():
        assert set(item.translations) == {"de", "fr", "ja"}, item.link_id
        for option in item.options:
            assert set(option.translations) == {"de", "fr", "ja"}, (item.link_id, option.value)


def test_json_that_is_not_a_questionnaire_is_refused_plainly():
    assert "not valid JSON" in problems("{not json")["resource"]
    assert "resourceType" in problems({"resourceType": "Patient"})
    assert "status" in problems({"resourceType": "Questionnaire", "item": []})


def test_unsupported_features_are_named_by_link_id():
    found = problems(minimal(
        {"linkId": "q1", "type": "attachment", "text": "Upload a photo"},
        {"linkId": "q2", "type": "choice", "text": "Pick", "answerValueSet": "http://example.org/vs"},
        {"linkId": "q3", "type": "string", "text": "x",
         "modifierExtension": [{"url": "http://example.org/unknown", "valueString": "?"}]},
        {"linkId": "q4", "type": "group", "repeats": True, "item": [{"linkId": "q4.1", "type": "string", "extension": [
            {"url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression",
             "valueExpression": {"language": "text/fhirpath", "expression": "'x'"}}]}]},
        {"linkId": "q5", "type": "string", "text": "x",
         "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/regex", "valueString": "[0-9]+"}]},
    ))
    assert set(found) == {"item[q1]", "item[q2]", "item[q3]", "item[q4.1]", "item[q5]"}
    assert "Attachments" in found["item[q1]"] and "http://example.org/vs is not loaded" in found["item[q2]"]
    assert "modifierExtension" in found["item[q3]"] and "repeating group" in found["item[q4.1]"]
    assert "regex" in found["item[q5]"]


def test_unknown_extensions_are_kept_not_refused():
    resource, definition = read_questionnaire(minimal(
        {"linkId": "q1", "type": "string", "text": "x",
         "extension": [{"url": "http://example.org/unknown", "valueString": "?"}]}))
    assert resource["item"][0]["extension"][0]["url"] == "http://example.org/unknown"
    assert definition.by_link_id()["q1"].type == "string"


def test_circular_and_dangling_enable_when_are_refused():
    found = problems(minimal(
        {"linkId": "a", "type": "boolean", "enableWhen": [{"question": "b", "operator": "=", "answerBoolean": True}]},
        {"linkId": "b", "type": "boolean", "enableWhen": [{"question": "a", "operator": "=", "answerBoolean": True}]},
        {"linkId": "c", "type": "boolean", "enableWhen": [{"question": "zz", "operator": "exists",
                                                           "answerBoolean": True}]},
        {"linkId": "d", "type": "integer", "enableWhen": [{"question": "a", "operator": "=", "answerInteger": 3}]},
    ))
    assert "a → b → a" in found.get("item[a]", "") + found.get("item[b]", "")
    assert "zz" in found["item[c]"] and "another type" in found["item[d]"]


def test_a_duplicate_link_id_and_a_choice_without_options_are_refused():
    found = problems(minimal({"linkId": "x", "type": "string"}, {"linkId": "x", "type": "choice"}))
    assert "twice" in found["item[x]"] or "options" in found["item[x]"]


def test_translations_weights_and_conditions_are_read():
    _resource, definition = read_questionnaire(shipped()["psoriasis-needs"])
    injection = definition.by_link_id()["na-injection"]
    assert injection.conditions[0].question == "na-treatment" and injection.conditions[0].answer == "injection"
    assert injection.label("ja") == "自分で注射をすることに、どのくらい自信がありますか?"
    assert [o.weight for o in injection.options] == [0, 1, 2, 3]
    assert injection.options[3].label("de") == "Gar nicht sicher"


def test_the_stored_resource_is_exactly_what_was_imported():
    original = shipped()["phq-9"]
    resource, _definition = read_questionnaire(json.dumps(original))
    assert resource == copy.deepcopy(original)


def test_hostile_nesting_is_refused_not_crashed_on():
    item = {"linkId": "x0", "type": "string"}
    for n in range(1, 3000):
        item = {"linkId": f"g{n}", "type": "group", "item": [item]}
    assert "deeper than" in problems({"resourceType": "Questionnaire", "status": "draft", "item": [item]})["item"]
