"""A patient's touchpoint events and profile, for their data-subject access export."""

from __future__ import annotations

from typing import Any

from sojourn.consent.hooks import patient_export
from sojourn.people.models import Patient
from sojourn.tracking.models import Event
from sojourn.tracking.queries import needs_of


@patient_export.connect
def events(patient: Patient) -> list[dict[str, Any]]:
    return [{"type": e.type, "occurred_at": e.occurred_at.isoformat(), "source": e.source, "data": e.data}
            for e in Event.objects.filter(patient=patient).order_by("occurred_at", "pk")]


@patient_export.connect
def needs(patient: Patient) -> list[dict[str, Any]]:
    """Highest score first, each with what explains it (the same words the staff profile page shows)."""
    return [{"need": n.code, "score": n.combined, "confidence": n.confidence, "explanation": n.explanation}
            for n in needs_of(patient)]
