"""Drug safety's follow-up questions: a nurse calls the patient by the due date, what the patient says
comes back to the case as an intake, a call not answered keeps the question open (and overdue once
due), and a patient who said no to the program's calls is not called."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.channels.services.nurse import claim_task, complete_call
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.services.patients import unseal_for_patient
from sojourn.people.tests.api import Api
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import FollowUp, Intake
from sojourn.safety.queries import open_follow_ups
from sojourn.safety.questions import QUESTIONS
from sojourn.safety.services import (
    close_follow_up,
    decide_intake,
    nullify_case,
    record_intake,
    request_follow_up,
)
from sojourn.tracking.tests.helpers import SYSTEM

NO_TO_ALL = dict.fromkeys(QUESTIONS, "no")
QUESTION = "How is the patient now, and did they go to hospital?"

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(cast):
    return actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program))


def _case(patient, officer, key="sms:1"):
    now = timezone.now()
    intake = record_intake(actor=SYSTEM, patient=patient, source="sms", reason="possible adverse event", detail={},
                           idempotency_key=key, day_zero=now - timedelta(hours=2))
    return decide_intake(actor=officer, intake=intake, kind="adverse_event", reason="", at=now).case


def test_a_follow_up_question_is_a_call_whose_answer_comes_back_to_the_case(active_patient, officer, cast):
    case, now = _case(active_patient, officer), timezone.now()
    asked = request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=7), at=now)
    call = NurseTask.objects.get()
    assert (call.source_key, call.reason, call.due_at) == (
        f"safety-follow-up:{asked.pk}", f"{case.number}: {QUESTION}", asked.due_at)
    assert AuditEntry.objects.get(action="safety.follow_up_requested").after["effects"] == [
        "sojourn.channels.subscriptions.ask_the_question"]
    nurse = actor_for_user(cast.nurse_de)
    claim_task(actor=nurse, task=call)
    with pytest.raises(InvalidInput) as refused:  # drug safety asked: the answer must be written down
        complete_call(actor=nurse, task=call, outcome="reached", safety=NO_TO_ALL)
    assert refused.value.field == "notes" and NurseTask.objects.get().status == "claimed"
    complete_call(actor=nurse, task=call, outcome="reached", notes="Besser seit Montag; kein Krankenhaus.",
                  safety={**NO_TO_ALL, "side_effect": "yes"})
    answer = Intake.objects.get(source="follow-up call")
    assert answer.detail == {"follow_up": asked.pk, "case": case.number, "answers": ["side_effect"]}
    assert unseal_for_patient(active_patient, "safety_intake_words", answer.words_sealed) == \
        "Besser seit Montag; kein Krankenhaus."
    assert Intake.objects.count() == 2  # the yes went with the answer, not as an intake of its own
    follow_up = FollowUp.objects.get()
    assert (follow_up.status, follow_up.intake) == ("answered", answer)
    decided = decide_intake(actor=officer, intake=answer, kind="adverse_event", reason="", at=timezone.now(),
                            follow_up_of=case)
    assert (decided.case.number, decided.case.version) == (case.number, 2)


def test_an_unanswered_call_keeps_the_question_open_and_a_call_back_keeps_it(active_patient, officer, cast):
    case, now = _case(active_patient, officer), timezone.now()
    asked = request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=2), at=now)
    nurse = actor_for_user(cast.nurse_de)
    call = NurseTask.objects.get()
    claim_task(actor=nurse, task=call)
    complete_call(actor=nurse, task=call, outcome="call_back", call_back_at=now + timedelta(days=1))
    again = NurseTask.objects.get(status="open")
    assert again.source_key == f"safety-follow-up:{asked.pk}:call-back:{call.pk}"
    claim_task(actor=nurse, task=again)
    complete_call(actor=nurse, task=again, outcome="voicemail")
    assert FollowUp.objects.get().status == "open"
    [waiting] = open_follow_ups(officer, cast.program)
    assert waiting.pk == asked.pk
    nullify_case(actor=officer, case=case, reason="entered twice", at=now)
    assert FollowUp.objects.get().status == "cancelled" and open_follow_ups(officer, cast.program) == []
    assert not NurseTask.objects.filter(status="open").exists()  # the call-back left the queue with it


def test_a_question_never_answered_is_closed_and_its_call_leaves_the_queue(active_patient, officer, cast, client):
    case, now = _case(active_patient, officer), timezone.now()
    asked = request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=2), at=now)
    with pytest.raises(InvalidInput) as unsaid:
        close_follow_up(actor=officer, follow_up=asked, reason=" ", at=now)
    assert unsaid.value.field == "reason" and FollowUp.objects.get().status == "open"
    with pytest.raises(AccessDenied):
        close_follow_up(actor=actor_for_user(cast.nurse_de), follow_up=asked, reason="x", at=now)
    user = get_user_model().objects.get(username="safety@sponsor.example")
    client.force_login(user)
    url = f"/console/safety/cases/{case.number}/"
    assert f'id="close-follow-up-{asked.pk}"' in client.get(url).content.decode()
    refused = client.post(url, {"action": "close_follow_up", "follow_up": asked.pk, "reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' not in refused.content.decode()
    assert client.post(url, {"action": "close_follow_up", "follow_up": asked.pk,
                             "reason": "not reached after three calls"}).status_code == 302
    closed = FollowUp.objects.get()
    assert (closed.status, closed.closed_reason) == ("unanswered", "not reached after three calls")
    assert NurseTask.objects.get().status == "cancelled" and open_follow_ups(officer, cast.program) == []
    assert AuditEntry.objects.get(action="safety.follow_up_closed").after["effects"] == [
        "sojourn.channels.subscriptions.withdraw_the_question"]
    api = Api(client, user)
    assert api.post(f"/safety/follow-ups/{asked.pk}/closing", {"reason": "again"}).status_code == 409
    other = request_follow_up(actor=officer, case=case, question="Which dose?", due_at=now + timedelta(days=2), at=now)
    shown = api.post(f"/safety/follow-ups/{other.pk}/closing", {"reason": "the doctor answered drug safety"}).json()
    assert [(f["status"], f["closed_reason"]) for f in shown["follow_ups"]] == [
        ("unanswered", "not reached after three calls"), ("unanswered", "the doctor answered drug safety")]
    third = request_follow_up(actor=officer, case=case, question="Any rash?", due_at=now + timedelta(days=2), at=now)
    out = StringIO()
    call_command("safety", "close-follow-up", str(third.pk), "--reason", "no answer",
                 "--by", "safety@sponsor.example", stdout=out)
    assert f"follow-up {third.pk} closed unanswered" in out.getvalue()
    assert not NurseTask.objects.filter(status="open").exists()


def test_a_follow_up_is_refused_naming_what_is_wrong(active_patient, patient_without_nurse_calls, officer, cast):
    case, now = _case(active_patient, officer), timezone.now()
    with pytest.raises(InvalidInput) as refused:
        request_follow_up(actor=officer, case=case, question=" ", due_at=now - timedelta(hours=1), at=now)
    assert [d.field for d in refused.value.details] == ["question", "due_at"]
    with pytest.raises(InvalidInput, match="within 30 days"):
        request_follow_up(actor=officer, case=case, question=QUESTION, due_at=now + timedelta(days=31), at=now)
    silent = _case(patient_without_nurse_calls, officer, key="sms:2")
    with pytest.raises(InvalidInput) as no_calls:
        request_follow_up(actor=officer, case=silent, question=QUESTION, due_at=now + timedelta(days=3), at=now)
    assert no_calls.value.field == "channel"
    with pytest.raises(AccessDenied):
        request_follow_up(actor=actor_for_user(cast.nurse_de), case=case, question=QUESTION,
                          due_at=now + timedelta(days=3), at=now)
    assert not FollowUp.objects.exists() and not NurseTask.objects.exists()


def test_the_console_the_api_and_the_cli_ask_for_follow_ups(active_patient, officer, cast, client):
    case = _case(active_patient, officer)
    user = get_user_model().objects.get(username="safety@sponsor.example")
    client.force_login(user)
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    page = client.post(f"/console/safety/cases/{case.number}/", {"action": "follow_up", "question": "", "due": due})
    assert page.status_code == 422 and 'id="question-error"' in page.content.decode()
    client.post(f"/console/safety/cases/{case.number}/", {"action": "follow_up", "question": QUESTION, "due": due})
    queue = client.get("/console/safety/").content.decode()
    assert QUESTION.replace("?", "") in queue and f'href="/console/safety/cases/{case.number}/"' in queue
    api = Api(client, user)
    made = api.post(f"/safety/cases/{case.number}/follow-ups", {
        "question": "Which dose?", "due_at": (timezone.now() + timedelta(days=3)).isoformat()})
    assert made.status_code == 201 and [f["question"] for f in made.json()["follow_ups"]] == [QUESTION, "Which dose?"]
    out = StringIO()
    call_command("safety", "follow-up", case.number, "--question", "Other medicines?", "--due", due,
                 "--by", "safety@sponsor.example", stdout=out)
    assert f"case {case.number}: follow-up" in out.getvalue() and NurseTask.objects.count() == 3
    with pytest.raises(CommandError, match="--due"):
        call_command("safety", "follow-up", case.number, "--question", "x", "--due", "soon",
                     "--by", "safety@sponsor.example")
