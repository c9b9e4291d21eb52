"""The dialogue listens: new events meet the live rules; a withdrawal cancels what was planned."""

from __future__ import annotations

from sojourn.consent.hooks import ConsentWithdrawn, consent_withdrawn
from sojourn.dialogue.engine import Batch
from sojourn.dialogue.services.agenda import cancel_agenda, decide_on_events
from sojourn.tracking.hooks import RecordedBatch, events_recorded


@events_recorded.connect
def meet_the_rules(batch: RecordedBatch) -> Batch | None:
    return decide_on_events(batch)


@consent_withdrawn.connect
def cancel_planned_steps(event: ConsentWithdrawn) -> None:
    if event.everything or "program_participation" in event.purposes:
        cancel_agenda(patient_id=event.patient.pk, reason="consent withdrawn", now=event.at)
