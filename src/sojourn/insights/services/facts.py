"""Keeping the journey facts behind the KPIs up to date.

`refresh_journey_facts` recomputes the facts of every patient with something new since it last ran
(an event, a delivered message, a new enrollment, an erasure), or of every patient with
`everything=True`. It is derived data, like a search index: it holds no identity, it can be rebuilt
from scratch at any time, and it is not audited (the writes it derives from are).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.core.models import AuditEntry, Program
from sojourn.insights.facts import compute_journey_facts
from sojourn.insights.models import FactsMark, JourneyFacts, StageStay
from sojourn.people.models import Patient
from sojourn.tracking.models import Event

BATCH = 2000
# The next refresh reads again what arrived in the last two minutes before this one: on PostgreSQL a
# row whose transaction began earlier can commit after a row with a higher id, and a message can be
# marked done by a worker whose clock runs a little behind.
SETTLE = timedelta(minutes=2)


def refresh_journey_facts(program: Program, *, everything: bool = False,
                          progress: Callable[[int, int], None] | None = None) -> int:
    """Bring the program's journey facts up to date; returns the number of patients recomputed."""
    started = timezone.now()
    settled = started - SETTLE
    mark, _created = FactsMark.objects.get_or_create(program=program)
    marks = _settled_marks(program, mark, settled)
    if everything or mark.refreshed_at is None:
        ids = list(Patient.objects.filter(program=program).order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(_touched(program, mark))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        facts, stays = compute_journey_facts(program, chunk, started)
        with transaction.atomic():
            # The mark's row lock keeps two refreshes from writing the same patients at once.
            list(FactsMark.objects.select_for_update().filter(pk=program.pk).values_list("pk", flat=True))
            JourneyFacts.objects.filter(patient_id__in=chunk).delete()
            StageStay.objects.filter(patient_id__in=chunk).delete()
            _insert(JourneyFacts, facts)
            _insert(StageStay, stays)
        if progress:
            progress(min(start + BATCH, len(ids)), len(ids))
    FactsMark.objects.filter(pk=program.pk).update(**marks, outbox_since=settled, refreshed_at=started)
    return len(ids)


# The look-ups below read forward from the mark by primary key: what arrived since the last refresh,
# never every event of the program. The events have no index by program alone (ingestion would pay
# for it on every event), and reading through event_type_time_idx or event_client_id_once by program
# is a scan of the program's whole history. So the events are read by id alone and the program is
# told apart here; the event mark is then a point in the id sequence shared by all programs, which
# means the same as one counted in the program's own events: every event below it has been read.

def _settled_marks(program: Program, mark: FactsMark, settled: datetime) -> dict[str, int]:
    """How far the next refresh may start: the last event, audit entry and patient that arrived by
    `settled` (a later one may still be in a transaction that has not committed)."""
    def last(query: models.QuerySet, key: str, since: int) -> int:
        found = query.filter(**{f"{key}__gt": since}).order_by(f"-{key}").values_list(key, flat=True).first()
        return max(since, found or 0)

    return {"last_event_id": last(Event.objects.filter(received_at__lte=settled), "pk", mark.last_event_id),
            "last_audit_seq": last(AuditEntry.objects.filter(at__lte=settled), "seq", mark.last_audit_seq),
            "last_patient_id": last(Patient.objects.filter(program=program, created_at__lte=settled), "pk",
                                    mark.last_patient_id)}


def _touched(program: Program, mark: FactsMark) -> set[int]:
    """The program's patients with something new since the mark."""
    touched = {patient for program_id, patient in Event.objects.filter(pk__gt=mark.last_event_id).order_by()
               .values_list("program_id", "patient_id") if program_id == program.pk}
    # By program too, the audit trail would be read whole (audit_program_at_idx): erasures are few.
    erased = [subject for program_id, subject in AuditEntry.objects.filter(
        seq__gt=mark.last_audit_seq, action="pii.shredded", subject_type="patient").order_by()
        .values_list("program_id", "subject_id") if program_id == program.pk]
    touched |= set(Patient.objects.filter(program=program, pseudonym__in=erased).values_list("pk", flat=True))
    touched |= set(Patient.objects.filter(program=program, pk__gt=mark.last_patient_id).values_list("pk", flat=True))
    touched |= set(OutboxMessage.objects.filter(program=program, status="done", finished_at__gte=mark.outbox_since)
                   .order_by().values_list("patient_id", flat=True))
    return touched


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Plain INSERTs of computed rows: a rebuild writes a million of them, and model instances with
    bulk_create cost more than computing the facts did."""
    if not rows:
        return
    columns = list(rows[0])
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    values = [[adapt(v) if isinstance(v, datetime) else v for v in row.values()] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
