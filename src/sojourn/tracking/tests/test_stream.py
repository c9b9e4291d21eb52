"""Many batches in one go (services/stream.py): each recorded as record_events records it, results in
order, a batch refused as a whole raising at its turn. On PostgreSQL the helper process decides each
batch while the one before is written; on the SQLite leg's in-memory database, which a second process
cannot open, the batches are decided in the test's process (tests/test_event_stream.py runs the helper
on SQLite files, on the benchmark's program)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, code_for, enroll
from sojourn.core.errors import InvalidInput
from sojourn.tracking.models import Event, PatientProfile
from sojourn.tracking.services.stream import record_event_stream
from sojourn.tracking.tests.helpers import SYSTEM, signal_count, view

pytestmark = pytest.mark.django_db(transaction=True)  # the helper reads what the test's process committed


def active(program, email, capture):
    with capture(execute=True):
        patient, _record = enroll(program, "DE", email=email)
    return verify_patient(actor=SELF, patient=patient, code=code_for(email))


@pytest.mark.parametrize("helper", [True, False], ids=["helper", "one-process"])
def test_each_batch_is_recorded_in_order_with_what_the_ones_before_it_changed(
        program, itch, django_capture_on_commit_callbacks, helper):
    first = active(program, "first@example.org", django_capture_on_commit_callbacks)
    second = active(program, "second@example.org", django_capture_on_commit_callbacks)
    batches = [[view(first, f"b{n}-{i}", needs=["itch"], ago=timedelta(minutes=60 - n * 5 - i)) for i in range(3)]
               + [view(second, f"b{n}-x", needs=["itch"])] for n in range(4)]
    batches[2].append(view(first, "b0-0"))  # sent again two batches later: a duplicate
    batches[3].append({"client_id": "bad", "type": "content.viewed", "patient": first.pseudonym,
                       "occurred_at": "yesterday", "data": {"content": "x"}})
    results = list(record_event_stream(SYSTEM, batches, source="test", helper=helper))
    assert [len(r.accepted) for r in results] == [4, 4, 4, 4]
    assert results[2].duplicates == [4] and not results[2].rejected
    assert [(r.index, r.field) for r in results[3].rejected] == [(4, "occurred_at")]
    assert Event.objects.filter(source="test").count() == 16
    # Every batch counted what the batches before it wrote about the same patients.
    assert PatientProfile.objects.get(patient=first).interactions_30d == 12
    assert PatientProfile.objects.get(patient=second).interactions_30d == 4
    assert signal_count(first) == 12


def test_a_batch_refused_as_a_whole_raises_at_its_turn_after_the_ones_before_it(
        program, django_capture_on_commit_callbacks):
    patient = active(program, "lena@example.org", django_capture_on_commit_callbacks)
    batches = [[view(patient, "ok-1")], [view(patient, f"many-{n}") for n in range(1001)], [view(patient, "never")]]
    stream = record_event_stream(SYSTEM, batches, source="test")
    assert len(next(stream).accepted) == 1
    with pytest.raises(InvalidInput, match="at most 1000") as refused:
        next(stream)
    assert refused.value.field == "events"  # the error came back whole from the helper
    assert list(Event.objects.filter(source="test").values_list("client_id", flat=True)) == ["ok-1"]


def test_the_stream_refuses_to_run_inside_a_transaction(program):
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError, match="transaction per batch"):
        next(record_event_stream(SYSTEM, [[]], source="test"))
