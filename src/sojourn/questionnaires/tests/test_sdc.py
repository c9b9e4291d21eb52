"""The HL7 SDC implementation guide's example forms: those using only what Sojourn supports import,
render in the portal, are answered and export with nothing lost; the others are refused by item and
feature. Then the SDC features one at a time: value sets, item types, expressions, hidden items."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils.html import escape

from sojourn.consent.portal import SESSION_PATIENT
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.questionnaires.answers import (
    calculated_answers,
    check_response,
    condition_holds,
    link_of,
    response_items,
)
from sojourn.questionnaires.definition import Condition, Item, Quantity, read_questionnaire
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.services.definitions import (
    approve_questionnaire,
    export_questionnaire,
    import_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.services.definitions import definition as parsed

DATA = Path(__file__).parent / "data" / "sdc"
SUPPORTED = ["questionnaire-sdc-profile-example-PHQ9.json", "questionnaire-sdc-profile-example-framingham-HCHD.json",
             "questionnaire-sdc-profile-example-hunger-vital-signs.json",
             "questionnaire-sdc-profile-example-weight-height.json"]
# file → {field: words the refusal must hold}
REFUSED = {
    "questionnaire-sdc-test-all-data-types.json": {
        "item[id-attachment]": "Attachments",
        "item[id-choice]": "http://sqlonfhir-r4.azurewebsites.net/fhir/ValueSet/866d7924e20711d48c540020182939f7"},
    "questionnaire-sdc-test-fhirpath-prepop-candexpr.json": {
        "None": "sdc-questionnaire-launchContext", "item[contacts]": "sdc-questionnaire-candidateExpression"},
    "questionnaire-sdc-test-initial-value.json": {  # alone; with its value set, see WITH_VALUE_SET
        "item[1acf93a7-0890-44cd-be48-542defb35248]": "import it into the program first"},
    "questionnaire-sdc-test-repeatable-nested-groups.json": {  # alone; with its value set, see WITH_VALUE_SET
        "item[34b78239-1df2-49c5-a1ab-8f5691c7ede0]": "866d7924e20711d48c540020182939f7"},
    "questionnaire-sdc-test-required-field.json": {"item[radio]": "a015b6a1ac024dc19baec940be2c1695"},  # alone
}
EDITOR, REVIEWER = Actor(kind="system", label="importer"), Actor(kind="system", label="reviewer")
# The value set two IG tests name lives on a test server, not in the IG: a stand-in with its URL and the
# SNOMED codes the forms' initial values use. With it the forms import (in a Bundle), refused alone.
STAND_IN = {"resourceType": "ValueSet", "status": "active",
            "url": "http://sqlonfhir-r4.azurewebsites.net/fhir/ValueSet/a015b6a1ac024dc19baec940be2c1695",
            "expansion": {"timestamp": "2024-01-01", "contains": [
                {"system": "http://snomed.info/sct", "code": c, "display": d}
                for c, d in (("373066001", "Yes"), ("373067005", "No"), ("261665006", "Unknown"))]}}
# The nested groups test names another value set on that server: a stand-in for it too.
NESTED = "questionnaire-sdc-test-repeatable-nested-groups.json"
NESTED_STAND_IN = {**STAND_IN, "url": "https://sqlonfhir-r4.azurewebsites.net/fhir/ValueSet/866d7924e20711d48c540020182939f7"}
WITH_VALUE_SET = ["questionnaire-sdc-test-initial-value.json", "questionnaire-sdc-test-required-field.json", NESTED]


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def importable(name: str) -> dict[str, Any]:
    """The form as a program imports it: with the value set it names, if it is not in the IG."""
    if name in WITH_VALUE_SET:
        return {"resourceType": "Bundle", "type": "collection",
                "entry": [{"resource": copy.deepcopy(NESTED_STAND_IN if name == NESTED else STAND_IN)},
                          {"resource": load(name)}]}
    return load(name)


def approved(program, resource: dict[str, Any]) -> Questionnaire:
    questionnaire = import_questionnaire(actor=EDITOR, program=program, resource=resource)
    submit_questionnaire(actor=EDITOR, questionnaire=questionnaire)
    return approve_questionnaire(actor=REVIEWER, questionnaire=questionnaire)


def refusals(resource: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        read_questionnaire(resource)
    found: dict[str, str] = {}
    for detail in caught.value.as_dict()["details"]:
        field = str(detail.get("field"))
        found[field] = " ".join(filter(None, [found.get(field), detail["message"]]))
    return found


def sample(item: Item) -> str:
    """What a patient types for the item in the portal."""
    if item.options:
        return str(item.options[-1].value)
    return {"boolean": "true", "decimal": "62.5", "integer": "3", "date": "1990-04-01", "dateTime": "2024-05-06T07:08",
            "time": "07:08:09", "url": "https://example.org/", "quantity": "12"}.get(item.type, "some words")


def test_the_vendored_examples_are_all_tested():
    assert sorted(p.name for p in DATA.glob("*.json")) == sorted([*SUPPORTED, *REFUSED])


@pytest.mark.parametrize("name", [*SUPPORTED, *WITH_VALUE_SET])
def test_a_supported_example_exports_as_it_was_imported(program, name):
    original = load(name)
    exported = export_questionnaire(approved(program, importable(name)))
    # Sojourn's own version, review status and (for a form without one) canonical URL; nothing else moves.
    for key in ("version", "status", "url"):
        assert exported.pop(key) == Questionnaire.objects.get().__dict__[key].__str__() or key == "status"
        original.pop(key, None)
    assert exported == original


@pytest.mark.parametrize(("name", "expected"), sorted(REFUSED.items()))
def test_an_example_using_a_refused_feature_is_refused_by_item_and_feature(name, expected):
    found = refusals(load(name))
    for field, words in expected.items():
        assert words in found.get(field, ""), (field, found)


@pytest.fixture
def patient_portal(client, active_patient):
    session = client.session
    session[SESSION_PATIENT] = active_patient.pseudonym
    session.save()
    return client


@pytest.mark.parametrize("name", [*SUPPORTED, *WITH_VALUE_SET])
def test_a_supported_example_is_answered_in_the_portal_and_sent(program, patient_portal, name):
    questionnaire = approved(program, importable(name))
    definition = parsed(questionnaire)
    items = definition.by_link_id()
    path = f"/p/me/questionnaires/{questionnaire.name}/"
    page = patient_portal.get(path)
    for _step in range(2 * len(items) + 1):
        assert page.status_code == 200, page.content[:500]
        shown = re.search(r'name="item" value="([^"]+)"', page.content.decode())
        carry_on = re.search(r'id="continue" href="([^"]+)"', page.content.decode())
        if carry_on is not None:  # after a repeating group's instance: one is enough here
            page = patient_portal.get(carry_on.group(1).replace("&amp;", "&"))
            continue
        if shown is None:
            break
        item = items[link_of(shown.group(1))]
        assert item.asked and escape(item.label("en")) in page.content.decode()
        moved = patient_portal.post(path, {"item": shown.group(1), "answer": sample(item)})
        assert moved.status_code == 302, moved.content.decode()[:2000]
        page = patient_portal.get(moved["Location"])
    assert page.request["PATH_INFO"].endswith("/review/")
    review = page.content.decode()
    for item in definition.walk():
        if item.hidden:
            assert item.label("en") not in review
    sent = patient_portal.post(f"{path}review/")
    assert sent.status_code == 302, sent.content.decode()[:2000]
    response = QuestionnaireResponse.objects.get(status="completed")
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": response.items}
    assert check_response(definition, resource, complete=True)


def test_phq9_from_the_ig_totals_its_value_set_ordinals():
    _resource, definition = read_questionnaire(load(SUPPORTED[0]))
    q1 = definition.by_link_id()["H1/T1/Q1"]
    assert [(o.value, o.weight) for o in q1.options][:2] == [("Not-at-all", 0), ("Several-days", 1)]
    answers = {f"H1/T1/Q{n}": ["More than half the days"] for n in range(1, 10)}
    total = calculated_answers(definition, answers)["H1/TS"]
    assert total == [Quantity(Decimal(18))]


def test_framingham_works_out_its_risk_and_hides_the_decimal():
    _resource, definition = read_questionnaire(load(SUPPORTED[1]))
    answers = {"/age": [Decimal(60)], "/46098-0": ["LA2-8"], "/smokes": ["Y"], "/8480-6": [Decimal(130)],
               "/2093-3": [Decimal(200)], "/2085-9": [Decimal(45)], "/antihypertensive": ["N"]}
    worked = calculated_answers(definition, answers)
    assert worked["riskPercentage"] == ["15.11%"] and definition.by_link_id()["riskDecimal"].hidden
    assert "riskPercentage" not in calculated_answers(definition, {**answers, "/smokes": []} | {"/smokes": []})


def test_a_calculated_answer_is_never_taken_on_trust():
    _resource, definition = read_questionnaire(load(SUPPORTED[3]))
    items = response_items(definition, {"/29463-7": [Decimal(70)], "/8302-2": [Decimal(70)]})
    assert items[-1] == {"linkId": "/39156-5", "answer": [{"valueDecimal": 22.1}]}
    items[-1]["answer"][0]["valueDecimal"] = 18.0
    with pytest.raises(InvalidInput) as caught:
        check_response(definition, {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items},
                       complete=True)
    assert caught.value.field == "item[/39156-5]" and "22.1" in caught.value.as_dict()["message"]


def test_hunger_vital_sign_picks_its_risk_coding_from_its_own_options():
    _resource, definition = read_questionnaire(load(SUPPORTED[2]))
    assert calculated_answers(definition, {"/88122-7": ["LA6729-3"]})["/88124-3"] == ["LA19952-3"]
    assert calculated_answers(definition, {"/88122-7": ["LA28398-8"]})["/88124-3"] == ["LA19983-8"]
    assert "/88124-3" not in calculated_answers(definition, {})


def form(*items: dict, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "status": "draft", "item": list(items), **extra}


CALCULATED = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"


def test_a_runaway_expression_is_refused_at_import_not_left_to_hang_a_request(program):
    blowup = "(1|2|3|4|5|6)" + ".select((1|2|3|4|5|6)" * 12 + ")" * 12 + ".count()"
    resource = form({"linkId": "x", "type": "integer", "extension": [
        {"url": CALCULATED, "valueExpression": {"language": "text/fhirpath", "expression": blowup}}]})
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=resource)
    assert caught.value.field == "item[x]" and "took too long" in caught.value.as_dict()["message"]
    assert not Questionnaire.objects.exists()


def test_an_expression_naming_an_unknown_variable_or_another_language_is_refused(program):
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=form({"linkId": "x", "type": "string",
            "extension": [{"url": CALCULATED, "valueExpression": {"language": "text/fhirpath",
                                                                  "expression": "%patient.name.family"}}]}))
    assert "patient" in caught.value.as_dict()["message"]
    found = refusals(form({"linkId": "y", "type": "string", "extension": [
        {"url": CALCULATED, "valueExpression": {"language": "text/cql", "expression": "1"}}]}))
    assert "text/cql" in found["item[y]"]


def test_a_contained_value_set_expansion_gives_options_translations_and_weights():
    value_set = {"resourceType": "ValueSet", "id": "yn", "url": "http://example.org/vs/yn", "status": "active",
                 "expansion": {"timestamp": "2024-01-01", "contains": [
                     {"system": "http://example.org/cs", "code": "y", "display": "Yes",
                      "designation": [{"language": "de", "value": "Ja"}],
                      "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/itemWeight",
                                     "valueDecimal": 1}]},
                     {"system": "http://example.org/cs", "code": "n", "display": "No"}]}}
    _resource, definition = read_questionnaire(form(
        {"linkId": "a", "type": "choice", "answerValueSet": "http://example.org/vs/yn"},
        {"linkId": "b", "type": "choice", "answerValueSet": "#yn"}, contained=[value_set]))
    a, b = definition.by_link_id()["a"], definition.by_link_id()["b"]
    assert a.options == b.options and a.options[0].label("de") == "Ja" and a.options[0].weight == 1
    filtered = {**value_set, "expansion": None, "compose": {"include": [{"system": "http://loinc.org"}]}}
    del filtered["expansion"]
    found = refusals(form({"linkId": "a", "type": "choice", "answerValueSet": "#yn"}, contained=[filtered]))
    assert "terminology server" in found["item[a]"]
    assert "contained" in refusals(form({"linkId": "a", "type": "string"}, contained=[
        {"resourceType": "Bundle", "id": "b", "type": "batch"}]))


def test_the_remaining_types_are_answered_and_enable_others():
    _resource, definition = read_questionnaire(form(
        {"linkId": "when", "type": "dateTime"}, {"linkId": "at", "type": "time"},
        {"linkId": "link", "type": "url"},
        {"linkId": "dose", "type": "quantity", "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption",
             "valueCoding": {"system": "http://unitsofmeasure.org", "code": "mg", "display": "mg"}}]},
        {"linkId": "late", "type": "string", "enableWhen": [
            {"question": "at", "operator": ">", "answerTime": "11:11:11"}]},
        {"linkId": "high", "type": "string", "enableWhen": [
            {"question": "dose", "operator": ">=", "answerQuantity": {"value": 10, "system": "http://unitsofmeasure.org",
                                                                      "code": "mg"}}]}))
    items = [{"linkId": "when", "answer": [{"valueDateTime": "2024-05-06T07:08:00+02:00"}]},
             {"linkId": "at", "answer": [{"valueTime": "12:00:00"}]},
             {"linkId": "link", "answer": [{"valueUri": "https://example.org"}]},
             {"linkId": "dose", "answer": [{"valueQuantity": {"value": 12, "system": "http://unitsofmeasure.org",
                                                              "code": "mg"}}]},
             {"linkId": "late", "answer": [{"valueString": "yes"}]},
             {"linkId": "high", "answer": [{"valueString": "!"}]}]
    answers = check_response(definition, {"resourceType": "QuestionnaireResponse", "status": "completed",
                                           "item": items}, complete=True)
    assert set(answers) == {"when", "at", "link", "dose", "late", "high"}
    assert response_items(definition, answers) == items  # and back, the same FHIR
    with pytest.raises(InvalidInput) as caught:
        check_response(definition, {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [
            {"linkId": "when", "answer": [{"valueDateTime": "2024-05"}]},
            {"linkId": "dose", "answer": [{"valueQuantity": {"value": 1, "code": "g"}}]}]}, complete=False)
    assert {d["field"] for d in caught.value.as_dict()["details"]} == {"item[when]", "item[dose]"}
    assert not condition_holds(Condition("dose", ">=", Quantity(Decimal(10), code="g")),
                               {"dose": [Quantity(Decimal(12), code="mg")]})


def test_hidden_and_calculated_items_are_not_asked_in_the_portal(program, patient_portal):
    questionnaire = approved(program, load(SUPPORTED[1]))
    page = patient_portal.get(f"/p/me/questionnaires/{questionnaire.name}/?q=riskDecimal")
    assert page.status_code == 302  # neither the hidden decimal nor the calculated percentage is a screen
    assert patient_portal.get(f"/p/me/questionnaires/{questionnaire.name}/?q=riskPercentage").status_code == 302


def test_the_nested_repeating_groups_hold_their_instances_and_round_trip(program):
    definition = parsed(approved(program, importable(NESTED)))
    outer, inner = "ba91450b-6e67-40dc-8629-0f1b60577774", "68ca912397a145bd9e9f265702b5cf45"

    def strings(link_id: str, *texts: str) -> list[dict[str, Any]]:
        return [{"linkId": inner, "item": [{"linkId": link_id, "answer": [{"valueString": t}]}]} for t in texts]

    leaf = "b7e29109-f729-4359-aa29-6c9e7c7b2328"
    first = [{"linkId": "b7e29109-f729-4359-aa29-6c9e7c7b2318", "answer": [{"valueString": "one"}]},
             *strings(leaf, "1a", "1b")]
    tree = [{"linkId": "a7837ce4-6ba4-4d01-913c-d20a6685556b", "item": [
        {"linkId": outer, "item": first}, {"linkId": outer, "item": strings(leaf, "2a")}]}]
    answers = check_response(definition, {"resourceType": "QuestionnaireResponse", "status": "completed",
                                          "item": tree}, complete=True)
    assert answers[f"{outer}[0]/{inner}[1]/{leaf}"] == ["1b"] and answers[f"{outer}[1]/{inner}[0]/{leaf}"] == ["2a"]
    assert response_items(definition, answers) == tree
