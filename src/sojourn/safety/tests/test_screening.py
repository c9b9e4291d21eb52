"""Messages the term lists did not flag: a person reads each by the forward deadline, clears those with no
adverse event (their words dropped) or raises an intake whose day zero is the message's arrival; only the
safety role reads them, on the console and the API, and every reading is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.core.errors import AccessDenied, Conflict
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.api import Api
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import Intake, Screening
from sojourn.safety.queries import screening_queue
from sojourn.safety.services import (
    clear_screenings,
    flag_patient_words,
    raise_intake,
    read_intake_words,
    read_screening_words,
)
from sojourn.tracking.tests.helpers import SYSTEM

MISSED = "Meine Fingernägel brechen ständig ab"  # brittle nails: words the German list has not seen
THANKS = "Danke, alles gut bei mir!"

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(cast):
    return make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program)


def _reply(patient, text, key, *, at=None, screen=True):
    return flag_patient_words(actor=SYSTEM, patient=patient, source="sms", text=text, idempotency_key=key,
                              day_zero=at or timezone.now(), screen=screen)


def test_an_unflagged_reply_waits_for_a_person_and_a_flagged_one_is_an_intake(active_patient):
    assert _reply(active_patient, MISSED, "sms-in:1") is None
    assert _reply(active_patient, MISSED, "sms-in:1") is None  # the same message twice: one to read
    assert _reply(active_patient, "STOP", "sms-in:2", screen=False) is None  # a keyword is not free text
    assert _reply(active_patient, "Ich habe seit Tagen Kopfschmerzen", "sms-in:3") is not None
    [waiting] = Screening.objects.all()
    assert (waiting.source, waiting.status, waiting.due_at > waiting.received_at) == ("sms", "open", True)
    assert MISSED.encode() not in bytes(waiting.words_sealed)
    assert Intake.objects.count() == 1


def test_a_person_raises_what_the_lists_missed_with_its_own_day_zero(active_patient, officer, program):
    arrived = timezone.now() - timedelta(hours=5)
    _reply(active_patient, MISSED, "sms-in:1", at=arrived)
    _reply(active_patient, THANKS, "sms-in:2", at=arrived)
    safety = actor_for_user(officer)
    missed, thanks = screening_queue(safety, program)
    assert read_screening_words(actor=safety, screening=missed) == MISSED
    intake = raise_intake(actor=safety, screening=missed, at=timezone.now())
    assert (intake.day_zero, intake.source, intake.detail) == (arrived, "sms", {"screening": missed.pk})
    assert read_intake_words(actor=safety, intake=intake) == MISSED
    with pytest.raises(Conflict):
        raise_intake(actor=safety, screening=missed, at=timezone.now())
    assert clear_screenings(actor=safety, screenings=[thanks, missed], at=timezone.now()) == 1
    cleared = Screening.objects.get(pk=thanks.pk)
    assert (cleared.status, cleared.words_sealed, cleared.screened_by_id) == ("clear", None, officer.pk)
    assert screening_queue(safety, program) == []
    assert AuditEntry.objects.filter(action="safety.screening_cleared").count() == 1
    assert AuditEntry.objects.filter(action="safety.words_read", after__screening=missed.pk).exists()


def test_only_the_safety_role_reads_or_screens(active_patient, cast, program, client):
    _reply(active_patient, MISSED, "sms-in:1")
    waiting = Screening.objects.get()
    with pytest.raises(AccessDenied):
        read_screening_words(actor=actor_for_user(cast.nurse_de), screening=waiting)
    with pytest.raises(AccessDenied):
        clear_screenings(actor=actor_for_user(cast.analyst), screenings=[waiting], at=timezone.now())
    for who in (cast.nurse_de, cast.analyst):
        client.force_login(who)
        assert client.get("/console/safety/screening/").status_code == 403
        assert Api(client, who).get(f"/programs/{program.slug}/safety/screening").status_code == 404
    assert Screening.objects.get().status == "open"


def test_the_console_and_the_api_screen(active_patient, officer, program, client):
    for n, text in enumerate([MISSED, THANKS, "Bis bald", "Wann kommt das nächste Heft?"]):
        _reply(active_patient, text, f"sms-in:{n}")
    first, second, third, fourth = Screening.objects.order_by("pk")
    client.force_login(officer)
    queue = client.get("/console/safety/").content.decode()
    assert 'id="screening-link"' in queue
    page = client.get("/console/safety/screening/")
    assert page.status_code == 200 and MISSED in page.content.decode()
    nothing = client.post("/console/safety/screening/", {"action": "clear"})
    assert nothing.status_code == 422 and Screening.objects.filter(status="open").count() == 4
    assert client.post("/console/safety/screening/", {"action": "clear", "screening": [second.pk]}).status_code == 302
    raised = client.post("/console/safety/screening/", {"action": "raise", "screening": first.pk})
    intake = Intake.objects.get()
    assert raised["Location"] == f"/console/safety/intakes/{intake.pk}/"
    api = Api(client, officer)
    listed = api.get(f"/programs/{program.slug}/safety/screening").json()
    assert [(m["id"], m["words"]) for m in listed] == [
        (third.pk, "Bis bald"), (fourth.pk, "Wann kommt das nächste Heft?")]
    unknown = api.post(f"/programs/{program.slug}/safety/screening", {"clear": [first.pk]})
    assert (unknown.status_code, unknown.json()["error"]["details"][0]["field"]) == (422, "clear")
    done = api.post(f"/programs/{program.slug}/safety/screening", {"clear": [third.pk], "raise_intake": [fourth.pk]})
    assert done.json()["cleared"] == 1 and len(done.json()["intakes"]) == 1
    assert 'id="nothing-to-screen"' in client.get("/console/safety/screening/").content.decode()
