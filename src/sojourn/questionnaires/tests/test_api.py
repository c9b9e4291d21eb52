"""Questionnaires through the API: import, review, export losslessly, answer, score."""

from __future__ import annotations

import copy

import pytest

from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.tests.api import Api, assert_error
from sojourn.people.tests.factories import make_staff
from sojourn.questionnaires.definition import read_questionnaire
from sojourn.questionnaires.instruments import shipped
from sojourn.questionnaires.models import QuestionnaireResponse


@pytest.fixture
def manager(client, cast):
    return Api(client, make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, cast.program))


@pytest.fixture
def reviewer(client, cast):
    return Api(client, make_staff("reviewer@sponsor.example", Role.CONTENT_REVIEWER, cast.program))


def approved(manager, reviewer, name: str) -> dict:
    created = manager.post("/programs/psoriasis/questionnaires", {"resource": shipped()[name]})
    assert created.status_code == 201, created.content
    qid = created.json()["id"]
    assert manager.post(f"/questionnaires/{qid}/submission").json()["status"] == "in_review"
    body = reviewer.post(f"/questionnaires/{qid}/approval").json()
    assert body["status"] == "approved"
    return body


@pytest.mark.parametrize("name", sorted(shipped()))
def test_import_then_export_is_lossless(manager, name):
    original = shipped()[name]
    created = manager.post("/programs/psoriasis/questionnaires", {"resource": original})
    assert created.status_code == 201, created.content
    exported = manager.get(f"/questionnaires/{created.json()['id']}/fhir").json()
    expected = {**copy.deepcopy(original), "version": "1", "status": "draft"}
    assert exported == expected
    assert read_questionnaire(exported)[1] == read_questionnaire(original)[1]


def test_review_needs_a_second_person_and_a_new_version_retires_the_old(manager, reviewer, client, cast):
    first = approved(manager, reviewer, "who-5")
    second = manager.post("/programs/psoriasis/questionnaires", {"resource": shipped()["who-5"]}).json()
    assert second["version"] == 2 and second["status"] == "draft"
    manager.post(f"/questionnaires/{second['id']}/submission")
    assert_error(manager.post(f"/questionnaires/{second['id']}/approval"), 403, "forbidden")
    assert_error(reviewer.post(f"/questionnaires/{second['id']}/return", {"comment": " "}), 422, "invalid")
    reviewer.post(f"/questionnaires/{second['id']}/return", {"comment": "Use the 2024 wording."})
    manager.post(f"/questionnaires/{second['id']}/submission")
    reviewer.post(f"/questionnaires/{second['id']}/approval")
    statuses = {q["version"]: q["status"] for q in manager.get("/programs/psoriasis/questionnaires").json()}
    assert statuses == {1: "retired", 2: "approved"}
    assert first["version"] == 1
    assert_error(Api(client, cast.analyst).post("/programs/psoriasis/questionnaires",
                                                {"resource": shipped()["who-5"]}), 403, "forbidden")


def test_an_unsupported_questionnaire_is_refused_naming_each_link_id(manager):
    resource = {"resourceType": "Questionnaire", "status": "draft", "item": [
        {"linkId": "photo", "type": "attachment"},
        {"linkId": "a", "type": "boolean", "enableWhen": [{"question": "a", "operator": "exists",
                                                           "answerBoolean": True}]}]}
    error = assert_error(manager.post("/programs/psoriasis/questionnaires", {"resource": resource}), 422, "invalid")
    fields = {d["field"] for d in error["details"]}
    assert fields == {"item[photo]", "item[a]"}
    assert_error(manager.post("/programs/psoriasis/questionnaires", {"resource": {"resourceType": "Patient"}}),
                 422, "invalid")
    assert manager.get("/programs/psoriasis/questionnaires").json() == []


def phq9_items(values: list[int]) -> list[dict]:
    return [{"linkId": f"phq9-{n + 1}", "answer": [{"valueCoding": {"code": str(v)}}]} for n, v in enumerate(values)]


def test_a_nurse_enters_a_phq9_in_two_sittings_and_it_is_scored(manager, reviewer, client, cast, active_patient):
    phq9 = approved(manager, reviewer, "phq-9")
    nurse = Api(client, cast.nurse_de)
    path = f"/patients/{active_patient.pseudonym}/questionnaire-responses"
    partial = nurse.post(path, {"questionnaire_id": phq9["id"], "status": "in-progress", "source": "nurse",
                                "item": phq9_items([1, 2, 1])})
    assert partial.status_code == 201 and partial.json()["status"] == "in-progress"
    incomplete = nurse.post(path, {"questionnaire_id": phq9["id"], "item": phq9_items([1, 2, 1])})
    assert "item[phq9-4]" in {d["field"] for d in assert_error(incomplete, 422, "invalid")["details"]}
    done = nurse.post(path, {"questionnaire_id": phq9["id"], "source": "nurse",
                             "item": phq9_items([1, 2, 1, 2, 1, 1, 0, 0, 0])})
    assert done.status_code == 201, done.content
    body = done.json()
    assert body["id"] == partial.json()["id"]  # the same response, resumed and completed
    assert body["scores"] == [{"scale": "total", "value": 8.0, "band": "mild", "answered": 9, "missing": 0,
                               "reason": ""},
                              {"scale": "phq2", "value": 3.0, "band": "", "answered": 2, "missing": 0, "reason": ""}]
    assert body["flags"] == ["phq2_positive"]  # items 1 and 2 make a positive PHQ-2; item 9 is 0
    listed = nurse.get(path).json()
    assert [r["status"] for r in listed] == ["completed"]
    fhir = nurse.get(f"/questionnaire-responses/{body['id']}/fhir").json()
    assert fhir["questionnaire"].endswith("phq-9|1") and fhir["subject"]["identifier"]["value"] == \
        active_patient.pseudonym
    assert AuditEntry.objects.filter(action="questionnaire.completed", subject_id=active_patient.pseudonym).exists()


def test_bad_answers_a_retired_version_and_a_withdrawn_patient_save_nothing(manager, reviewer, client, cast,
                                                                           active_patient):
    phq9 = approved(manager, reviewer, "phq-9")
    nurse = Api(client, cast.nurse_de)
    path = f"/patients/{active_patient.pseudonym}/questionnaire-responses"
    wrong = nurse.post(path, {"questionnaire_id": phq9["id"], "item": [
        {"linkId": "phq9-1", "answer": [{"valueBoolean": True}]}]})
    assert assert_error(wrong, 422, "invalid")["details"][0]["field"] == "item[phq9-1]"
    reviewer.post(f"/questionnaires/{phq9['id']}/retirement")
    assert_error(nurse.post(path, {"questionnaire_id": phq9["id"], "item": phq9_items([0] * 9)}), 409, "conflict")
    itch = approved(manager, reviewer, "itch-nrs")
    withdraw_consent(actor=cast_actor(cast), patient=active_patient, purposes=None, via="nurse")
    refused = nurse.post(path, {"questionnaire_id": itch["id"], "item": [
        {"linkId": "itch-worst-24h", "answer": [{"valueInteger": 4}]}]})
    assert_error(refused, 422, "not_consented")
    assert not QuestionnaireResponse.objects.exists()


def cast_actor(cast):
    from sojourn.people.queries import actor_for_user

    return actor_for_user(cast.nurse_de)
