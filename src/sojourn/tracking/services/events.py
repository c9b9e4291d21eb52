"""Recording touchpoint events: checked one by one, stored in bulk, each updating the profile and
meeting the dialogue rules in the same transaction.

A batch is all or nothing for the events it accepts: a good event is stored together with the
profile change and the decisions it caused, or not at all. A bad event is reported with its index,
field and reason and does not stop the others. The reads and decisions happen before the write
transaction and are checked again inside it (services/ingestion.py), so the database's write lock is
held for the writes only. Events are traffic, not administration: they are not written to the audit
chain (whose single head row would serialize ingestion).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.db import as_json, is_transient, rows_for_ids
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.tracking.event_types import BUILTIN, EventTypeSpec, clean_data, spec_from_dict
from sojourn.tracking.hooks import PatientState
from sojourn.tracking.models import EventType
from sojourn.tracking.queries import patients_by_pseudonym
from sojourn.tracking.services.ingestion import (
    Candidate,
    IngestResult,
    Rejection,
    apply,
    new_in_batch,
    not_recorded,
    prepare,
)

MAX_BATCH = 1000
FUTURE_SKEW = timedelta(minutes=5)
CLIENT_ID_MAX = 80
__all__ = ["MAX_BATCH", "IngestResult", "Rejection", "define_event_type", "event_types_for", "late_window",
           "record_events"]


def late_window() -> timedelta:
    return timedelta(days=getattr(settings, "SOJOURN_EVENT_LATE_DAYS", 30))


def event_types_for(program_ids: set[int]) -> dict[int, dict[str, EventTypeSpec]]:
    """Built-in types plus each program's own."""
    out: dict[int, dict[str, EventTypeSpec]] = {pid: dict(BUILTIN) for pid in program_ids}
    for program_id, code, fields, meaningful, description in rows_for_ids(
            f"SELECT program_id, code, fields, meaningful, description FROM {EventType._meta.db_table} "
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


def declare_event_type(*, actor: Actor, program: Program, code: str, fields: Mapping[str, Any],
                       meaningful: bool = False, description: str = "") -> EventType:
    """Define the event type or change it to this declaration (a program definition's apply, inside its
    transaction). Events recorded before keep the data they were checked with; new ones meet the new
    fields."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    spec, problems = spec_from_dict(code, fields, meaningful=meaningful, description=description)
    if spec is None:
        raise InvalidInput(problems[0][1], field=problems[0][0],
                           details=[ErrorDetail(message=m, field=f) for f, m in problems])
    declared = {"fields": {n: f.as_dict() for n, f in spec.fields.items()}, "meaningful": meaningful,
                "description": description[:300]}
    row = EventType.objects.filter(program=program, code=code).first()
    if row is None:
        row = EventType.objects.create(program=program, code=code, created_at=timezone.now(), **declared)
        record_audit(actor=actor, action="event_type.defined", subject_type="event_type", subject_id=code,
                     program_id=program.pk, after=declared)
        return row
    before = {"fields": row.fields, "meaningful": row.meaningful, "description": row.description}
    if before != declared:
        for name, value in declared.items():
            setattr(row, name, value)
        row.save(update_fields=list(declared))
        record_audit(actor=actor, action="event_type.changed", subject_type="event_type", subject_id=code,
                     program_id=program.pk, before=before, after=declared)
    return row


def _parse(index: int, raw: Any, now: datetime, window: timedelta) -> tuple[Candidate | None, Rejection | None]:
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
    return Candidate(index, client_id, event_type, pseudonym, occurred_at, raw.get("data")), None


def _allowed(actor: Actor, patient: PatientState) -> bool:
    if actor.kind == "system":
        return True
    if actor.kind == "patient":  # a patient's own portal sends events about themselves only
        return actor.label == patient.pseudonym
    return actor.can(Permission.EVENTS_WRITE, patient.program_id, patient.country)


def record_events(actor: Actor, items: Sequence[Any], *, source: str, now: datetime | None = None,
                  allow_internal: bool = False) -> IngestResult:
    """Check, store and act on up to 1,000 events. See the module's docstring for the guarantees."""
    now = now or timezone.now()
    result, checked, types = check_events(actor, items, now, allow_internal)
    if checked:
        store_checked(checked, types, result, now, source, allow_internal)
    return sorted_result(result)


def sorted_result(result: IngestResult) -> IngestResult:
    result.rejected.sort(key=lambda r: r.index)
    result.duplicates.sort()
    return result


def check_events(actor: Actor, items: Sequence[Any], now: datetime, allow_internal: bool
                 ) -> tuple[IngestResult, list[Candidate], dict[int, dict[str, EventTypeSpec]]]:
    """Each event read and checked: the good ones, with their patient and clean data, and the result
    holding a rejection for each bad one."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise InvalidInput(_("Send a list of events."), field="events")
    if len(items) > MAX_BATCH:
        raise InvalidInput(_("Send at most %(n)d events at a time.") % {"n": MAX_BATCH}, field="events")
    result = IngestResult()
    candidates: list[Candidate] = []
    window = late_window()  # a setting: read once a batch, not twice an event
    for index, raw in enumerate(items):
        candidate, rejection = _parse(index, raw, now, window)
        if rejection is not None:
            result.rejected.append(rejection)
        elif candidate is not None:
            candidates.append(candidate)
    if not candidates:
        return result, [], {}
    patients = patients_by_pseudonym({c.pseudonym for c in candidates})
    types = event_types_for({p.program_id for p in patients.values()})
    checked: list[Candidate] = []
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
        reason = not_recorded(patient.status, spec, allow_internal)
        if reason:
            result.rejected.append(Rejection(c.index, "patient", reason))
            continue
        clean, problems = clean_data(spec, c.data)
        if problems:
            result.rejected.append(Rejection(c.index, problems[0][0], problems[0][1]))
            continue
        c.patient, c.clean = patient, clean
        checked.append(c)
    return result, checked, types


def store_checked(checked: list[Candidate], types: dict[int, dict[str, EventTypeSpec]], result: IngestResult,
                  now: datetime, source: str, allow_internal: bool) -> None:
    """Prepare and apply checked events (services/ingestion.py), again from what is stored when another
    writer got in the way, up to three times."""
    indexes = {c.index for c in checked}
    for attempt in range(3):
        try:
            plan = prepare(new_in_batch(checked, result), types, now, source, allow_internal)
            with transaction.atomic():
                apply(plan, result)
            return
        except (IntegrityError, OperationalError) as error:
            # Another sender created the same profile rows in the meantime, or PostgreSQL failed this
            # batch to break a deadlock: start again from what is stored. Not inside a caller's
            # transaction, which the failure has spoilt: that caller decides. A database still too
            # busy after three tries is answered busy (core.middleware.DatabaseBusyMiddleware).
            refused = isinstance(error, OperationalError)
            if refused and (connection.in_atomic_block or not is_transient(error) or attempt == 2):
                raise
            result.accepted.clear()
            result.duplicates = [d for d in result.duplicates if d not in indexes]
            result.rejected = [r for r in result.rejected if r.index not in indexes]
    raise InvalidInput(_("These events are being sent by someone else at the same moment; send again."),
                       field="events")
