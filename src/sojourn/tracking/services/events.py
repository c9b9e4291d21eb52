"""Recording touchpoint events: checked one by one, stored in bulk, each updating the profile and
meeting the dialogue rules in the same transaction.

A batch is all or nothing for the events it accepts: a good event is stored together with the
profile change and the decisions it caused, or not at all. A bad event is reported with its index,
field and reason and does not stop the others. Events are traffic, not administration: they are not
written to the audit chain (whose single head row would serialize ingestion).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.db import (
    as_datetime,
    as_json,
    insert_new_rows,
    insert_rows,
    is_transient,
    read_locked,
    rows_for_ids,
    rows_for_pairs,
    update_rows,
)
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.tracking.event_types import BUILTIN, EventTypeSpec, clean_data, spec_from_dict
from sojourn.tracking.hooks import PatientState, RecordedBatch, RecordedEvent, run_recorded_effects
from sojourn.tracking.models import Event, EventType, NeedSignal, PatientNeed, PatientProfile
from sojourn.tracking.queries import Catalogue, catalogue, patients_by_pseudonym, with_profiles
from sojourn.tracking.scoring import DEFAULT_WEIGHTS, IMPLICIT_BOUND, SIGNAL_HALF_LIFE_DAYS, engagement_level

MAX_BATCH = 1000
FUTURE_SKEW = timedelta(minutes=5)
CLIENT_ID_MAX = 80
# Which events say something about a need, as which kind of signal (content tagged with needs, calls).
SIGNAL_KINDS = {"content.viewed": "content_viewed", "content.completed": "content_viewed",
                "content.rated": "content_rated", "email.clicked": "content_clicked", "call.completed": "call_note"}


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
class _Candidate:
    index: int
    client_id: str
    type: str
    pseudonym: str
    occurred_at: datetime
    data: Any
    patient: PatientState | None = None
    clean: dict[str, Any] = field(default_factory=dict)


def late_window() -> timedelta:
    return timedelta(days=getattr(settings, "SOJOURN_EVENT_LATE_DAYS", 30))


def event_types_for(program_ids: set[int]) -> dict[int, dict[str, EventTypeSpec]]:
    """Built-in types plus each program's own."""
    out: dict[int, dict[str, EventTypeSpec]] = {pid: dict(BUILTIN) for pid in program_ids}
    for program_id, code, fields, meaningful, description in rows_for_ids(
            f"SELECT program_id, code, fields, meaningful, description FROM {EventType._meta.db_table} "  # noqa: S608
            "WHERE program_id {ids} ORDER BY program_id, code", program_ids):
        spec, _problems = spec_from_dict(code, as_json(fields), meaningful=bool(meaningful), description=description)
        if spec is not None:
            out[program_id][code] = spec
    return out


def define_event_type(*, actor: Actor, program: Program, code: str, fields: Mapping[str, Any],
                      meaningful: bool = False, description: str = "") -> EventType:
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    spec, problems = spec_from_dict(code, fields, meaningful=meaningful, description=description)
    if spec is None:
        raise InvalidInput(problems[0][1], field=problems[0][0],
                           details=[ErrorDetail(message=m, field=f) for f, m in problems])
    if EventType.objects.filter(program=program, code=code).exists():
        raise InvalidInput(_("%(code)s is already an event type of this program.") % {"code": code}, field="code")
    with transaction.atomic():
        row = EventType.objects.create(program=program, code=code, description=description[:300],
                                       fields={n: f.as_dict() for n, f in spec.fields.items()},
                                       meaningful=meaningful, created_at=timezone.now())
        record_audit(actor=actor, action="event_type.defined", subject_type="event_type", subject_id=code,
                     program_id=program.pk, after={"fields": row.fields, "meaningful": meaningful})
    return row


