"""The term lists read a patient's words as they write them: negations, accents, contractions,
katakana, a market's own words; the words are the safety officer's alone, and go with an erasure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.core.services.keys import destroy_data_key
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_patient, make_staff
from sojourn.safety.flagging import languages_for, possible_adverse_event
from sojourn.safety.services import flag_patient_words, read_intake_words
from sojourn.tracking.tests.helpers import SYSTEM


def terms(text: str, *languages: str, market: dict | None = None) -> set[str]:
    return {f.term for f in possible_adverse_event(text, languages, market)}


@pytest.mark.parametrize(("text", "language"), [
    ("No side effects so far, thanks!", "en"),
    ("Bisher keine Nebenwirkungen", "de"),
    ("Pas d'effets secondaires pour l'instant", "fr"),
    ("副作用は特にありません", "ja"),
    ("No nausea, no headaches", "en"),
])
def test_a_negated_mention_is_not_a_flag(text, language):
    assert terms(text, language) == set()


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("No side effects except a headache", "en", "headache*"),
    ("I can't sleep since the new pen", "en", "*n't sleep*"),
    ("tummy's upset", "en", "tummy"),
    ("Mir ist so uebel", "de", "*ubel*"),
    ("Mir ist so übel", "de", "*ubel*"),
    ("j'ai la nausee", "fr", "nause*"),
    ("Aucun effet secondaire sauf des brûlures", "fr", "brulure*"),
    ("ずっとムカムカする", "ja", "むかむか"),
    ("夜眠れない", "ja", "眠れない"),
])
def test_everyday_words_are_flagged(text, language, expected):
    assert expected in terms(text, language)


def test_the_patients_language_comes_first_then_the_markets():
    assert languages_for("fr-CA", ["en-CA", "fr-CA"]) == ["fr", "en"]
    assert terms("feeling queasy", *languages_for("fr-CA", ["en-CA", "fr-CA"])) == {"queasy"}
    # A market pack adds its own words (a brand's nickname, a regional word) to a language's list.
    assert terms("the zappy pen made me wobbly-ish", "en", market={"en-US": ["zappy"]}) >= {"zappy"}
    assert terms("zappy", "de", market={"en-US": ["zappy"]}) == set()


@pytest.mark.django_db
def test_the_words_are_sealed_read_by_the_safety_officer_audited_and_erased_with_the_identity(program, client):
    patient = make_patient(program, "DE", phone="+4930901820")
    intake = flag_patient_words(actor=SYSTEM, patient=patient, source="sms", text="Seit gestern Kopfweh",
                                idempotency_key="sms-in:t1", day_zero=datetime(2026, 5, 4, 8, tzinfo=UTC))
    assert intake.detail == {"terms": ["*kopfweh*"], "kinds": ["events"]}
    assert b"Kopfweh" not in bytes(intake.words_sealed)
    assert flag_patient_words(actor=SYSTEM, patient=patient, source="sms", text="Danke!",
                              idempotency_key="sms-in:t2", day_zero=intake.day_zero) is None

    officer = make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)
    nurse = make_staff("nurse@sponsor.example", Role.NURSE, program, ("DE",))
    client.force_login(nurse)
    assert client.get(f"/console/safety/intakes/{intake.pk}/").status_code in (403, 404)
    client.force_login(officer)
    page = client.get(f"/console/safety/intakes/{intake.pk}/").content.decode()
    assert "Seit gestern Kopfweh" in page
    assert AuditEntry.objects.filter(action="safety.words_read", subject_id=patient.pseudonym).count() == 1

    destroy_data_key(actor=SYSTEM, data_key=patient.data_key, subject_type="patient", subject_id=patient.pseudonym,
                     program_id=program.pk, market="DE", reason="erasure")
    intake.patient.refresh_from_db()
    intake.patient.data_key.refresh_from_db()
    assert read_intake_words(actor=actor_for_user(officer), intake=intake) is None
    page = client.get(f"/console/safety/intakes/{intake.pk}/").content.decode()
    assert 'id="patient-words"' not in page and "Seit gestern" not in page and "Erased with the" in page
