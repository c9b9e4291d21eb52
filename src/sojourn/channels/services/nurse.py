"""Working the nurse queue: claim a call, release it, record what came of it. A call-back becomes a
new task at the agreed time; an adverse-event tick records a safety intake at once; an urgent
clinical flag in a patient's answers is a task due at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.channels.models import NurseTask
from sojourn.channels.queries import CLINICAL_FLAG
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, InvalidInput, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.services.patients import seal_for_patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.scoring import flag_declarations, flag_label
from sojourn.safety.models import FollowUp
from sojourn.safety.questions import read_answers
from sojourn.safety.services import answer_follow_up, record_intake
from sojourn.tracking.services.events import record_events

MAX_NOTES = 4000
Status = NurseTask.Status


def access_task(actor: Actor, task_id: int) -> NurseTask:
    """The task, if the actor works the nurse queue in the patient's market; missing and forbidden alike."""
    task = NurseTask.objects.select_related("patient__market", "patient__data_key", "program").filter(
        pk=task_id).first()
    if task is None or not actor.can(Permission.NURSE_QUEUE, task.program_id, task.patient.market.country):
        raise NotFound()
    return task


def _audit(actor: Actor, task: NurseTask, action: str, **after: object) -> None:
    record_audit(actor=actor, action=action, subject_type="patient", subject_id=task.patient.pseudonym,
                 program_id=task.program_id, market=task.patient.market.country, after={"task": task.pk, **after})


def claim_task(*, actor: Actor, task: NurseTask, name: str = "") -> NurseTask:
    actor.require(Permission.NURSE_QUEUE, task.program_id, task.patient.market.country)
    with transaction.atomic(durable=True):
        taken = NurseTask.objects.filter(pk=task.pk, status=Status.OPEN).update(
            status=Status.CLAIMED, claimed_by_id=actor.user_id, claimed_by_name=(name or actor.label)[:200],
            claimed_at=timezone.now())
        if not taken:
            current = NurseTask.objects.get(pk=task.pk)
            if current.status == Status.CLAIMED and current.claimed_by_id == actor.user_id:
                return current
            raise Conflict(_("Someone else has taken this call, or it is finished."), field="status")
        _audit(actor, task, "nurse_task.claimed")
    return NurseTask.objects.get(pk=task.pk)


def release_task(*, actor: Actor, task: NurseTask) -> NurseTask:
    actor.require(Permission.NURSE_QUEUE, task.program_id, task.patient.market.country)
    with transaction.atomic(durable=True):
        released = NurseTask.objects.filter(pk=task.pk, status=Status.CLAIMED, claimed_by_id=actor.user_id).update(
            status=Status.OPEN, claimed_by_id=None, claimed_by_name="", claimed_at=None)
        if not released:
            raise Conflict(_("Only the nurse who took a call can give it back."), field="status")
        _audit(actor, task, "nurse_task.released")
    return NurseTask.objects.get(pk=task.pk)


def cancel_open_calls(*, patient_id: int, now: datetime) -> int:
    """Calls not made yet leave the queue: the patient no longer agrees to be called (in the
    withdrawal's transaction, so the consent and the queue never disagree)."""
    return NurseTask.objects.filter(patient_id=patient_id, status__in=[Status.OPEN, Status.CLAIMED]).update(
        status=Status.CANCELLED, completed_at=now)


FOLLOW_UP = "safety-follow-up:"  # the source key of a call drug safety asked for, and of its call-backs


def call_for_follow_up(follow_up: FollowUp) -> NurseTask:
    """Drug safety's question, as a call in the nurses' queue due when the answer is."""
    case = follow_up.case
    task, _created = NurseTask.objects.get_or_create(source_key=f"{FOLLOW_UP}{follow_up.pk}", defaults={
        "program_id": case.program_id, "patient_id": case.patient_id, "due_at": follow_up.due_at,
        "reason": f"{case.number}: {follow_up.question}"[:200], "created_at": follow_up.asked_at})
    return task



