"""What tracking does when other parts of the platform report something: it records the event, so
the profile and the dialogue rules see enrollment, answers and consent changes like any touchpoint."""

from __future__ import annotations

import logging
from typing import Any

from sojourn.consent.hooks import ConsentWithdrawn, consent_withdrawn, patient_activated
from sojourn.core.actors import Actor
from sojourn.people.models import Patient
from sojourn.questionnaires.hooks import response_completed
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.profiles import refresh_profile

PLATFORM = Actor.system("tracking")
log = logging.getLogger(__name__)


def record_platform_event(event: dict[str, Any]) -> None:
    """Record what the platform itself observed; a refusal (too late, say) is logged, never raised into
    the enrollment or answer that caused it."""
    result = record_events(PLATFORM, [event], source="platform", allow_internal=True)
    for rejection in result.rejected:
        log.warning("platform event %s not recorded: %s %s", event["type"], rejection.field, rejection.message)


@response_completed.connect
def refresh_needs_after_answers(response: QuestionnaireResponse) -> None:
    refresh_profile(response.patient, response.completed_at)
    scores = {s["scale"]: float(s["value"]) for s in response.scores if s.get("value") is not None}
    record_platform_event({"client_id": f"sojourn:response:{response.pk}", "type": "questionnaire.completed",
                           "patient": response.patient.pseudonym, "occurred_at": response.completed_at,
                           "data": {"questionnaire": response.questionnaire.name, "scores": scores,
                                    "flags": list(response.flags)}})


@patient_activated.connect
def record_enrollment(patient: Patient) -> None:
    record_platform_event({"client_id": f"sojourn:enrolled:{patient.pk}", "type": "enrollment.completed",
                           "patient": patient.pseudonym, "occurred_at": patient.verified_at, "data": {}})


@consent_withdrawn.connect
def record_withdrawal(event: ConsentWithdrawn) -> None:
    record_platform_event({"client_id": f"sojourn:withdrawn:{event.patient.pk}:{event.at.timestamp()}",
                           "type": "consent.withdrawn", "patient": event.patient.pseudonym,
                           "occurred_at": event.at,
                           "data": {"purposes": sorted(event.purposes), "everything": event.everything}})
