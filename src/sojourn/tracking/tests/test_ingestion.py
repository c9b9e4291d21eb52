"""A batch prepared outside the write transaction and applied inside it: whatever another writer commits
about the same patients in between is seen, as if the batch had been decided under the lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.tracking.models import Event, PatientNeed, PatientProfile
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.profiles import refresh_profile
from sojourn.tracking.tests.helpers import SYSTEM, applied, prepared, signal_count, view


@pytest.fixture
def profiled(active_patient, itch):
    """The patient with a profile and an itch score (their first event makes both)."""
    record_events(SYSTEM, [view(active_patient, "first", needs=["itch"], ago=timedelta(hours=3))], source="test")
    return active_patient


def test_preparing_writes_nothing(profiled, itch):
    patient = profiled
    before = PatientProfile.objects.get(patient=patient)
    _result, plan = prepared([view(patient, "p-1", needs=["itch"])])
    assert plan.seen == {patient.pk: ("active", before.revision)}
    assert plan.profiles.touched == {patient.pk}  # the score and the profile, ready to be written
    assert not Event.objects.filter(client_id="p-1").exists()
    assert signal_count(patient) == 1  # the first event's
    after = PatientProfile.objects.get(patient=patient)
    assert (after.interactions_30d, after.revision) == (before.interactions_30d, before.revision)


def test_a_batch_stored_between_the_halves_is_counted_with_it(profiled, itch):
    patient = profiled
    start = PatientProfile.objects.get(patient=patient)
    result, plan = prepared([view(patient, "late-1", needs=["itch"])])
    # Another sender's batch about the same patient commits while this one was being decided.
    record_events(SYSTEM, [view(patient, "other-1", needs=["itch"])], source="test")
    applied(result, plan)
    assert len(result.accepted) == 1
    profile = PatientProfile.objects.get(patient=patient)
    assert profile.interactions_30d == start.interactions_30d + 2  # neither batch wrote over the other
    assert profile.revision == start.revision + 2
    assert signal_count(patient) == 3
    score = PatientNeed.objects.get(patient=patient, need=itch)
    # Both signals are in the score: the same as two batches one after the other.
    record_events(SYSTEM, [view(patient, "x-1", needs=["itch"]), view(patient, "x-2", needs=["itch"])],
                  source="test")
    assert PatientNeed.objects.get(pk=score.pk).implicit > score.implicit > 0


def test_an_event_someone_else_stored_meanwhile_is_a_duplicate_and_the_rest_counts_once(profiled, itch):
    patient = profiled
    start = PatientProfile.objects.get(patient=patient).interactions_30d
    batch = [view(patient, "same-1", needs=["itch"], ago=timedelta(hours=2)),
             view(patient, "mine-2", needs=["itch"])]
    result, plan = prepared(batch)
    record_events(SYSTEM, [batch[0]], source="test")  # the same event, sent again by a retrying client
    applied(result, plan)
    assert result.duplicates == [0] and [i for i, _pk in result.accepted] == [1]
    assert Event.objects.filter(client_id="same-1").count() == 1
    assert PatientProfile.objects.get(patient=patient).interactions_30d == start + 2
    assert signal_count(patient) == 3


def test_a_batch_whose_clock_is_behind_adds_what_it_would_have_added_in_order(profiled, itch):
    patient = profiled
    start = timezone.now()
    later = start + timedelta(days=3)

    def seen(client_id, at):
        return {"client_id": client_id, "type": "content.viewed", "patient": patient.pseudonym,
                "occurred_at": at.isoformat(), "data": {"content": "itch-tips", "needs": ["itch"]}}

    record_events(SYSTEM, [seen("ahead", later - timedelta(hours=1))], source="test", now=later)
    record_events(SYSTEM, [seen("behind", start - timedelta(hours=1))], source="test", now=start)  # three days behind
    moved = PatientNeed.objects.get(patient=patient, need=itch).implicit
    refresh_profile(patient, later)  # a full recount from the events, on the later day
    assert moved == pytest.approx(PatientNeed.objects.get(patient=patient, need=itch).implicit, abs=0.0005)
