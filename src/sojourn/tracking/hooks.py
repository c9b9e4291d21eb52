"""`events recorded`: apps above tracking (the dialogue rules) meet each batch of new events. They
decide before the events are stored, writing nothing, and hand back what they would write
(core.writes.Writes); the ingestion runs it in the transaction that stores the events, so a decision
is never lost between the event and the agenda (tracking/services/ingestion.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sojourn.core.hooks import Hook
from sojourn.core.writes import Writes


@dataclass
class PatientState:
    """What the rules may know about a patient, read once per batch (no identity: no names, no contact)."""

    patient_id: int
    pseudonym: str
    program_id: int
    market_id: int
    country: str
    locale: str
    time_zone: str
    status: str
    enrolled_at: datetime
    needs: dict[str, float] = field(default_factory=dict)
    engagement: str = "new"
    stage: str = ""
    stage_since: datetime | None = None
    interactions_30d: int = 0
    last_meaningful_at: datetime | None = None
    profiled: bool = False  # a profile row exists
    revision: int | None = None  # the profile's revision as read (None: no profile row)

    def clone(self) -> PatientState:
        """A copy with its own needs (copy.copy and dataclasses.replace cost several times more, and the
        event path copies a state per event)."""
        twin = object.__new__(PatientState)
        twin.__dict__.update(self.__dict__)
        twin.needs = dict(self.needs)
        return twin


@dataclass(slots=True)
class RecordedEvent:
    """An event of a batch (the row without the ORM's cost, on the hot path). Its id is None while the
    batch is being decided and set once the event is stored; until then writes name it by its place in
    the batch (`slot`, core.writes.EventId)."""

    pk: int | None
    patient_id: int
    type: str
    occurred_at: datetime
    data: dict[str, Any]
    slot: int = -1


@dataclass
class RecordedBatch:
    events: list[RecordedEvent]
    patients: dict[int, PatientState]
    now: datetime
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


# A batch of events was decided on: each effect hands back what it would write (or None).
events_recorded: Hook[[RecordedBatch], Writes | None] = Hook("events recorded")


def plan_recorded_effects(batch: RecordedBatch) -> list[Writes]:
    """Every effect's decisions about the batch, as writes the caller runs once the events are stored."""
    return [writes for writes in events_recorded.results(batch).values() if writes is not None]