def _parse(index: int, raw: Any, now: datetime, window: timedelta) -> tuple[_Candidate | None, Rejection | None]:
    if not isinstance(raw, Mapping):
        return None, Rejection(index, "", _("Each event must be an object."))
    unknown = set(raw) - {"client_id", "type", "patient", "occurred_at", "data"}
    if unknown:
        return None, Rejection(index, sorted(unknown)[0], _("This field is not part of an event."))
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > CLIENT_ID_MAX:
        return None, Rejection(index, "client_id", _("Give each event your own id: text of 1 to %(n)d characters.")
                               % {"n": CLIENT_ID_MAX})
    event_type = raw.get("type")
    if not isinstance(event_type, str) or not event_type:
        return None, Rejection(index, "type", _("Say which type of event this is."))
    pseudonym = raw.get("patient")
    if not isinstance(pseudonym, str) or not pseudonym or len(pseudonym) > 16:
        return None, Rejection(index, "patient", _("Name the patient by pseudonym."))
    occurred = raw.get("occurred_at")
    if isinstance(occurred, datetime):
        occurred_at = occurred
    elif isinstance(occurred, str):
        try:
            occurred_at = datetime.fromisoformat(occurred)
        except ValueError:
            return None, Rejection(index, "occurred_at", _("Give the time as ISO 8601, such as 2026-01-31T09:00:00Z."))
    else:
        return None, Rejection(index, "occurred_at", _("Give the time as ISO 8601, such as 2026-01-31T09:00:00Z."))
    if occurred_at.tzinfo is None:
        return None, Rejection(index, "occurred_at", _("The time needs a zone offset (Z or +01:00)."))
    if occurred_at > now + FUTURE_SKEW:
        return None, Rejection(index, "occurred_at", _("The event is in the future."))
    if occurred_at < now - window:
        return None, Rejection(index, "occurred_at", _("The event is older than %(days)d days: too late to record.")
                               % {"days": window.days})
    return _Candidate(index, client_id, event_type, pseudonym, occurred_at, raw.get("data")), None


def _allowed(actor: Actor, patient: PatientState) -> bool:
    if actor.kind == "system":
        return True
    if actor.kind == "patient":  # a patient's own portal sends events about themselves only
        return actor.label == patient.pseudonym
    return actor.can(Permission.EVENTS_WRITE, patient.program_id, patient.country)


