"""A patient reports a side effect on the portal, in their language: every report is an intake at
once, whatever its words, sent once however often the button is pressed; the words are the safety
officer's alone."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from sojourn.consent.portal import SESSION_PATIENT, patient_actor
from sojourn.core.errors import AccessDenied
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_patient, make_staff
from sojourn.safety.models import Intake
from sojourn.safety.services import read_intake_words, report_side_effect

PATH = "/p/me/side-effects/"


@pytest.fixture
def portal(client, active_patient):
    session = client.session
    session[SESSION_PATIENT] = active_patient.pseudonym
    session.save()
    return client


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)


def test_a_patient_reports_a_side_effect_once_and_the_officer_reads_it(portal, active_patient, program):
    me = portal.get("/p/me/").content.decode()
    assert PATH in me and "Nebenwirkung melden" in me
    form = portal.get(PATH).content.decode()
    assert "Was ist passiert?" in form and "Notruf" in form
    token = token_of(form)

    empty = portal.post(PATH, {"text": "  ", "onset": "", "token": token})
    assert empty.status_code == 422 and "Schreiben Sie, was passiert ist." in empty.content.decode()
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    future = portal.post(PATH, {"text": "Kribbeln", "onset": tomorrow, "token": token})
    assert future.status_code == 422 and "nicht in der Zukunft" in future.content.decode()
    garbled = portal.post(PATH, {"text": "Kribbeln", "onset": "gestern", "token": token})
    assert garbled.status_code == 422 and "als Datum" in garbled.content.decode()
    assert not Intake.objects.exists()

    # Words no term list knows still reach drug safety: a report is a report.
    words = "Seit Montag fühlen sich meine Finger an wie Watte."
    onset = (timezone.localdate() - timedelta(days=3)).isoformat()
    sent = portal.post(PATH, {"text": words, "onset": onset, "token": token})
    assert sent.status_code == 302 and sent["Location"] == f"{PATH}sent/"
    again = portal.post(PATH, {"text": words, "onset": onset, "token": token})  # the double click
    assert again.status_code == 302
    intake = Intake.objects.get()
    assert (intake.source, intake.status, intake.detail["onset"]) == ("portal form", "open", onset)
    assert timezone.now() - intake.day_zero < timedelta(minutes=1) and intake.due_at > intake.day_zero
    assert words.encode() not in bytes(intake.words_sealed)
    thanks = portal.get(f"{PATH}sent/").content.decode()
    assert "Danke für Ihre Meldung" in thanks
    assert portal.get(f"{PATH}sent/").status_code == 302  # the thank-you is for the report just sent

    officer = actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program))
    assert read_intake_words(actor=officer, intake=intake) == words


def test_only_the_patient_reports_for_themselves_and_a_stranger_is_sent_to_sign_in(client, active_patient, program):
    assert client.get(PATH)["Location"].endswith("/p/sign-in/")
    other = make_patient(program, "DE")
    with pytest.raises(AccessDenied):
        report_side_effect(actor=patient_actor(other), patient=active_patient, text="Kopfweh",
                           onset=date(2026, 1, 1), token="a" * 32, at=timezone.now())
    assert not Intake.objects.exists()
