"""The bulk helpers of the event path read and write what the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from sojourn.consent.models import ContactPreferences
from sojourn.core.db import as_datetime, as_json, as_time, rows_for_ids, update_rows
from sojourn.core.models import Market

pytestmark = pytest.mark.django_db


def test_rows_for_ids_binds_the_ids_between_other_parameters(program):
    markets = list(Market.objects.order_by("pk").values_list("pk", "country"))
    assert len(markets) >= 3
    wanted = [markets[0][0], markets[2][0]]
    rows = rows_for_ids(f"SELECT id, country FROM {Market._meta.db_table} WHERE country <> %s AND id {{ids}} "
                        "AND country <> %s ORDER BY id", wanted, [markets[0][1], "ZZ"])
    assert rows == [(markets[2][0], markets[2][1])]
    assert rows_for_ids(f"SELECT id FROM {Market._meta.db_table} WHERE id {{ids}}", []) == []


def test_values_come_back_as_the_orm_would_give_them(active_patient):
    patient = active_patient
    moment = datetime(2026, 3, 1, 8, 30, 15, 250000, tzinfo=UTC)
    ContactPreferences.objects.update_or_create(patient=patient, defaults={
        "channels": ["email", "sms"], "quiet_start": time(21, 0), "quiet_end": time(8, 0), "contact_days": [1, 3]})
    update_rows(ContactPreferences, ["updated_at"], [(moment, patient.pk)], key="patient")
    [(channels, start, end, updated)] = rows_for_ids(
        f"SELECT channels, quiet_start, quiet_end, updated_at FROM {ContactPreferences._meta.db_table} "
        "WHERE patient_id {ids}", [patient.pk])
    assert as_json(channels) == ["email", "sms"]
    assert (as_time(start), as_time(end)) == (time(21, 0), time(8, 0))
    assert as_datetime(updated) == moment
    assert ContactPreferences.objects.get(patient=patient).updated_at == moment


def test_naive_values_are_utc_and_text_is_parsed():
    assert as_datetime("2026-03-01 08:30:00") == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert as_datetime(datetime(2026, 3, 1, 8, 30)) == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert as_datetime(None) is None
    assert as_time("07:15:00") == time(7, 15)
    assert as_json('{"a": [1, "ü"]}') == {"a": [1, "ü"]}
    assert as_json({"already": "parsed"}) == {"already": "parsed"}



def test_json_written_in_bulk_reads_back_as_the_orm_would_give_it(active_patient):
    from sojourn.core.db import insert_rows
    from sojourn.tracking.models import Event

    data = {"text": "Müdigkeit 痒み", "big": 2**70, "ratio": 0.1 + 0.2, "list": [1, None, True], 7: "int key"}
    insert_rows(Event, ["program", "patient", "type", "client_id", "occurred_at", "received_at", "source", "data"],
                [(active_patient.program_id, active_patient.pk, "portal.page_viewed", "json-1",
                  datetime(2026, 3, 1, 8, 30, tzinfo=UTC), datetime(2026, 3, 1, 8, 31, tzinfo=UTC), "test", data)])
    stored = Event.objects.get(client_id="json-1")
    # Written as json.dumps writes it (the ORM's exact lookups on SQLite compare the text); keys become text.
    assert stored.data == {"text": "Müdigkeit 痒み", "big": 2**70, "ratio": 0.30000000000000004,
                           "list": [1, None, True], "7": "int key"}
    assert (stored.occurred_at, stored.received_at) == (datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
                                                        datetime(2026, 3, 1, 8, 31, tzinfo=UTC))
    assert Event.objects.filter(data=stored.data).count() == 1
    with pytest.raises(TypeError):  # refused as the ORM would refuse it, nothing written
        insert_rows(Event, ["program", "patient", "type", "client_id", "occurred_at", "received_at", "source",
                            "data"], [(active_patient.program_id, active_patient.pk, "portal.page_viewed", "json-2",
                                       datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
                                       datetime(2026, 3, 1, 8, 31, tzinfo=UTC), "test", {"when": {1, 2}})])


def test_new_rows_go_in_statements_that_stay_within_the_bound_values(active_patient, monkeypatch):
    from sojourn.core import db
    from sojourn.tracking.models import Event

    fields = ["program", "patient", "type", "client_id", "occurred_at", "received_at", "source", "data"]
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    monkeypatch.setattr(db, "MAX_BOUND_VALUES", 20)  # two rows of eight values a statement
    rows = [(active_patient.program_id, active_patient.pk, "portal.page_viewed", f"bound-{n}", moment, moment, "t", {})
            for n in range(5)]
    written = db.insert_new_rows(Event, fields, rows, returning=["client_id"])
    assert sorted(c for (c,) in written) == [f"bound-{n}" for n in range(5)]
    # again: every row is taken already, nothing comes back and nothing is written twice
    assert db.insert_new_rows(Event, fields, rows, returning=["client_id"]) == []
    assert Event.objects.filter(client_id__startswith="bound-").count() == 5
    with pytest.raises(ValueError, match="a row of 7 values for 8 columns"):
        db.insert_rows(Event, fields, [rows[0][:-1]])