def record_events(actor: Actor, items: Sequence[Any], *, source: str, now: datetime | None = None,
                  allow_internal: bool = False) -> IngestResult:
    """Check, store and act on up to 1,000 events. See the module's docstring for the guarantees."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise InvalidInput(_("Send a list of events."), field="events")
    if len(items) > MAX_BATCH:
        raise InvalidInput(_("Send at most %(n)d events at a time.") % {"n": MAX_BATCH}, field="events")
    now = now or timezone.now()
    result = IngestResult()
    candidates: list[_Candidate] = []
    window = late_window()  # a setting: read once a batch, not twice an event
    for index, raw in enumerate(items):
        candidate, rejection = _parse(index, raw, now, window)
        if rejection is not None:
            result.rejected.append(rejection)
        elif candidate is not None:
            candidates.append(candidate)
    if not candidates:
        return result
    patients = patients_by_pseudonym({c.pseudonym for c in candidates})
    types = event_types_for({p.program_id for p in patients.values()})
    checked: list[_Candidate] = []
    for c in candidates:
        patient = patients.get(c.pseudonym)
        if patient is None or not _allowed(actor, patient):
            result.rejected.append(Rejection(c.index, "patient", _("No such patient.")))
            continue
        spec = types[patient.program_id].get(c.type)
        if spec is None:
            result.rejected.append(Rejection(c.index, "type", _("%(type)s is not an event type of this program.")
                                             % {"type": c.type}))
            continue
        if spec.internal and not allow_internal:
            result.rejected.append(Rejection(c.index, "type", _("%(type)s events are recorded by Sojourn itself.")
                                             % {"type": c.type}))
            continue
        reason = _not_recorded(patient.status, spec, allow_internal)
        if reason:
            result.rejected.append(Rejection(c.index, "patient", reason))
            continue
        clean, problems = clean_data(spec, c.data)
        if problems:
            result.rejected.append(Rejection(c.index, problems[0][0], problems[0][1]))
            continue
        c.patient, c.clean = patient, clean
        checked.append(c)
    if checked:
        indexes = {c.index for c in checked}
        for attempt in range(3):
            try:
                with transaction.atomic():
                    _store(checked, types, result, now, source, allow_internal)
                break
            except (IntegrityError, OperationalError) as error:
                # Another sender wrote the same profile rows in the meantime, or PostgreSQL failed this
                # batch to break a deadlock: start again from what is stored. Not inside a caller's
                # transaction, which the failure has spoilt: that caller decides. A database still too
                # busy after three tries is answered busy (core.middleware.DatabaseBusyMiddleware).
                refused = isinstance(error, OperationalError)
                if refused and (connection.in_atomic_block or not is_transient(error) or attempt == 2):
                    raise
                result.accepted.clear()
                result.duplicates = [d for d in result.duplicates if d not in indexes]
                result.rejected = [r for r in result.rejected if r.index not in indexes]
                continue
        else:
            raise InvalidInput(_("These events are being sent by someone else at the same moment; send again."),
                               field="events")
    result.rejected.sort(key=lambda r: r.index)
    result.duplicates.sort()
    return result


def _not_recorded(status: str, spec: EventTypeSpec, allow_internal: bool) -> str:
    """Why an event of this type is not recorded for a patient in this status ("" when it is)."""
    if status == Patient.Status.ACTIVE or (allow_internal and spec.internal):
        return ""
    if status in {Patient.Status.WITHDRAWN, Patient.Status.ERASED}:
        return _("The patient has withdrawn: nothing more is recorded.")
    return _("The patient has not finished enrolling.")


def _store(checked: list[_Candidate], types: dict[int, dict[str, EventTypeSpec]], result: IngestResult,
           now: datetime, source: str, allow_internal: bool) -> None:
    # The batch's patients, held until the commit and read again: another sender's batch about them
    # waits (on PostgreSQL; SQLite has one writer), and a withdrawal committed since the checks above
    # stops what follows it.
    status = dict(read_locked(Patient, {c.patient.patient_id for c in checked}, ["id", "status"]))  # type: ignore[union-attr]
    still = []
    for c in checked:
        now_status = status.get(c.patient.patient_id)  # type: ignore[union-attr]
        if now_status is None:  # the row is gone since the checks
            result.rejected.append(Rejection(c.index, "patient", _("No such patient.")))
            continue
        reason = _not_recorded(now_status, types[c.patient.program_id][c.type], allow_internal)  # type: ignore[union-attr]
        if reason:
            result.rejected.append(Rejection(c.index, "patient", reason))
        else:
            still.append(c)
    checked = still
    program_ids = {c.patient.program_id for c in checked if c.patient}
    seen: set[tuple[int, str]] = set()
    unique: list[_Candidate] = []
    for c in checked:
        key = (c.patient.program_id, c.client_id)  # type: ignore[union-attr]
        if key in seen:  # the same id twice in one batch
            result.duplicates.append(c.index)
        else:
            seen.add(key)
            unique.append(c)
    unique.sort(key=lambda c: c.occurred_at)
    # Stored before (a replay) or by another sender meanwhile: not written, reported as duplicates.
    ids = {(program_id, client_id): pk for pk, program_id, client_id in insert_new_rows(
        Event, ["program", "patient", "type", "client_id", "occurred_at", "received_at", "source", "data"],
        [(c.patient.program_id, c.patient.patient_id, c.type, c.client_id, c.occurred_at, now, source,  # type: ignore[union-attr]
          c.clean) for c in unique], returning=["id", "program", "client_id"])}
    fresh = [c for c in unique if (c.patient.program_id, c.client_id) in ids]  # type: ignore[union-attr]
    result.duplicates.extend(c.index for c in unique if (c.patient.program_id, c.client_id) not in ids)  # type: ignore[union-attr]
    if not fresh:
        return
    events = [RecordedEvent(ids[(c.patient.program_id, c.client_id)], c.patient.patient_id, c.type,  # type: ignore[union-attr]
                            c.occurred_at, c.clean) for c in fresh]
    # Copies: a retry after a conflict starts again from the stored profile.
    known = catalogue(program_ids)
    bare = {c.patient.patient_id: c.patient for c in fresh}  # type: ignore[union-attr]
    states = with_profiles({pid: state.clone() for pid, state in bare.items()}, known)
    snapshots = _apply_to_profiles(fresh, events, types, states, now, known)
    result.accepted.extend((c.index, e.pk) for c, e in zip(fresh, events, strict=True))
    run_recorded_effects(RecordedBatch(events=events, patients=states, now=now, source=source,
                                       extra={"states": snapshots}))


def _decay(age: timedelta) -> float:
    return math.pow(0.5, max(age.total_seconds(), 0) / 86400 / SIGNAL_HALF_LIFE_DAYS)


def _apply_to_profiles(fresh: list[_Candidate], events: list[RecordedEvent], types: dict[int, dict[str, EventTypeSpec]],
                       states: dict[int, PatientState], now: datetime, known: Catalogue) -> list[PatientState]:
    """Engagement and implicit need scores, updated incrementally (exponential decay is memoryless, so
    the stored score decayed to now plus the new signal equals a full recount, up to the ±0.5 bound)."""
    month = now - timedelta(days=30)
    touched: set[int] = set()
    signals: list[_Signal] = []
    need_ids = known.need_ids
    snapshots: list[PatientState] = []
    # A patient with one event in the batch is seen by the rules as the batch leaves them: no copy.
    counts = Counter(event.patient_id for event in events)
    for c, event in zip(fresh, events, strict=True):
        state = states[event.patient_id]
        spec = types[state.program_id][event.type]
        if spec.meaningful:
            touched.add(state.patient_id)
            if state.last_meaningful_at is None or event.occurred_at > state.last_meaningful_at:
                state.last_meaningful_at = event.occurred_at
            if event.occurred_at >= month:
                state.interactions_30d += 1
            state.engagement = engagement_level(now, state.last_meaningful_at, state.interactions_30d)
        kind = SIGNAL_KINDS.get(event.type)
        if kind and c.clean.get("needs") and not (event.type == "call.completed" and c.clean["outcome"] != "reached"):
            weight = DEFAULT_WEIGHTS[kind]
            if event.type == "content.rated" and not c.clean["helpful"]:
                weight = -weight
            for code in c.clean["needs"]:
                need_id = need_ids.get((state.program_id, code))
                if need_id is not None:
                    signals.append(_Signal(state.patient_id, need_id, kind, weight, event.occurred_at,
                                           {"event": event.pk, "content": c.clean.get("content", "")}))
        snapshots.append(state.clone() if counts[event.patient_id] > 1 else state)
    if signals:
        touched.update(s.patient_id for s in signals)
        insert_rows(NeedSignal, ["patient", "need", "kind", "weight", "occurred_at", "detail"],
                    [(s.patient_id, s.need_id, s.kind, s.weight, s.occurred_at, s.detail) for s in signals])
        _update_needs(signals, states, now, known.need_codes)
        for snapshot, event in zip(snapshots, events, strict=True):  # rules see the needs including this batch
            if snapshot is not states[event.patient_id]:
                snapshot.needs.update(states[event.patient_id].needs)
    if touched:
        _save_engagement([states[pid] for pid in touched], now)
    return snapshots


@dataclass(frozen=True)
class _Signal:
    patient_id: int
    need_id: int
    kind: str
    weight: float
    occurred_at: datetime
    detail: dict[str, Any]


@dataclass
class _Score:
    pk: int | None
    explicit: float | None
    implicit: float
    combined: float
    confidence: float
    updated_at: datetime


def _update_needs(signals: list[_Signal], states: dict[int, PatientState], now: datetime,
                  codes: dict[int, str]) -> None:
    """Only numbers change: the row's explanation is its answers', and the signals explain themselves
    when read (scoring.behaviour_explained), so the row keeps its size and its page."""
    keys = {(s.patient_id, s.need_id) for s in signals}
    rows = {(patient_id, need_id): _Score(pk, explicit, implicit, combined, confidence, as_datetime(updated_at))  # type: ignore[arg-type]
            for pk, patient_id, need_id, explicit, implicit, combined, confidence, updated_at
            in rows_for_pairs("SELECT id, patient_id, need_id, explicit, implicit, combined, confidence, "  # noqa: S608
                              f"updated_at FROM {PatientNeed._meta.db_table} "
                              "WHERE (patient_id, need_id) {pairs}", keys)}
    touched: set[tuple[int, int]] = set()
    for s in signals:
        key = (s.patient_id, s.need_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _Score(None, None, 0.0, 0.0, 0.0, now)
        touched.add(key)
        decay = _decay(now - row.updated_at) if row.updated_at < now else 1.0
        implicit = row.implicit * decay + s.weight * _decay(now - s.occurred_at)
        row.implicit = round(min(max(implicit, -IMPLICIT_BOUND), IMPLICIT_BOUND), 4)
        row.combined = round(min(max((row.explicit or 0.0) + row.implicit, 0.0), 1.0), 4)
        row.confidence = round(min(1.0, row.confidence + 0.1 * _decay(now - s.occurred_at)), 4)
        row.updated_at = now
        states[s.patient_id].needs[codes[s.need_id]] = row.combined
    fields = ["implicit", "combined", "confidence", "updated_at"]
    insert_rows(PatientNeed, ["patient", "need", "explicit", *fields, "explanation"],
                [(k[0], k[1], None, r.implicit, r.combined, r.confidence, now, [])
                 for k, r in rows.items() if k in touched and r.pk is None])
    update_rows(PatientNeed, fields, [(r.implicit, r.combined, r.confidence, now, r.pk)
                                      for k, r in rows.items() if k in touched and r.pk is not None])


def _save_engagement(states: list[PatientState], now: datetime) -> None:
    update_rows(PatientProfile, ["engagement", "last_meaningful_at", "interactions_30d", "needs", "updated_at"],
                [(s.engagement, s.last_meaningful_at, s.interactions_30d, s.needs, now, s.patient_id)
                 for s in states if s.profiled], key="patient")
    missing = [s for s in states if not s.profiled]
    if missing:
        PatientProfile.objects.bulk_create([
            PatientProfile(patient_id=s.patient_id, engagement=s.engagement, last_meaningful_at=s.last_meaningful_at,
                           interactions_30d=s.interactions_30d, needs=s.needs, updated_at=now) for s in missing])
        for s in missing:
            s.profiled = True
