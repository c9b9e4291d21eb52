"""A patient's touchpoint events and profile, for their data-subject access export."""

from __future__ import annotations

from typing import Any

from sojourn.consent.hooks import contributes_to_patient_export
from sojourn.people.models import Patient
from sojourn.tracking.models import Event, PatientNeed


@contributes_to_patient_export("events")
def events(patient: Patient) -> list[dict[str, Any]]:
    return [{"type": e.type, "occurred_at": e.occurred_at.isoformat(), "source": e.source, "data": e.data}
            for e in Event.objects.filter(patient=patient).order_by("occurred_at", "pk")]


@contributes_to_patient_export("needs")
def needs(patient: Patient) -> list[dict[str, Any]]:
    return [{"need": n.need.code, "score": n.combined, "confidence": n.confidence, "explanation": n.explanation}
            for n in PatientNeed.objects.filter(patient=patient).select_related("need").order_by("need__position")]
