"""Storing a batch of checked events, in two halves.

`prepare` reads what the batch needs (the patients' profiles and need scores, and through the
effects their consents, flags and what caps count), works out every change and decision in memory and
writes nothing. It runs outside the write transaction: on SQLite beside the one writer, on PostgreSQL
without holding a row. `apply`, inside the transaction, takes the patients (core.db.read_locked),
reads their status and their profile's revision again, stores the events and then writes what was
decided, except for the patients whose state moved since it was read: a revision raised by another
writer (`PatientProfile.revision`), a status changed (a withdrawal), an event someone else stored
meanwhile. Those are prepared again under the lock, from what is stored, and written at once. The
write lock is held for the writes only, and the outcome is the one the batch would have had if it had
been decided under the lock.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from sojourn.core.db import (
    as_datetime,
    insert_new_rows,
    insert_rows,
    read_locked,
    rows_for_ids,
    rows_for_pairs,
    update_rows,
)
from sojourn.people.models import Patient
from sojourn.tracking.event_types import EventTypeSpec
from sojourn.tracking.hooks import Decided, PatientState, RecordedBatch, RecordedEvent, decide_recorded_effects
from sojourn.tracking.models import Event, PatientNeed, PatientProfile
from sojourn.tracking.queries import Catalogue, catalogue, with_profiles
from sojourn.tracking.scoring import IMPLICIT_BOUND, SIGNAL_HALF_LIFE_DAYS, engagement_level, event_signals

EVENT_COLUMNS = ["program", "patient", "type", "client_id", "occurred_at", "received_at", "source", "data"]


@dataclass(frozen=True)
class Rejection:
    index: int
    field: str
    message: str


@dataclass
class IngestResult:
    accepted: list[tuple[int, int]] = field(default_factory=list)  # (index in the batch, event id)
    duplicates: list[int] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


@dataclass
class Candidate:
    """An event of the batch, checked (`patient`, `clean`) and, once it is known to be new, `event`."""

    index: int
    client_id: str
    type: str
    pseudonym: str
    occurred_at: datetime
    data: Any
    patient: PatientState = None  # type: ignore[assignment]  (set when the patient is found)
    clean: dict[str, Any] = field(default_factory=dict)
    event: RecordedEvent = None  # type: ignore[assignment]  (set by `new_in_batch`)


def not_recorded(status: str, spec: EventTypeSpec, allow_internal: bool) -> str:
    """Why an event of this type is not recorded for a patient in this status ("" when it is)."""
    if status == Patient.Status.ACTIVE or (allow_internal and spec.internal):
        return ""
    if status in {Patient.Status.WITHDRAWN, Patient.Status.ERASED}:
        return _("The patient has withdrawn: nothing more is recorded.")
    return _("The patient has not finished enrolling.")


@dataclass
class _Signal:
    """What an event of the batch says about a need (scoring.event_signals): it moves the score now;
    the event itself is the record."""

    patient_id: int
    need_id: int
    weight: float
    occurred_at: datetime


@dataclass
class _Score:
    pk: int | None
    explicit: float | None
    implicit: float
    combined: float
    confidence: float
    updated_at: datetime


@dataclass
class _Profiles:
    """The profile changes of a batch while it is worked out."""

    states: dict[int, PatientState]
    touched: set[int] = field(default_factory=set)  # profiles to write (and whose revision rises)
    signals: list[_Signal] = field(default_factory=list)
    scores: dict[tuple[int, int], _Score] = field(default_factory=dict)


@dataclass
class Plan:
    """Everything a batch writes besides its events, worked out before the write transaction: the
    profile changes, then what each effect (the rules) decided."""

    now: datetime
    source: str
    allow_internal: bool
    types: dict[int, dict[str, EventTypeSpec]]
    fresh: list[Candidate]  # in the order they occurred
    seen: dict[int, tuple[str, int | None]]  # each patient's status and profile revision as read
    profiles: _Profiles
    effects: list[Decided] = field(default_factory=list)

    def drop(self, patient_ids: set[int]) -> None:
        """Forget what was decided about these patients (their state moved since it was read)."""
        if not patient_ids:
            return
        self.fresh = [c for c in self.fresh if c.patient.patient_id not in patient_ids]
        self.profiles.touched -= patient_ids
        self.profiles.scores = {k: r for k, r in self.profiles.scores.items() if k[0] not in patient_ids}
        for effect in self.effects:
            effect.drop(patient_ids)

    def write(self) -> None:
        """Inside the transaction, once the events are stored (the rules' keys name them by id)."""
        _write_profiles(self.profiles, self.now)
        for effect in self.effects:
            effect.flush()


def new_in_batch(checked: list[Candidate], result: IngestResult) -> list[Candidate]:
    """The events not seen before, in the order they occurred: the same id twice in the batch, or one
    stored already (a replay), is reported as a duplicate. Someone storing the same id between this
    read and the write is caught when the events are stored (`apply`)."""
    seen: set[tuple[int, str]] = set()
    unique: list[Candidate] = []
    for c in checked:
        key = (c.patient.program_id, c.client_id)
        if key in seen:
            result.duplicates.append(c.index)
        else:
            seen.add(key)
            unique.append(c)
    stored: set[tuple[int, str]] = set()
    for program_id in {c.patient.program_id for c in unique}:
        stored.update((program_id, client_id) for (client_id,) in rows_for_ids(
            f"SELECT client_id FROM {Event._meta.db_table} WHERE program_id = %s AND client_id {{ids}}",
            [c.client_id for c in unique if c.patient.program_id == program_id], [program_id]))
    fresh = []
    for c in unique:
        if (c.patient.program_id, c.client_id) in stored:
            result.duplicates.append(c.index)
        else:
            fresh.append(c)
    fresh.sort(key=lambda c: c.occurred_at)
    for c in fresh:
        c.event = RecordedEvent(None, c.patient.patient_id, c.type, c.occurred_at, c.clean)
    return fresh


def prepare(fresh: list[Candidate], types: dict[int, dict[str, EventTypeSpec]], now: datetime, source: str,
            allow_internal: bool) -> Plan:
    """Read and decide, writing nothing (see the module's docstring)."""
    program_ids = {c.patient.program_id for c in fresh}
    known = catalogue(program_ids)
    # Copies: the bare states are shared by every batch that names these patients.
    states = with_profiles({c.patient.patient_id: c.patient.clone() for c in fresh}, known)
    plan = Plan(now=now, source=source, allow_internal=allow_internal, types=types, fresh=fresh,
                seen={pid: (state.status, state.revision) for pid, state in states.items()},
                profiles=_Profiles(states))
    snapshots = _apply_to_profiles(plan, plan.profiles, known)
    plan.effects = decide_recorded_effects(RecordedBatch(
        events=[c.event for c in fresh], patients=states, now=now, source=source,
        extra={"states": snapshots, "revised": plan.profiles.touched}))
    return plan


def apply(plan: Plan, result: IngestResult) -> None:
    """Store the plan's events and write what was decided, inside the caller's transaction; prepare
    again and write the patients whose state moved since the plan read it."""
    if not plan.fresh:
        return
    # The batch's patients, held until the commit and read again: another writer about them waits (on
    # PostgreSQL; SQLite has one writer), and what committed since the plan read them shows.
    ids = {c.patient.patient_id for c in plan.fresh}
    status = dict(read_locked(Patient, ids, ["id", "status"]))
    revisions = dict(rows_for_ids(f"SELECT patient_id, revision FROM {PatientProfile._meta.db_table} "
                                  "WHERE patient_id {ids}", ids))
    moved = {pid for pid in ids if (status.get(pid), revisions.get(pid)) != plan.seen[pid]}
    keep: list[Candidate] = []
    for c in plan.fresh:
        now_status = status.get(c.patient.patient_id)
        if now_status is None:  # the row is gone since the checks
            result.rejected.append(Rejection(c.index, "patient", _("No such patient.")))
            continue
        reason = not_recorded(now_status, plan.types[c.patient.program_id][c.type], plan.allow_internal)
        if reason:
            result.rejected.append(Rejection(c.index, "patient", reason))
        else:
            keep.append(c)
    stored = _store_events(keep, plan, result)
    moved |= {c.patient.patient_id for c in keep if c.event.pk is None}  # someone stored one meanwhile
    plan.drop(moved)
    plan.write()
    again = [c for c in stored if c.patient.patient_id in moved]
    if again:
        for c in again:
            c.patient.status = status[c.patient.patient_id]
        prepare(again, plan.types, plan.now, plan.source, plan.allow_internal).write()


def _store_events(keep: list[Candidate], plan: Plan, result: IngestResult) -> list[Candidate]:
    """Insert the events; an id stored meanwhile by another sender comes back missing (a duplicate)."""
    ids = {(program_id, client_id): pk for pk, program_id, client_id in insert_new_rows(
        Event, EVENT_COLUMNS,
        [(c.patient.program_id, c.patient.patient_id, c.type, c.client_id, c.occurred_at, plan.now, plan.source,
          c.clean) for c in keep], returning=["id", "program", "client_id"])}
    stored = []
    for c in keep:
        pk = ids.get((c.patient.program_id, c.client_id))
        if pk is None:
            result.duplicates.append(c.index)
        else:
            c.event.pk = pk
            result.accepted.append((c.index, pk))
            stored.append(c)
    return stored


def _write_profiles(profiles: _Profiles, now: datetime) -> None:
    """The batch's need scores and profiles (each profile's revision raised)."""
    fields = ["implicit", "combined", "confidence", "updated_at"]
    insert_rows(PatientNeed, ["patient", "need", "explicit", *fields, "explanation"],
                [(k[0], k[1], None, r.implicit, r.combined, r.confidence, r.updated_at, [])
                 for k, r in profiles.scores.items() if r.pk is None])
    update_rows(PatientNeed, fields, [(r.implicit, r.combined, r.confidence, r.updated_at, r.pk)
                                      for r in profiles.scores.values() if r.pk is not None])
    states = [profiles.states[pid] for pid in sorted(profiles.touched)]
    update_rows(PatientProfile, ["engagement", "last_meaningful_at", "interactions_30d", "needs", "updated_at"],
                [(s.engagement, s.last_meaningful_at, s.interactions_30d, s.needs, now, s.patient_id)
                 for s in states if s.profiled], key="patient", increment="revision")
    insert_rows(PatientProfile, ["patient", "engagement", "last_meaningful_at", "interactions_30d", "needs",
                                 "updated_at", "revision"],
                [(s.patient_id, s.engagement, s.last_meaningful_at, s.interactions_30d, s.needs, now, 1)
                 for s in states if not s.profiled])


def _decay(age: timedelta) -> float:
    return math.pow(0.5, max(age.total_seconds(), 0) / 86400 / SIGNAL_HALF_LIFE_DAYS)


def _apply_to_profiles(plan: Plan, profiles: _Profiles, known: Catalogue) -> list[PatientState]:
    """Engagement and implicit need scores, updated incrementally (exponential decay is memoryless, so
    the stored score decayed to now plus the new signal equals a full recount, up to the ±0.5 bound).
    Returns each event's patient state as the rules see it (the batch up to and including it)."""
    now, states = plan.now, profiles.states
    month = now - timedelta(days=30)
    need_ids = known.need_ids
    snapshots: list[PatientState] = []
    # A patient with one event in the batch is seen by the rules as the batch leaves them: no copy.
    counts = Counter(c.patient.patient_id for c in plan.fresh)
    for c in plan.fresh:
        event = c.event
        state = states[event.patient_id]
        spec = plan.types[state.program_id][event.type]
        if spec.meaningful:
            profiles.touched.add(state.patient_id)
            if state.last_meaningful_at is None or event.occurred_at > state.last_meaningful_at:
                state.last_meaningful_at = event.occurred_at
            if event.occurred_at >= month:
                state.interactions_30d += 1
            state.engagement = engagement_level(now, state.last_meaningful_at, state.interactions_30d)
        for code, _kind, weight in event_signals(event.type, c.clean):
            need_id = need_ids.get((state.program_id, code))
            if need_id is not None:
                profiles.signals.append(_Signal(state.patient_id, need_id, weight, event.occurred_at))
        snapshots.append(state.clone() if counts[event.patient_id] > 1 else state)
    if profiles.signals:
        profiles.touched.update(s.patient_id for s in profiles.signals)
        _update_needs(profiles, now, known.need_codes)
        for snapshot, c in zip(snapshots, plan.fresh, strict=True):  # rules see the needs including this batch
            if snapshot is not states[c.patient.patient_id]:
                snapshot.needs.update(states[c.patient.patient_id].needs)
    return snapshots


def _update_needs(profiles: _Profiles, now: datetime, codes: dict[int, str]) -> None:
    """Only numbers change: the row's explanation is its answers', and the signals explain themselves
    when read (scoring.behaviour_explained), so the row keeps its size and its page."""
    keys = {(s.patient_id, s.need_id) for s in profiles.signals}
    rows = {(patient_id, need_id): _Score(pk, explicit, implicit, combined, confidence, as_datetime(updated_at))  # type: ignore[arg-type]
            for pk, patient_id, need_id, explicit, implicit, combined, confidence, updated_at
            in rows_for_pairs("SELECT id, patient_id, need_id, explicit, implicit, combined, confidence, "
                              f"updated_at FROM {PatientNeed._meta.db_table} "
                              "WHERE (patient_id, need_id) {pairs}", keys)}
    for s in profiles.signals:
        key = (s.patient_id, s.need_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _Score(None, None, 0.0, 0.0, 0.0, now)
        # Both decayed to the later of the two times: a batch whose clock is behind the score's (another
        # sender's, a simulation's) adds what it would have added in order, and the score's time never
        # goes back (it did until 2026-12-04, and decayed twice what came after).
        until = max(row.updated_at, now)
        fresh = _decay(until - s.occurred_at)
        implicit = row.implicit * _decay(until - row.updated_at) + s.weight * fresh
        row.implicit = round(min(max(implicit, -IMPLICIT_BOUND), IMPLICIT_BOUND), 4)
        row.combined = round(min(max((row.explicit or 0.0) + row.implicit, 0.0), 1.0), 4)
        row.confidence = round(min(1.0, row.confidence + 0.1 * fresh), 4)
        row.updated_at = until
        profiles.states[s.patient_id].needs[codes[s.need_id]] = row.combined
        profiles.scores[key] = row
