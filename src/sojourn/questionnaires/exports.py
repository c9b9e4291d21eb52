"""A patient's questionnaire responses, for their data-subject access export (JSON and FHIR)."""

from __future__ import annotations

from typing import Any

from sojourn.consent.hooks import patient_export
from sojourn.people.models import Patient
from sojourn.questionnaires.models import QuestionnaireResponse


@patient_export.connect
def questionnaire_responses(patient: Patient) -> list[dict[str, Any]]:
    return [{"id": r.pk, "questionnaire": f"{r.questionnaire.url}|{r.questionnaire.version}",
             "title": r.questionnaire.title, "status": r.status, "source": r.source,
             "started_at": r.started_at.isoformat(),
             "completed_at": r.completed_at.isoformat() if r.completed_at else None,
             "item": r.items, "scores": r.scores}
            for r in QuestionnaireResponse.objects.filter(patient=patient).select_related("questionnaire")
            .order_by("started_at")]
