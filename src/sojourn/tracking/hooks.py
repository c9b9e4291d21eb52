"""`events recorded`: apps above tracking (the dialogue rules) meet each batch of new events in the
transaction that stored them, so a decision is never lost between the event and the agenda."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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

    def clone(self) -> PatientState:
        """A copy with its own needs (copy.copy and dataclasses.replace cost several times more, and the
        event path copies a state per event)."""
        twin = object.__new__(PatientState)
        twin.__dict__.update(self.__dict__)
        twin.needs = dict(self.needs)
        return twin


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored (the row without the ORM's cost, on the hot path)."""

    pk: int
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


BatchEffect = Callable[[RecordedBatch], None]
_effects: dict[str, BatchEffect] = {}


def on_events_recorded(effect: BatchEffect) -> BatchEffect:
    _effects[f"{effect.__module__}.{effect.__qualname__}"] = effect
    return effect


def run_recorded_effects(batch: RecordedBatch) -> None:
    for effect in _effects.values():
        effect(batch)
