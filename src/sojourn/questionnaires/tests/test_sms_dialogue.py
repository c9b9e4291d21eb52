"""A short instrument by text message: one question a message, a retry prompt in the patient's language."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from sojourn.channels.models import NurseTask
from sojourn.consent.errors import NotConsented
from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import SELF, enroll, me
from sojourn.core.errors import InvalidInput
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.services.sms_dialogue import answer_by_sms, start_sms_questionnaire
from sojourn.questionnaires.tests.factories import approved_instrument


def test_phq2_by_text_message_in_german_with_a_retry(program, active_patient):
    phq2 = approved_instrument(program, "phq-2")
    first = start_sms_questionnaire(patient=active_patient, questionnaire=phq2)
    assert "(1/2)" in first and "Wenig Interesse oder Freude" in first and "1 = Überhaupt nicht" in first
    retry = answer_by_sms(patient=active_patient, text="vielleicht")
    assert retry.startswith("Entschuldigung") and "Wenig Interesse" in retry
    second = answer_by_sms(patient=active_patient, text="2")
    assert "(2/2)" in second and "Niedergeschlagenheit" in second
    assert answer_by_sms(patient=active_patient, text="9").startswith("Entschuldigung")  # out of range
    assert answer_by_sms(patient=active_patient, text="9" * 5000).startswith("Entschuldigung")
    done = answer_by_sms(patient=active_patient, text=" 4 ")
    assert "gespeichert" in done
    response = QuestionnaireResponse.objects.get()
    assert (response.status, response.source) == ("completed", "sms")
    assert response.scores[0]["value"] == 4.0 and response.scores[0]["band"] == "positive"  # 1 + 3
    assert answer_by_sms(patient=active_patient, text="1") is None  # nothing open any more


def test_the_itch_rating_by_text_in_japanese_takes_full_width_digits(program, django_capture_on_commit_callbacks):
    itch = approved_instrument(program, "itch-nrs")
    with django_capture_on_commit_callbacks(execute=True):
        patient, _record = enroll(program, "JP", phone="+81 3-1234-5678", email="hina@example.jp")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    patient = verify_patient(actor=SELF, patient=patient, code=code)
    prompt = start_sms_questionnaire(patient=patient, questionnaire=itch)
    assert "かゆみ" in prompt and "0 から 10" in prompt
    assert "保存" in answer_by_sms(patient=patient, text="７")
    assert QuestionnaireResponse.objects.get().scores[0]["band"] == "severe"


def test_long_questionnaires_and_patients_without_sms_consent_are_refused(program, active_patient):
    with pytest.raises(InvalidInput):
        start_sms_questionnaire(patient=active_patient, questionnaire=approved_instrument(program, "psoriasis-needs"))
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["contact_sms"], via="portal")
    with pytest.raises(NotConsented):
        start_sms_questionnaire(patient=active_patient, questionnaire=approved_instrument(program, "phq-2"))
    assert not QuestionnaireResponse.objects.exists()


def test_thoughts_of_self_harm_by_text_get_the_markets_numbers_at_once_and_a_task_for_a_nurse(program,
                                                                                             active_patient):
    phq9 = approved_instrument(program, "phq-9")
    start_sms_questionnaire(patient=active_patient, questionnaire=phq9)
    for _n in range(8):
        answer_by_sms(patient=active_patient, text="1")  # "Überhaupt nicht"
    last = answer_by_sms(patient=active_patient, text="2")  # item 9: "An einzelnen Tagen"
    assert "gespeichert" in last and "rufen Sie 112 an" in last and "TelefonSeelsorge, 0800 111 0 111" in last
    response = QuestionnaireResponse.objects.get()
    assert response.flags == ["self_harm_thoughts"]
    task = NurseTask.objects.get(patient=active_patient)
    assert task.urgent and task.due_at == response.completed_at and task.status == "open"
