"""Save answers as the patient goes (resumable), complete and score a response. Only an approved
questionnaire is answered, only by a patient whose consent lets them take part."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.consent.errors import NotConsented
from sojourn.consent.queries import granted_purposes
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, InvalidInput
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.questionnaires.answers import check_response
from sojourn.questionnaires.hooks import response_completed
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.scoring import raised_flags, score
from sojourn.questionnaires.services.definitions import definition


def _authorize(actor: Actor, patient: Patient) -> None:
    if actor.kind == "patient" and actor.label == patient.pseudonym:
        return
    actor.require(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country)


def save_response(*, actor: Actor, patient: Patient, questionnaire: Questionnaire, items: list[dict[str, Any]],
                  source: str, complete: bool, locale: str = "") -> QuestionnaireResponse:
    """Store the answers so far (or all of them) as the patient's one response in progress.

    Completing checks every required question that the answers enable, then scores."""
    _authorize(actor, patient)
    if questionnaire.program_id != patient.program_id:
        raise InvalidInput(_("This questionnaire belongs to another program."), field="questionnaire")
    if questionnaire.status != Questionnaire.Status.APPROVED:
        raise Conflict(_("This questionnaire version is not in use (%(status)s).")
                       % {"status": questionnaire.get_status_display()}, field="questionnaire")
    if source not in QuestionnaireResponse.Source.values:
        raise InvalidInput(_("Say where the answers come from."), field="source")
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed" if complete else "in-progress",
                "item": items}
    answers = check_response(definition(questionnaire), resource, complete=complete)
    now = timezone.now()
    with transaction.atomic():
        # Only the status, locked: the whole row (sealed identity included) is not needed here.
        status = list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("status", flat=True))
        if status != [Patient.Status.ACTIVE] or "program_participation" not in granted_purposes(patient):
            raise NotConsented(_("Answers are taken only while the patient takes part in the program."))
        response = (QuestionnaireResponse.objects.select_for_update()
                    .filter(patient=patient, questionnaire=questionnaire, status="in-progress").first())
        if response is None:
            response = QuestionnaireResponse(patient=patient, questionnaire=questionnaire, started_at=now,
                                             source=source, locale=locale or patient.locale)
        response.items = items
        response.source = source
        response.entered_by_id = actor.user_id if actor.kind == "staff" else None
        if complete:
            response.status = QuestionnaireResponse.Status.COMPLETED
            response.completed_at = now
            parsed = definition(questionnaire)
            scales = score(parsed, answers, questionnaire.scoring)
            response.scores = [s.as_dict() for s in scales]
            response.flags = raised_flags(parsed, answers, scales, questionnaire.scoring)
        response.save()
        effects = response_completed.run(response) if complete else []
        if complete:
            # Health answers are pseudonymous; the audit names the act and the scales, not the answers.
            record_audit(actor=actor, action="questionnaire.completed", subject_type="patient",
                         subject_id=patient.pseudonym, program_id=patient.program_id, market=patient.market.country,
                         after={"questionnaire": questionnaire.name, "version": questionnaire.version,
                                "response": response.pk, "source": source, "effects": effects})
        return response
