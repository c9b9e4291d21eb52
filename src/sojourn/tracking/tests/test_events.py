"""Touchpoint events: checked one by one, idempotent by client id, late within a window, refused after
withdrawal, updating the profile; the same through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import me
from sojourn.core.errors import InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.people.tests.api import Api
from sojourn.tracking.models import Event, NeedSignal, PatientNeed, PatientProfile
from sojourn.tracking.queries import needs_of
from sojourn.tracking.services.events import record_events
from sojourn.tracking.tests.helpers import SYSTEM, signal_count, view


def test_good_events_are_kept_and_each_bad_one_is_reported_by_index(active_patient, itch):
    now = timezone.now()
    batch = [
        view(active_patient, "a-1", needs=["itch"]),
        view(active_patient, "a-2", ago=timedelta(days=40)),  # older than the 30-day window
        {"client_id": "a-3", "type": "content.exploded", "patient": active_patient.pseudonym,
         "occurred_at": now.isoformat()},
        view(active_patient, "a-4", rating=5),  # not a field of content.viewed
        {"client_id": "a-5", "type": "content.viewed", "patient": "PNOSUCH", "occurred_at": now.isoformat(),
         "data": {"content": "x"}},
        {"client_id": "a-6", "type": "consent.withdrawn", "patient": active_patient.pseudonym,
         "occurred_at": now.isoformat()},
        "not an event",
        {"client_id": "a-8", "type": "call.completed", "patient": active_patient.pseudonym,
         "occurred_at": (now + timedelta(hours=2)).isoformat(), "data": {"outcome": "reached"}},
        {"client_id": "a-9", "type": "call.completed", "patient": active_patient.pseudonym,
         "occurred_at": "yesterday", "data": {"outcome": "reached"}},
        {"client_id": "a-10", "type": "call.completed", "patient": active_patient.pseudonym,
         "occurred_at": now.isoformat(), "data": {"outcome": "hung up"}},
        view(active_patient, "a-11", ago=timedelta(days=20)),  # late, but within the window: kept
    ]
    result = record_events(SYSTEM, batch, source="test")
    assert [i for i, _pk in result.accepted] == [10, 0]  # stored in the order they happened
    assert [(r.index, r.field) for r in result.rejected] == [
        (1, "occurred_at"), (2, "type"), (3, "data.rating"), (4, "patient"), (5, "type"), (6, ""),
        (7, "occurred_at"), (8, "occurred_at"), (9, "data.outcome")]
    messages = {r.index: r.message for r in result.rejected}
    assert "older than 30 days" in messages[1]
    assert "content.viewed has no field rating" in messages[3]
    assert "recorded by Sojourn itself" in messages[5]
    assert "in the future" in messages[7]
    assert "must be one of reached, voicemail, call_back, unreachable" in messages[9]
    assert Event.objects.filter(patient=active_patient).exclude(source="platform").count() == 2
    # the event about itch content moved the itch score and engagement, in the same transaction
    itch_score = PatientNeed.objects.get(patient=active_patient, need=itch)
    assert itch_score.implicit > 0 and itch_score.explanation == []  # the row holds answers' words only
    itch_view = next(n for n in needs_of(active_patient) if n.code == "itch")
    assert "1 × itch content viewed in the last 14 days (+0.03)" in itch_view.sentence
    assert signal_count(active_patient) == 1
    assert not NeedSignal.objects.exists()  # the event is the record: its signal is told from it
    assert PatientProfile.objects.get(patient=active_patient).interactions_30d == 2
    # traffic stays out of the audit chain
    assert not AuditEntry.objects.filter(action__startswith="event").exists()


def test_sending_the_same_client_id_again_changes_nothing(active_patient, itch):
    first = record_events(SYSTEM, [view(active_patient, "same", needs=["itch"])], source="test")
    score = PatientNeed.objects.get(patient=active_patient, need=itch).implicit
    again = record_events(SYSTEM, [view(active_patient, "same", needs=["itch"]),
                                   view(active_patient, "other"), view(active_patient, "other")], source="test")
    assert len(first.accepted) == 1 and again.duplicates == [0, 2] and len(again.accepted) == 1
    assert Event.objects.filter(patient=active_patient).exclude(source="platform").count() == 2
    assert PatientNeed.objects.get(patient=active_patient, need=itch).implicit == score
    assert PatientProfile.objects.get(patient=active_patient).interactions_30d == 2


def test_after_withdrawal_nothing_more_is_recorded(active_patient):
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=None, via="portal")
    result = record_events(SYSTEM, [view(active_patient, "late")], source="test")
    assert not result.accepted and "withdrawn" in result.rejected[0].message
    assert not Event.objects.filter(patient=active_patient, type="content.viewed").exists()


def test_a_withdrawal_that_lands_while_a_batch_is_checked_stops_its_events(active_patient, monkeypatch):
    from sojourn.tracking import queries
    from sojourn.tracking.services import events

    # The batch read the patient as active; the withdrawal commits before the batch's transaction begins.
    seen_active = queries.patients_by_pseudonym({active_patient.pseudonym})
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=None, via="portal")
    monkeypatch.setattr(events, "patients_by_pseudonym", lambda _pseudonyms: seen_active)
    result = record_events(SYSTEM, [view(active_patient, "in-flight")], source="test")
    assert not result.accepted
    assert [(r.index, r.field) for r in result.rejected] == [(0, "patient")]
    assert "withdrawn" in result.rejected[0].message
    assert not Event.objects.filter(patient=active_patient, type="content.viewed").exists()


def test_a_patient_whose_row_is_gone_when_the_batch_is_stored_is_no_such_patient(active_patient, monkeypatch):
    from sojourn.tracking import queries
    from sojourn.tracking.services import events

    # The checks read a patient whose row no longer exists under the batch's lock: a rejection, not a 500.
    seen = queries.patients_by_pseudonym({active_patient.pseudonym})
    seen[active_patient.pseudonym].patient_id = 10**9
    monkeypatch.setattr(events, "patients_by_pseudonym", lambda _pseudonyms: seen)
    result = record_events(SYSTEM, [view(active_patient, "vanished")], source="test")
    assert not result.accepted
    assert [(r.index, r.field, r.message) for r in result.rejected] == [(0, "patient", "No such patient.")]
    assert not Event.objects.filter(client_id="vanished").exists()


def test_a_batch_is_at_most_a_thousand_events(active_patient):
    with pytest.raises(InvalidInput, match="at most 1000"):
        record_events(SYSTEM, [view(active_patient, f"e{i}") for i in range(1001)], source="test")
    assert not Event.objects.exclude(source="platform").exists()


def test_a_patient_sends_events_about_themselves_only(active_patient, program):
    from sojourn.consent.tests.factories import enroll

    other, _record = enroll(program, "DE", phone="+49 30 901821", email="other@example.org")
    result = record_events(me(active_patient), [view(active_patient, "mine"), view(other, "theirs")], source="portal")
    assert [i for i, _ in result.accepted] == [0]
    assert result.rejected[0].index == 1 and result.rejected[0].message == "No such patient."


def test_the_api_takes_a_batch_and_answers_per_event(client, cast, active_patient, itch):
    api = Api(client, cast.admin)
    response = api.post("/events", {"events": [view(active_patient, "api-1", needs=["itch"]),
                                               {"client_id": "api-2", "type": "content.viewed"}]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, 1)
    assert body["results"][0]["status"] == "accepted" and body["results"][0]["id"]
    assert body["results"][1] == {"index": 1, "status": "rejected", "id": None, "field": "patient",
                                  "message": "Name the patient by pseudonym."}
    assert api.post("/events", {"events": [view(active_patient, "api-1")]}).json()["duplicates"] == 1
    # nurses do not send events through the API; the other program's admin does not see this patient
    assert Api(client, cast.nurse_de).post("/events", {"events": [view(active_patient, "n-1")]}) \
        .json()["results"][0]["message"] == "No such patient."
    assert Api(client, cast.outsider).post("/events", {"events": [view(active_patient, "o-1")]}) \
        .json()["rejected"] == 1
    too_many = api.post("/events", {"events": [{}] * 1001})
    assert too_many.status_code == 422 and too_many.json()["error"]["details"][0]["field"] == "events"
    deep = '{"events": [{"client_id": "d", "type": "content.viewed", "data": ' + "[" * 5000 + "]" * 5000 + "}]}"
    hostile = client.post("/api/v1/events", deep, content_type="application/json",
                          HTTP_AUTHORIZATION=api.auth)
    assert hostile.status_code in {400, 422} and "error" in hostile.json()
    assert Event.objects.exclude(source="platform").count() == 1


# Not inside the test's own transaction: a batch is tried again only when it is the outermost one.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_batch_the_database_cannot_take_now_is_answered_busy_and_can_be_sent_again(
        client, cast, active_patient, itch, monkeypatch, database):
    import psycopg
    from django.db import OperationalError

    from sojourn.tracking.services import events

    store = events.apply
    tries = []

    def refused(*args, **kwargs):
        tries.append(1)
        store(*args, **kwargs)  # the rows are written, then the database gives up on the transaction
        if database == "sqlite":
            raise OperationalError("database is locked")
        error = OperationalError("deadlock detected")
        error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
        raise error

    monkeypatch.setattr(events, "apply", refused)
    api = Api(client, cast.admin)
    busy = api.post("/events", {"events": [view(active_patient, "busy-1", needs=["itch"])]})
    # SQLite waited its 20 seconds already; a deadlock PostgreSQL broke is tried again at once, three times.
    assert len(tries) == (1 if database == "sqlite" else 3)
    assert busy.status_code == 503 and busy["Retry-After"] == "2"
    assert busy.json()["error"]["code"] == "busy" and "nothing was written" in busy.json()["error"]["message"]
    assert not Event.objects.filter(client_id="busy-1").exists()
    assert signal_count(active_patient) == 0
    monkeypatch.setattr(events, "apply", store)
    again = api.post("/events", {"events": [view(active_patient, "busy-1", needs=["itch"])]})
    assert again.status_code == 200 and again.json()["accepted"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_batch_failed_once_to_break_a_deadlock_is_stored_by_trying_again(
        client, cast, active_patient, itch, monkeypatch):
    import psycopg
    from django.db import OperationalError

    from sojourn.tracking.services import events

    store, tries = events.apply, []

    def once(*args, **kwargs):
        tries.append(1)
        store(*args, **kwargs)
        if len(tries) == 1:
            error = OperationalError("deadlock detected")
            error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
            raise error

    monkeypatch.setattr(events, "apply", once)
    answer = Api(client, cast.admin).post("/events", {"events": [view(active_patient, "dl-1", needs=["itch"])]})
    assert answer.status_code == 200 and answer.json()["accepted"] == 1 and len(tries) == 2
    assert Event.objects.filter(client_id="dl-1").count() == 1
    assert signal_count(active_patient) == 1  # the failed try left nothing behind


def test_only_a_busy_database_is_answered_busy(rf):
    from django.db import OperationalError

    from sojourn.core.middleware import DatabaseBusyMiddleware

    middleware = DatabaseBusyMiddleware(lambda request: None)
    page = middleware.process_exception(rf.post("/console/profiles/"), OperationalError("database is locked"))
    assert page.status_code == 503 and b"Send the request again" in page.content
    assert page["Content-Type"].startswith("text/html")
    # A broken disk or a missing table is a server fault, not a reason to send again.
    assert middleware.process_exception(rf.post("/api/v1/events"), OperationalError("disk I/O error")) is None
    assert middleware.process_exception(rf.post("/api/v1/events"), ValueError("database is locked")) is None


def test_enrollment_stage_changes_and_withdrawal_become_events(active_patient, program):
    from sojourn.tracking.services.profiles import set_journey_stage
    from sojourn.tracking.services.taxonomy import define_stage

    define_stage(actor=SYSTEM, program=program, code="diagnosis", labels={"en": "Diagnosis"}, position=0)
    set_journey_stage(actor=SYSTEM, patient=active_patient, stage_code="diagnosis")
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["contact_sms"], via="portal")
    events = list(Event.objects.filter(patient=active_patient).order_by("occurred_at", "pk"))
    assert [(e.type, e.source) for e in events] == [("enrollment.completed", "platform"),
                                                    ("stage.changed", "platform"),
                                                    ("consent.withdrawn", "platform")]
    assert events[1].data == {"stage": "diagnosis"}
    assert events[2].data == {"purposes": ["contact_sms"], "everything": False}
