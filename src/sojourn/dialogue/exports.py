"""What the dialogue decided about a patient and what was sent, for their data-subject access export."""

from __future__ import annotations

from typing import Any

from sojourn.channels.models import OutboxMessage
from sojourn.consent.hooks import patient_export
from sojourn.dialogue.queries import decisions_of
from sojourn.people.models import Patient


@patient_export.connect
def decisions(patient: Patient) -> list[dict[str, Any]]:
    return [{"rule": d.rule_key, "decided_at": d.decided_at.isoformat(), "because": d.why, "outcomes": d.outcomes}
            for d in decisions_of(patient)]


@patient_export.connect
def messages(patient: Patient) -> list[dict[str, Any]]:
    return [{"channel": m.channel, "kind": m.kind, "about": m.summary, "status": m.status,
             "due_at": m.due_at.isoformat(), "delivery": m.delivery_status}
            for m in OutboxMessage.objects.filter(patient=patient).order_by("due_at", "pk")]
