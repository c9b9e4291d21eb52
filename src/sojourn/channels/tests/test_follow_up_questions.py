"""Drug safety's follow-up questions asked in writing: on the patient's own page, which an approved email
tells them of (never carrying the question), or, for a doctor's report, on the doctor's page, which the
doctor is emailed about. The answer comes back to the case as an intake; a patient or doctor who has not
agreed to be reached that way is not asked, and nothing is written."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.formats import date_format

from sojourn.channels.models import OutboxMessage
from sojourn.channels.services.delivery import deliver_due
from sojourn.consent.portal import SESSION_PATIENT
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import me
from sojourn.content.tests.factories import approved_item
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.services.hcps import unseal_for_hcp
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import FollowUp, Intake
from sojourn.safety.services import close_follow_up, decide_intake, record_intake, request_follow_up
from sojourn.tracking.tests.helpers import SYSTEM

QUESTION = "Did the rash spread beyond the arms, and did you need a doctor?"

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(cast):
    return actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program))


@pytest.fixture
def notice(program):
    return approved_item(program, "safety-question-email", "email", {"de-DE": {
        "subject": "Eine Frage unserer Arzneimittelsicherheit",
        "body": "Hallo {given_name},\n\nunsere Arzneimittelsicherheit hat eine Frage: {portal_link}"}},
        approval_code="DE-PSO-SAFETY-1")


def _case(subject, officer, key="sms:1"):
    now = timezone.now()
    intake = record_intake(actor=SYSTEM, patient=subject, source="sms", reason="possible adverse event", detail={},
                           idempotency_key=key, day_zero=now - timedelta(hours=2))
    return decide_intake(actor=officer, intake=intake, kind="adverse_event", reason="", at=now).case


def _sign_in(client, patient):
    session = client.session
    session[SESSION_PATIENT] = patient.pseudonym
    session.save()


def test_a_question_on_the_patients_page_is_told_by_email_and_answered_there(smtp, active_patient, officer, notice,
                                                                            client):
    case, now = _case(active_patient, officer), timezone.now()
    asked = request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=5), at=now,
                              channel="portal")
    told = OutboxMessage.objects.get()
    assert (told.channel, told.kind, told.payload) == (
        "email", "content", {"content": "safety-question-email", "follow_up": asked.pk})
    deliver_due(owner="w", now=timezone.now())
    [sent] = smtp.received
    body = sent.get_body(("plain",)).get_content()
    assert "https://companion.example/t/c/" in body and QUESTION not in body  # the page's link, tracked
    assert "Arzneimittelsicherheit" in str(sent["Subject"])

    _sign_in(client, active_patient)
    assert 'id="safety-question-notice"' in client.get("/p/me/page/").content.decode()
    page = client.get("/p/me/side-effects/").content.decode()
    assert QUESTION in page and f'id="question-{asked.pk}"' in page
    empty = client.post(f"/p/me/side-effects/questions/{asked.pk}/", {"answer": "  "})
    assert empty.status_code == 422 and f'id="answer-{asked.pk}-error"' in empty.content.decode()
    assert not Intake.objects.filter(source="patient's answer").exists()
    answered = client.post(f"/p/me/side-effects/questions/{asked.pk}/", {"answer": "Nur die Arme, kein Arzt."})
    assert answered.status_code == 302
    assert 'id="answer-sent"' in client.get("/p/me/side-effects/").content.decode()
    answer = Intake.objects.get(source="patient's answer")
    assert answer.detail == {"follow_up": asked.pk, "case": case.number, "answers": []}
    assert (FollowUp.objects.get().status, FollowUp.objects.get().intake) == ("answered", answer)
    again = client.post(f"/p/me/side-effects/questions/{asked.pk}/", {"answer": "noch einmal"})
    assert again.status_code == 422 and Intake.objects.filter(source="patient's answer").count() == 1
    decided = decide_intake(actor=officer, intake=answer, kind="adverse_event", reason="", at=timezone.now(),
                            follow_up_of=case)
    assert decided.case.version == 2


def test_a_patient_not_reachable_in_writing_is_not_asked_there(active_patient, officer, notice, cast):
    case, now = _case(active_patient, officer), timezone.now()
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["contact_email", "contact_sms"],
                     via="portal")
    with pytest.raises(InvalidInput) as refused:
        request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=5), at=now,
                          channel="portal")
    assert refused.value.field == "channel"
    assert not FollowUp.objects.exists() and not OutboxMessage.objects.exists()


def test_without_an_approved_notice_the_question_is_not_asked(active_patient, officer):
    case, now = _case(active_patient, officer), timezone.now()
    with pytest.raises(InvalidInput) as refused:
        request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=5), at=now,
                          channel="portal")
    assert refused.value.field == "channel" and "safety-question-email" in refused.value.message
    assert not FollowUp.objects.exists() and not OutboxMessage.objects.exists()


def test_a_patient_answers_only_their_own_question(active_patient, officer, notice, client, program):
    from sojourn.consent.tests.factories import approved_version, enroll

    case, now = _case(active_patient, officer), timezone.now()
    asked = request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=5), at=now,
                              channel="portal")
    other = enroll(program, "DE", version=approved_version(program, "DE"), email="other@example.org").subject
    _sign_in(client, other)
    refused = client.post(f"/p/me/side-effects/questions/{asked.pk}/", {"answer": "not mine"})
    assert refused.status_code in (404, 422) and not Intake.objects.filter(source="patient's answer").exists()
    assert QUESTION not in client.get("/p/me/side-effects/").content.decode()
    close_follow_up(actor=officer, follow_up=asked, reason="the patient's doctor answered", at=timezone.now())
    assert OutboxMessage.objects.get().status == "cancelled"  # the notice not yet sent never leaves
    _sign_in(client, active_patient)
    assert QUESTION not in client.get("/p/me/side-effects/").content.decode()


def test_a_doctor_is_emailed_and_answers_on_their_page(client, signed_in_hcp, officer,
                                                       django_capture_on_commit_callbacks):
    sent = client.post("/p/hcp/me/side-effects/", {"text": "Urticaria after the second dose.", "product": "Demoxumab",
                                                   "age": "61", "sex": "male", "token": "b" * 32})
    assert sent.status_code == 302
    intake = Intake.objects.get()
    case, now = decide_intake(actor=officer, intake=intake, kind="adverse_event", reason="",
                              at=timezone.now()).case, timezone.now()
    with pytest.raises(InvalidInput):  # the doctor's patient is not the program's to call
        request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=5), at=now)
    mail.outbox.clear()
    chicago = ZoneInfo(signed_in_hcp.time_zone)
    by = timezone.localtime(now, chicago).date() + timedelta(days=5)
    end_of_day = datetime.combine(by + timedelta(days=1), time(0), tzinfo=chicago)  # as the console asks it
    with django_capture_on_commit_callbacks(execute=True):
        asked = request_follow_up(actor=officer, case=case, question=QUESTION, due_at=end_of_day, at=now,
                                  channel="doctor")
    [email] = mail.outbox
    assert email.to == ["dana@clinic.example"] and "/p/hcp/me/side-effects/" in email.body
    with translation.override("en"):
        assert date_format(by, "DATE_FORMAT") in email.body  # the day to answer by, where the doctor is
    assert QUESTION not in email.body and "Urticaria" not in email.body
    page = client.get("/p/hcp/me/side-effects/").content.decode()
    assert QUESTION in page
    assert client.post(f"/p/hcp/me/side-effects/questions/{asked.pk}/",
                       {"answer": "It spread to the trunk; seen in A&E."}).status_code == 302
    answer = Intake.objects.get(source="doctor's answer")
    assert (answer.hcp, answer.patient) == (signed_in_hcp, None)
    assert unseal_for_hcp(signed_in_hcp, "safety_intake_words", answer.words_sealed) == \
        "It spread to the trunk; seen in A&E."
    assert decide_intake(actor=officer, intake=answer, kind="adverse_event", reason="", at=timezone.now(),
                         follow_up_of=case).case.version == 2
