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
    settled_event = Event.objects.filter(program=program, received_at__lte=settled).order_by("-pk") \
        .values_list("pk", flat=True).first() or 0
    settled_audit = AuditEntry.objects.filter(at__lte=settled).order_by("-seq").values_list("seq", flat=True).first() \
        or 0
    settled_patient = Patient.objects.filter(program=program, created_at__lte=settled).order_by("-pk") \
        .values_list("pk", flat=True).first() or 0
    if everything or mark.refreshed_at is None:
        ids = list(Patient.objects.filter(program=program).order_by("pk").values_list("pk", flat=True))
    else:
        touched = set(Event.objects.filter(program=program, pk__gt=mark.last_event_id)
                      .values_list("patient_id", flat=True))
        erased = AuditEntry.objects.filter(seq__gt=mark.last_audit_seq, action="pii.shredded", subject_type="patient",
                                           program_id=program.pk).values_list("subject_id", flat=True)
        touched |= set(Patient.objects.filter(program=program, pseudonym__in=list(erased)).values_list("pk", flat=True))
        touched |= set(Patient.objects.filter(program=program, pk__gt=mark.last_patient_id)
                       .values_list("pk", flat=True))
        touched |= set(OutboxMessage.objects.filter(program=program, status="done",
                                                    finished_at__gte=mark.outbox_since)
                       .values_list("patient_id", flat=True))
        ids = sorted(touched)
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
    FactsMark.objects.filter(pk=program.pk).update(
        last_event_id=max(mark.last_event_id, settled_event),
        last_patient_id=max(mark.last_patient_id, settled_patient),
        last_audit_seq=max(mark.last_audit_seq, settled_audit), outbox_since=settled, refreshed_at=started)
    return len(ids)


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Plain INSERTs of computed rows: a rebuild writes a million of them, and model instances with
    bulk_create cost more than computing the facts did."""
    if not rows:
        return
    columns = list(rows[0])
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608  (model names)
    values = [[adapt(v) if isinstance(v, datetime) else v for v in row.values()] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
