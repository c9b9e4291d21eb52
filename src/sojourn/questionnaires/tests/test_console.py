"""A nurse enters answers from a call: partial answers are kept, a finished questionnaire is scored."""

from __future__ import annotations

import pytest
from django.test import Client

from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.tests.factories import approved_instrument


@pytest.fixture
def nurse(cast, program):
    approved_instrument(program, "phq-9")
    client = Client()
    client.force_login(cast.nurse_de)
    return client


def phq9(values: list[int]) -> dict:
    return {f"answer-phq9-{n + 1}": str(v) for n, v in enumerate(values)}


def test_a_nurse_enters_a_phq9_over_the_phone(nurse, cast, active_patient):
    path = f"/console/questionnaires/patients/{active_patient.pseudonym}/phq-9/"
    page = nurse.get(path).content.decode()
    assert "Wenig Interesse oder Freude an Ihren Tätigkeiten" in page  # the nurse works in German
    partial = nurse.post(path, {**phq9([2, 2, 1]), "finish": "0"})
    assert partial.status_code == 302
    assert QuestionnaireResponse.objects.get().status == "in-progress"
    assert 'value="2" checked' in nurse.get(path).content.decode()  # the call resumes where it stopped
    missing = nurse.post(path, {**phq9([2, 2, 1, 1, 0, 0, 1, 0]), "finish": "1"})
    assert missing.status_code == 400 and 'id="error-phq9-9"' in missing.content.decode()
    done = nurse.post(path, {**phq9([2, 2, 1, 1, 0, 0, 1, 0, 0]), "finish": "1"})
    assert done.status_code == 302 and "/profile/" in done["Location"]
    response = QuestionnaireResponse.objects.get()
    assert (response.status, response.source, response.entered_by_id) == ("completed", "nurse", cast.nurse_de.pk)
    assert response.scores[0]["value"] == 7.0 and response.scores[0]["band"] == "mild"


def test_a_nurse_of_another_market_cannot_enter_answers(cast, program, active_patient):
    approved_instrument(program, "phq-9")
    other = Client()
    other.force_login(cast.nurse_gb)
    path = f"/console/questionnaires/patients/{active_patient.pseudonym}/phq-9/"
    assert other.get(path).status_code == 404
    assert other.post(path, {**phq9([0] * 9), "finish": "1"}).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_is_imported_and_reviewed_in_the_console(cast, program):
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    from sojourn.core.permissions import Role
    from sojourn.people.tests.factories import make_staff
    from sojourn.questionnaires.instruments import shipped
    from sojourn.questionnaires.models import Questionnaire

    manager, reviewer = Client(), Client()
    manager.force_login(make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, program))
    reviewer.force_login(make_staff("reviewer@sponsor.example", Role.CONTENT_REVIEWER, program))
    broken = {"resourceType": "Questionnaire", "status": "draft", "item": [{"linkId": "photo", "type": "attachment"}]}
    refused = manager.post("/console/questionnaires/import/", {"text": json.dumps(broken)})
    assert refused.status_code == 400 and "<code>item[photo]</code>" in refused.content.decode()
    assert not Questionnaire.objects.exists()
    upload = SimpleUploadedFile("gad7.json", json.dumps(shipped()["gad-7"]).encode(), "application/json")
    created = manager.post("/console/questionnaires/import/", {"file": upload})
    assert created.status_code == 302
    questionnaire = Questionnaire.objects.get()
    detail = manager.get(created["Location"]).content.decode()
    assert "gad7-1" in detail and "Nervosität, Ängstlichkeit oder Anspannung" in detail
    manager.post(f"/console/questionnaires/{questionnaire.pk}/submit/")
    assert manager.post(f"/console/questionnaires/{questionnaire.pk}/approve/").status_code == 404  # not a reviewer
    assert reviewer.post(f"/console/questionnaires/{questionnaire.pk}/approve/").status_code == 302
    questionnaire.refresh_from_db()
    assert questionnaire.status == "approved"
    assert "gad-7" in reviewer.get("/console/questionnaires/").content.decode()
