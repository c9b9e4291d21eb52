"""The personal page: cards chosen by needs, stage and level, each saying why; only approved words in
the patient's language; opening, rating and finishing a card are touchpoint events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.channels.models import PortalCard
from sojourn.channels.services.delivery import deliver_due
from sojourn.consent.portal import SESSION_PATIENT
from sojourn.content.models import ContentVersion
from sojourn.content.services.library import create_item, save_draft
from sojourn.content.services.review import withdraw
from sojourn.content.tests.factories import approved_item, author, reviewer
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.tracking.models import Event, PatientNeed
from sojourn.tracking.services.taxonomy import define_need, define_stage

pytestmark = pytest.mark.django_db
DE = {"de-DE": {"title": "Juckreiz lindern", "summary": "Drei Wege", "body": "Hallo {given_name}, kühlen hilft."}}


@pytest.fixture
def page_client(client, program, active_patient):
    itch = define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch", "de": "Juckreiz"})
    sleep = define_need(actor=SYSTEM, program=program, code="sleep", labels={"en": "Sleep", "de": "Schlaf"})
    define_stage(actor=SYSTEM, program=program, code="diagnosis", labels={"en": "Diagnosis"}, position=0)
    now = timezone.now()
    PatientNeed.objects.create(patient=active_patient, need=itch, explicit=0.8, implicit=0.0, combined=0.8,
                               confidence=0.5, explanation=[], updated_at=now)
    PatientNeed.objects.create(patient=active_patient, need=sleep, explicit=0.1, implicit=0.0, combined=0.1,
                               confidence=0.5, explanation=[], updated_at=now)
    session = client.session
    session[SESSION_PATIENT] = active_patient.pseudonym
    session.save()
    return client


def test_cards_follow_needs_and_say_why_in_the_patients_language(page_client, program, active_patient):
    approved_item(program, "itch-tips", "article", DE, needs=["itch"])
    approved_item(program, "sleep-tips", "article", {"de-DE": {"title": "Besser schlafen", "summary": "x",
                                                               "body": "y"}}, needs=["sleep"])
    approved_item(program, "english-only", "tip", {"en-GB": {"title": "Only English", "body": "z"}})
    approved_item(program, "level-two", "tip", {"de-DE": {"title": "Für später", "body": "z"}}, level=2)
    create_item(actor=author(program), program=program, code="draft-tip", kind="tip", title="d")
    save_draft(actor=author(program), item=program.content_items.get(code="draft-tip"),
               variants={"de-DE": {"title": "Noch nicht geprüft", "body": "x"}})
    page = page_client.get("/p/me/page/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Juckreiz lindern" in text
    assert "Weil „Juckreiz“ Ihnen wichtig ist: Sie haben es uns in Ihrer Bedarfsanalyse gesagt." in text
    assert "Besser schlafen" not in text  # sleep scores 0.1: not a need the page answers
    assert "Only English" not in text and "Noch nicht geprüft" not in text and "Für später" not in text
    assert 'id="locked"' in text  # one card waits at level 2
    card = page_client.get("/p/me/page/itch-tips/")
    assert "Hallo Lena, kühlen hilft." in card.content.decode()  # the variable filled for this patient
    viewed = Event.objects.get(patient=active_patient, type="content.viewed")
    assert viewed.data == {"content": "itch-tips", "needs": ["itch"], "channel": "web", "level": 1}
    assert page_client.get("/p/me/page/level-two/").status_code == 404  # not yet unlocked
    assert page_client.get("/p/me/page/draft-tip/").status_code == 404


def test_a_rating_and_a_finished_card_are_events_and_the_rating_shows(page_client, program, active_patient):
    approved_item(program, "itch-tips", "article", DE, needs=["itch"])
    assert page_client.post("/p/me/page/itch-tips/rate/", {"helpful": "yes"}).status_code == 302
    assert page_client.post("/p/me/page/itch-tips/done/").status_code == 302
    assert page_client.post("/p/me/page/itch-tips/rate/", {"helpful": "maybe"}).status_code == 404
    kinds = list(Event.objects.filter(patient=active_patient, type__startswith="content.")
                 .values_list("type", "data__helpful"))
    assert kinds == [("content.rated", True), ("content.completed", None)]
    page = page_client.get("/p/me/page/").content.decode()
    assert 'value="yes" aria-pressed="true"' in page


def test_a_card_a_rule_sent_comes_first_and_disappears_when_withdrawn(page_client, program, active_patient):
    approved_item(program, "itch-tips", "article", DE, needs=["itch"])
    approved_item(program, "welcome", "tip", {"de-DE": {"title": "Willkommen", "body": "Schön, dass Sie da sind."}},
                  needs=["sleep"])
    live_rules(program, [rule("hello", {"events": ["portal.page_viewed"]},
                              [{"do": "send", "channel": "web", "content": "welcome"}])])
    from sojourn.tracking.services.events import record_events

    record_events(SYSTEM, [{"client_id": "p1", "type": "portal.page_viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"page": "home"}}], source="test")
    deliver_due(owner="w", now=timezone.now())
    text = page_client.get("/p/me/page/").content.decode()
    assert text.index("Willkommen") < text.index("Juckreiz lindern")  # sent by a rule: first
    withdraw(actor=reviewer(program), version=ContentVersion.objects.get(item__code="welcome"), reason="recall")
    assert "Willkommen" not in page_client.get("/p/me/page/").content.decode()
    card = PortalCard.objects.get()
    assert page_client.post(f"/p/me/page/cards/{card.pk}/put-away/").status_code == 302
    card.refresh_from_db()
    assert card.dismissed_at is not None


def test_the_page_is_for_a_signed_in_active_patient(client, program):
    assert client.get("/p/me/page/").status_code == 302


def ask_who5_on_the_page(program, patient):
    """A live rule asks WHO-5 on the page when the patient opens it, and the patient has opened it."""
    from sojourn.questionnaires.tests.factories import approved_instrument
    from sojourn.tracking.services.events import record_events

    who5 = approved_instrument(program, "who-5")
    live_rules(program, [rule("ask", {"events": ["portal.page_viewed"]},
                              [{"do": "ask_questionnaire", "questionnaire": who5.name, "channel": "web"}])])
    record_events(SYSTEM, [{"client_id": "p1", "type": "portal.page_viewed", "patient": patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"page": "home"}}], source="test")
    deliver_due(owner="w", now=timezone.now())
    return who5


def test_a_questionnaire_a_rule_asks_on_the_page_stays_until_answered(page_client, program, active_patient):
    from sojourn.questionnaires.models import QuestionnaireResponse
    who5 = ask_who5_on_the_page(program, active_patient)
    page = page_client.get("/p/me/page/").content.decode()
    assert 'id="asks"' in page and f"/p/me/questionnaires/{who5.name}/" in page
    QuestionnaireResponse.objects.create(questionnaire=who5, patient=active_patient, status="completed",
                                         source="portal", locale="de-DE", started_at=timezone.now(),
                                         completed_at=timezone.now())
    assert 'id="asks"' not in page_client.get("/p/me/page/").content.decode()


def test_a_questionnaire_the_page_asks_for_is_titled_in_the_patients_language(page_client, program, active_patient):
    from sojourn.questionnaires.services.definitions import definition
    who5 = ask_who5_on_the_page(program, active_patient)
    german = definition(who5).title_in("de")
    assert german != who5.title  # the stored title is the English one
    asks = page_client.get("/p/me/page/").content.decode().split('id="asks"')[1].split("</section>")[0]
    assert german in asks and who5.title not in asks
