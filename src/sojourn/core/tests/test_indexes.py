"""The hot tables carry no index twice, and the work queues' claim reads only what is waiting."""

from __future__ import annotations

import pytest
from django.db import connection

from sojourn.channels.models import OutboxMessage
from sojourn.dialogue.models import AgendaItem, Decision
from sojourn.tracking.models import Event, NeedSignal, PatientNeed

pytestmark = pytest.mark.django_db

# Every row written on the event path keeps each of these tables' indexes up to date.
FOREIGN_KEYS = [(Event, "patient_id"), (Event, "program_id"), (NeedSignal, "patient_id"), (PatientNeed, "patient_id"),
                (Decision, "program_id"), (OutboxMessage, "patient_id"),
                (OutboxMessage, "program_id"), (AgendaItem, "patient_id")]


def _indexes(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        return {name: c for name, c in connection.introspection.get_constraints(cursor, table).items()
                if c["index"] or c["unique"]}


@pytest.mark.parametrize(("model", "column"), FOREIGN_KEYS, ids=lambda v: getattr(v, "__name__", v))
def test_a_foreign_key_is_found_by_the_index_leading_with_it_and_has_none_of_its_own(model, column):
    indexes = _indexes(model._meta.db_table)
    assert not [name for name, c in indexes.items() if c["columns"] == [column] and not c["primary_key"]]
    assert [name for name, c in indexes.items() if len(c["columns"]) > 1 and c["columns"][0] == column]


@pytest.mark.parametrize("model", [AgendaItem, OutboxMessage])
def test_the_queue_indexes_hold_only_waiting_and_claimed_rows(model):
    prefix = model._meta.db_table.split("_")[-1].replace("agendaitem", "agenda").replace("outboxmessage", "outbox")
    indexes = _indexes(model._meta.db_table)
    assert indexes[f"{prefix}_pending_idx"]["columns"] == ["lane", "due_at", "id"]
    assert indexes[f"{prefix}_claimed_idx"]["columns"] == ["lease_until"]
    if connection.vendor == "sqlite":  # the planner takes the partial index for the claim and the lease sweep
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE status = 'pending' "
                           "AND due_at <= '2026-01-01' ORDER BY lane, due_at, id LIMIT 10")
            assert f"{prefix}_pending_idx" in str(cursor.fetchall())
            cursor.execute(f"EXPLAIN QUERY PLAN UPDATE {table} SET status = 'pending' "
                           "WHERE status = 'claimed' AND lease_until < '2026-01-01'")
            assert f"{prefix}_claimed_idx" in str(cursor.fetchall())
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT id FROM {OutboxMessage._meta.db_table} "
                           "WHERE channel = 'sms' AND provider_id = 'p-1' LIMIT 1")
            assert "outbox_provider_idx" in str(cursor.fetchall())


def test_a_patients_decisions_are_read_through_their_events_never_the_whole_table():
    """Decision.patient has no full index (ingestion would write one page per decision for it): the
    patient's decisions on events are found by event id, the others by a partial index."""
    indexes = _indexes(Decision._meta.db_table)
    assert indexes["decision_event_idx"]["columns"] == ["event_id"]
    assert indexes["decision_unprompted_idx"]["columns"] == ["patient_id", "decided_at"]
    if connection.vendor == "sqlite":
        from sojourn.dialogue.queries import decision_queries

        on_events, unprompted = decision_queries(1)
        for query, index in ((on_events, "decision_event_idx"), (unprompted, "decision_unprompted_idx")):
            sql, params = query.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                plan = str(cursor.fetchall())
            assert index in plan and "SCAN dialogue_decision" not in plan
