"""A patient answers the needs analysis in the portal, one question per screen, resumes, reviews and sends."""

from __future__ import annotations

import pytest

from sojourn.consent.portal import SESSION_PATIENT
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.tests.factories import approved_instrument

PATH = "/p/me/questionnaires/psoriasis-needs/"


@pytest.fixture
def portal(client, program, active_patient):
    approved_instrument(program, "psoriasis-needs")
    session = client.session
    session[SESSION_PATIENT] = active_patient.pseudonym
    session.save()
    return client


def answer(portal, link_id: str, *values: str):
    return portal.post(f"{PATH}?q={link_id}", {"item": link_id, "answer": list(values)})


def test_the_list_and_the_questions_speak_the_patients_language(portal):
    listing = portal.get("/p/me/questionnaires/").content.decode()
    assert "Ihr Bedarf: Leben mit Psoriasis" in listing
    first = portal.get(PATH)
    page = first.content.decode()
    assert first.status_code == 200 and "Welche Behandlungen nutzen Sie zurzeit?" in page
    assert 'type="checkbox"' in page and "Spritzen" in page  # several treatments may be chosen
    assert 'progress max="13"' in page  # the injection question is not asked yet


def test_a_required_question_cannot_be_skipped(portal):
    refused = portal.post(PATH, {"item": "na-treatment"})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_answers_are_saved_as_one_goes_resumed_reviewed_and_sent(portal, active_patient):
    step = answer(portal, "na-treatment", "injection", "topical")
    assert step.status_code == 302 and step["Location"].endswith("?q=na-itch")
    assert 'progress max="14"' in portal.get(step["Location"]).content.decode()  # injections: one more question
    for link_id, value in (("na-itch", "3"), ("na-sleep", "2"), ("na-flares", "1")):
        answer(portal, link_id, value)
    saved = QuestionnaireResponse.objects.get()
    assert saved.status == "in-progress" and len(saved.items) == 4
    resumed = portal.get(PATH)  # a new visit goes to the first question still open
    assert "Wie gut verstehen Sie, wie Ihre Behandlung wirkt?" in resumed.content.decode()
    for link_id, value in (("na-knowledge", "0"), ("na-side-effects", "2"), ("na-injection", "3"),
                           ("na-routine", "0"), ("na-mood", "3"), ("na-visible", "1"), ("na-doctor", "1"),
                           ("na-lifestyle", "2"), ("na-practical", "0")):
        assert answer(portal, link_id, value).status_code == 302, link_id
    last = portal.post(f"{PATH}?q=na-wish", {"item": "na-wish", "answer": ""})  # optional: may stay empty
    assert last["Location"].endswith("/review/")
    review = portal.get(last["Location"]).content.decode()
    assert "Ständig" in review and "disabled" not in review
    sent = portal.post(last["Location"])
    assert sent.status_code == 302
    response = QuestionnaireResponse.objects.get()
    assert response.status == "completed" and response.source == "portal"
    scores = {s["scale"]: s for s in response.scores}
    assert scores["itch"]["band"] == "high" and scores["injection_confidence"]["value"] == 3.0
    assert "Danke" in portal.get(sent["Location"]).content.decode()


def test_changing_an_earlier_answer_drops_answers_it_no_longer_asks_for(portal):
    answer(portal, "na-treatment", "injection")
    answer(portal, "na-injection", "2")
    assert "na-injection" in str(QuestionnaireResponse.objects.get().items)
    answer(portal, "na-treatment", "topical")
    assert "na-injection" not in str(QuestionnaireResponse.objects.get().items)


def test_without_a_session_or_for_an_unknown_questionnaire_nothing_is_shown(client, portal):
    assert portal.get("/p/me/questionnaires/who-5/").status_code == 404  # not approved in this program
    assert client.__class__().get(PATH).status_code == 302