def call_for_urgent_flags(response: QuestionnaireResponse) -> list[NurseTask]:
    """Each urgent flag the answers raise (PHQ-9 item 9 above 0) is a task for a person, due at once and
    first in the queue, whatever the program's rules say: the instrument's scoring asks for an
    assessment the same day. Nothing else decides it, so no rule set, cap or quiet hour can hold it back."""
    declared = flag_declarations(response.questionnaire.scoring)
    tasks = []
    for code in response.flags:
        if not declared.get(code, {}).get("urgent"):
            continue
        label = flag_label(response.questionnaire.scoring, code, "en")
        task, _created = NurseTask.objects.get_or_create(
            source_key=f"{CLINICAL_FLAG}{response.pk}:{code}", defaults={
                "program_id": response.patient.program_id, "patient_id": response.patient_id, "urgent": True,
                "due_at": response.completed_at, "created_at": response.completed_at, "reason": label[:200]})
        tasks.append(task)
    return tasks


def _follow_up_of(task: NurseTask) -> int | None:
    if not task.source_key.startswith(FOLLOW_UP):
        return None
    return int(task.source_key.removeprefix(FOLLOW_UP).split(":", 1)[0])


def complete_call(*, actor: Actor, task: NurseTask, outcome: str, notes: str = "",
                  call_back_at: datetime | None = None, safety: Mapping[str, object] | None = None,
                  duration_s: int | None = None) -> NurseTask:
    """Record the call. Nothing is saved if any part is wrong. A reached call carries an answer to every
    safety question (safety/questions.py); any yes is an intake for drug safety, day zero now."""
    actor.require(Permission.NURSE_QUEUE, task.program_id, task.patient.market.country)
    now = timezone.now()
    if outcome not in NurseTask.Outcome.values:
        raise InvalidInput(_("Choose what came of the call."), field="outcome")
    if outcome == NurseTask.Outcome.CALL_BACK and (call_back_at is None or call_back_at <= now):
        raise InvalidInput(_("Give a time in the future to call back."), field="call_back_at")
    if len(notes) > MAX_NOTES:
        raise InvalidInput(_("Notes have at most %(n)d characters.") % {"n": MAX_NOTES}, field="notes")
    follow_up = _follow_up_of(task)
    if follow_up is not None and outcome == NurseTask.Outcome.REACHED and not notes.strip():
        raise InvalidInput(_("Write what the patient told you: drug safety asked for it."), field="notes")
    answers = read_answers(safety or {}, reached=outcome == NurseTask.Outcome.REACHED)
    reported = [q for q, yes in answers.items() if yes]
    adverse_event = bool(reported)
    patient = task.patient
    with transaction.atomic(durable=True):
        done = NurseTask.objects.filter(pk=task.pk, status=Status.CLAIMED, claimed_by_id=actor.user_id).update(
            status=Status.DONE, outcome=outcome, call_back_at=call_back_at if outcome == "call_back" else None,
            notes_sealed=seal_for_patient(patient, "nurse_notes", notes.strip()) if notes.strip() else None,
            adverse_event=adverse_event, safety_answers=answers or None, completed_at=now,
            completed_by_id=actor.user_id)
        if not done:
            raise Conflict(_("Take the call first: it is open, someone else's, or finished."), field="status")
        if outcome == NurseTask.Outcome.CALL_BACK:
            key = f"{FOLLOW_UP}{follow_up}:call-back:{task.pk}" if follow_up is not None else f"call-back:{task.pk}"
            NurseTask.objects.create(program_id=task.program_id, patient=patient, source_key=key,
                                     reason=task.reason, script_code=task.script_code, due_at=call_back_at,
                                     created_at=now)
        answered = follow_up is not None and outcome == NurseTask.Outcome.REACHED and answer_follow_up(
            actor=actor, follow_up_id=follow_up, patient=patient, words=notes.strip(), answers=reported, at=now)
        if adverse_event and not answered:  # the deadline runs from now: when the program first knew
            record_intake(actor=actor, patient=patient, source="nurse call",
                          reason="adverse event reported on a call", detail={"task": task.pk, "answers": reported},
                          idempotency_key=f"nurse-call:{task.pk}", day_zero=now)
        _audit(actor, task, "nurse_task.completed", outcome=outcome, adverse_event=adverse_event, safety=reported,
               notes=bool(notes.strip()))
        if patient.status == patient.Status.ACTIVE:
            data: dict[str, object] = {"outcome": outcome, "task": str(task.pk)}
            if duration_s is not None:
                data["duration_s"] = duration_s
            record_events(Actor.system("channel:phone"), [{
                "client_id": f"call-{task.pk}", "type": "call.completed", "patient": patient.pseudonym,
                "occurred_at": now.isoformat(), "data": data}], source="console")
    return NurseTask.objects.get(pk=task.pk)
