"""Repeating groups (FHIR `group` with `repeats`): each instance holds its own answers, enableWhen inside
an instance reads that instance, `required` applies per instance and maxOccurs bounds the instances; the
portal offers another instance after each one; scales and flags cannot read an item answered per instance."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from django.utils import timezone

from sojourn.consent.portal import SESSION_PATIENT
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.questionnaires.answers import check_response, enabled_items, read_answers, response_items
from sojourn.questionnaires.definition import MAX_OCCURS, read_questionnaire
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.services.definitions import (
    approve_questionnaire,
    export_questionnaire,
    import_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.services.response_imports import PSEUDONYM, import_responses
from sojourn.questionnaires.services.sms_dialogue import start_sms_questionnaire

EDITOR, REVIEWER = Actor(kind="system", label="importer"), Actor(kind="system", label="reviewer")
FORM: dict[str, Any] = {
    "resourceType": "Questionnaire", "status": "active", "url": "https://example.org/Questionnaire/medicines",
    "title": "Your medicines",
    "item": [
        {"linkId": "takes", "type": "boolean", "text": "Do you take medicines?", "required": True},
        {"linkId": "medication", "type": "group", "text": "Medicine", "repeats": True,
         "extension": [{"url": MAX_OCCURS, "valueInteger": 3}],
         "enableWhen": [{"question": "takes", "operator": "=", "answerBoolean": True}],
         "item": [
             {"linkId": "name", "type": "string", "text": "Name", "required": True},
             {"linkId": "dose", "type": "integer", "text": "Doses a day", "required": True},
             {"linkId": "bothers", "type": "boolean", "text": "Does it bother you?"},
             {"linkId": "how", "type": "string", "text": "How?",
              "enableWhen": [{"question": "bothers", "operator": "=", "answerBoolean": True}]}]},
        {"linkId": "notes", "type": "string", "text": "Anything else?"}]}


def instance(name: str, dose: int, how: str = "") -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"linkId": "name", "answer": [{"valueString": name}]},
                                   {"linkId": "dose", "answer": [{"valueInteger": dose}]},
                                   {"linkId": "bothers", "answer": [{"valueBoolean": bool(how)}]}]
    if how:
        items.append({"linkId": "how", "answer": [{"valueString": how}]})
    return {"linkId": "medication", "item": items}


def response(*instances: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "item": [{"linkId": "takes", "answer": [{"valueBoolean": True}]}, *instances]}


def refused(resource: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        check_response(read_questionnaire(FORM)[1], resource, complete=True)
    return {str(d["field"]): d["message"] for d in caught.value.as_dict()["details"]}


def test_each_instance_holds_its_answers_and_round_trips_unchanged():
    definition = read_questionnaire(FORM)[1]
    sent = response(instance("Metformin", 2, "Nausea"), instance("Aspirin", 1))
    answers = check_response(definition, sent, complete=True)
    assert answers["medication[0]/name"] == ["Metformin"] and answers["medication[1]/dose"] == [1]
    assert response_items(definition, answers) == sent["item"]


def test_enable_when_inside_an_instance_reads_that_instance():
    definition = read_questionnaire(FORM)[1]
    answers, problems = read_answers(definition, response(instance("A", 1, "Dizzy"), instance("B", 1))["item"])
    assert not problems
    enabled = enabled_items(definition, answers)
    assert "medication[0]/how" in enabled and "medication[1]/how" not in enabled
    second = instance("B", 1)
    second["item"].append({"linkId": "how", "answer": [{"valueString": "not asked"}]})
    assert "not asked" in refused(response(instance("A", 1), second))["item[how]"]


def test_required_applies_per_instance_and_max_occurs_bounds_the_instances():
    second = instance("Aspirin", 1)
    del second["item"][1]
    assert "entry 2" in refused(response(instance("Metformin", 2), second))["item[dose]"]
    too_many = response(*(instance(f"M{n}", 1) for n in range(4)))
    assert "at most 3" in refused(too_many)["item[medication]"]


def test_no_instance_is_needed_unless_the_group_is_required():
    definition = read_questionnaire(FORM)[1]
    assert check_response(definition, response(), complete=True) == {"takes": [True]}
    form = copy.deepcopy(FORM)
    form["item"][1]["required"] = True
    with pytest.raises(InvalidInput) as caught:
        check_response(read_questionnaire(form)[1], response(), complete=True)
    assert caught.value.field == "item[medication]"


def test_enable_when_from_outside_into_an_instance_and_expressions_inside_are_refused():
    form = copy.deepcopy(FORM)
    form["item"][2]["enableWhen"] = [{"question": "name", "operator": "exists", "answerBoolean": True}]
    form["item"][1]["item"][0]["extension"] = [{
        "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression",
        "valueExpression": {"language": "text/fhirpath", "expression": "'x'"}}]
    with pytest.raises(InvalidInput) as caught:
        read_questionnaire(form)
    found = {str(d["field"]): d["message"] for d in caught.value.as_dict()["details"]}
    assert "inside a repeating group" in found["item[notes]"]
    assert "repeating group" in found["item[name]"]


def test_a_scale_or_flag_reading_an_item_inside_a_repeating_group_is_refused(program):
    scoring = {"scales": [{"id": "doses", "items": ["dose"]}],
               "flags": [{"code": "many_doses", "when": [{"item": "dose", "op": ">=", "value": 4}]}]}
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=FORM, scoring=scoring)
    assert caught.value.field == "item[dose]" and "repeating group" in caught.value.message


def approved(program) -> Any:
    questionnaire = import_questionnaire(actor=EDITOR, program=program, resource=copy.deepcopy(FORM))
    submit_questionnaire(actor=EDITOR, questionnaire=questionnaire)
    return approve_questionnaire(actor=REVIEWER, questionnaire=questionnaire)


def test_the_export_is_the_form_as_imported(program):
    exported = export_questionnaire(approved(program))
    assert exported["item"] == FORM["item"]


def test_a_response_with_two_instances_is_imported(program, active_patient):
    questionnaire = approved(program)
    sent = {**response(instance("Metformin", 2, "Nausea"), instance("Aspirin", 1)),
            "questionnaire": f"{questionnaire.url}|{questionnaire.version}",
            "subject": {"identifier": {"system": PSEUDONYM, "value": active_patient.pseudonym}},
            "authored": timezone.now().replace(microsecond=0).isoformat()}
    result = import_responses(actor=Actor.system("partner import"), program=program, resource=json.dumps(sent))
    assert len(result.imported) == 1
    assert QuestionnaireResponse.objects.get().items == sent["item"]


@pytest.fixture
def portal(client, program, active_patient):
    approved(program)
    session = client.session
    session[SESSION_PATIENT] = active_patient.pseudonym
    session.save()
    return client


PATH = "/p/me/questionnaires/medicines/"


def answer(portal, key: str, value: str) -> str:
    moved = portal.post(PATH, {"item": key, "answer": value})
    assert moved.status_code == 302, moved.content.decode()[:1000]
    return moved["Location"]


def link(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    assert found, page
    return found.group(1).replace("&amp;", "&")


def test_the_patient_adds_instances_removes_one_reviews_and_sends(portal):
    first = portal.get(PATH).content.decode()
    assert 'name="item" value="takes"' in first
    answer(portal, "takes", "true")
    page = portal.get(PATH).content.decode()
    assert 'value="medication[0]/name"' in page and "Medicine 1" in page
    for key, value in (("name", "Metformin"), ("dose", "2"), ("bothers", "true")):
        answer(portal, f"medication[0]/{key}", value)
    after = answer(portal, "medication[0]/how", "Nausea")
    more = portal.get(after).content.decode()
    assert 'id="add"' in more and 'id="continue"' in more
    added = portal.get(link(more, "add")).content.decode()
    assert 'value="medication[1]/name"' in added and "Medicine 2" in added
    required = portal.post(PATH, {"item": "medication[1]/name", "answer": ""})
    assert required.status_code == 400 and 'role="alert"' in required.content.decode()
    for key, value in (("name", "Aspirin"), ("dose", "1")):
        answer(portal, f"medication[1]/{key}", value)
    answer(portal, "medication[1]/bothers", "false")
    more = portal.get(PATH + "?more=medication[1]/").content.decode()
    answer(portal, "medication[2]/name", "Ibuprofen")  # a third, then taken out on the review page
    carried = portal.get(link(more, "continue")).content.decode()
    assert 'value="notes"' in carried
    review = portal.get(f"{PATH}review/").content.decode()
    assert 'name="remove" value="medication[2]/" aria-label="Medicine 3 entfernen"' in review
    assert portal.post(f"{PATH}review/", {"remove": "medication[2]/"}).status_code == 302
    review = portal.get(f"{PATH}review/").content.decode()
    assert "Medicine 2" in review and "Medicine 3" not in review and "Ibuprofen" not in review
    sent = portal.post(f"{PATH}review/")
    assert sent.status_code == 302, sent.content.decode()[:1000]
    stored = QuestionnaireResponse.objects.get(status="completed").items
    assert stored == response(instance("Metformin", 2, "Nausea"), instance("Aspirin", 1))["item"]


def test_no_more_instances_are_offered_past_max_occurs(portal):
    answer(portal, "takes", "true")
    for n in range(3):
        answer(portal, f"medication[{n}]/name", f"M{n}")
        answer(portal, f"medication[{n}]/dose", "1")
    more = portal.get(PATH + "?more=medication[2]/").content.decode()
    assert 'id="add"' not in more and 'id="continue"' in more
    assert portal.get(PATH + "?q=medication[3]/name")["Location"] == PATH
    for bogus in ("medication[abc]/", "medication[7]/", "takes"):  # nothing to remove: nothing changes
        assert portal.post(f"{PATH}review/", {"remove": bogus}).status_code == 302
    assert len(QuestionnaireResponse.objects.get().items[1:]) == 3


def test_a_nurse_and_a_text_message_are_told_such_a_form_is_answered_on_the_page(client, cast, active_patient):
    questionnaire = approved(cast.program)
    client.force_login(cast.nurse_de)
    page = client.get(f"/console/questionnaires/patients/{active_patient.pseudonym}/{questionnaire.name}/")
    assert page.status_code == 200 and 'role="alert"' in page.content.decode()
    assert "<form" not in page.content.decode().split("</h1>", 1)[1]
    with pytest.raises(InvalidInput) as refused_by_sms:
        start_sms_questionnaire(patient=active_patient, questionnaire=questionnaire)
    assert refused_by_sms.value.field.startswith("item[")
    assert not QuestionnaireResponse.objects.exists()
