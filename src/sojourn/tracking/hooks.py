"""`events recorded`: apps above tracking (the dialogue rules) meet each batch of new events. They
decide before the events are stored, writing nothing, and hand back what they decided (`Decided`); the
ingestion writes it in the transaction that stores the events, once they have their ids, so a decision
is never lost between the event and the agenda (tracking/services/ingestion.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sojourn.core.hooks import Hook


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
    batch is being decided and set once the event is stored, before what was decided is written."""

    pk: int | None
    patient_id: int
    type: str
    occurred_at: datetime
    data: dict[str, Any]


@dataclass
class RecordedBatch:
    events: list[RecordedEvent]
    patients: dict[int, PatientState]
    now: datetime
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


class Decided(Protocol):
    """What an effect decided about a batch, written once the batch's events are stored."""

    def drop(self, patient_ids: set[int]) -> None:
        """Forget these patients: their state moved since it was read, and they are decided again."""

    def flush(self) -> None:
        """Write what is left, in the caller's transaction."""


# A batch of events met each effect: each hands back what it decided (or None), written later.
events_recorded: Hook[[RecordedBatch], Decided | None] = Hook("events recorded")


def decide_recorded_effects(batch: RecordedBatch) -> list[Decided]:
    """Every effect's decisions about the batch, for the caller to write once the events are stored."""
    return [decided for decided in events_recorded.results(batch).values() if decided is not None]
