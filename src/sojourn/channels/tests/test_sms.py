"""Text messages: through the local gateway and an HTTP provider; segments counted at send time;
STOP/START/HELP in the market's languages; the end-to-end path from an event to a STOP in German."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.utils import timezone

from sojourn.channels.keys import provider_key
from sojourn.channels.models import OutboxMessage
from sojourn.channels.services.delivery import deliver_due
from sojourn.channels.services.sms_inbound import keyword_of, receive_sms
from sojourn.channels.sms import HttpProvider, LocalGateway, Sms
from sojourn.channels.tests.helpers import noon
from sojourn.channels.tests.providers import post_callback, provider_callback
from sojourn.consent.queries import granted_purposes, may_contact
from sojourn.content.tests.factories import approved_item
from sojourn.dialogue.models import Decision
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import record_events

pytestmark = pytest.mark.django_db
PHONE = "+4930901820"


@pytest.fixture
def gateway(settings, tmp_path):
    settings.SOJOURN_SMS_PROVIDER = "local"
    settings.SOJOURN_SMS_GATEWAY_DIR = tmp_path / "sms"
    settings.SOJOURN_CHANNEL_ADAPTERS = {}
    return LocalGateway(tmp_path / "sms")


def event(patient, client_id, at):
    return {"client_id": client_id, "type": "medication.missed", "patient": patient.pseudonym,
            "occurred_at": (at - timedelta(minutes=1)).isoformat(), "data": {"product": "biologic"}}


@pytest.fixture
def reminder(program, active_patient):
    approved_item(program, "missed-dose", "sms", {"de-DE": {
        "body": "Hallo {given_name}, heute fehlt eine Dosis. Denken Sie an die nächste Injektion. Antworten Sie STOPP, "
                "um keine SMS mehr zu erhalten."}},
        segment_budget=1)
    live_rules(program, [rule("missed", {"events": ["medication.missed"]},
                              [{"do": "send", "channel": "sms", "content": "missed-dose"}])])
    return active_patient


def test_an_event_sends_a_text_the_patient_stops_it_in_german_and_nothing_more_is_sent(gateway, reminder):
    at = noon()
    record_events(SYSTEM, [event(reminder, "m1", at)], source="test", now=at)
    assert deliver_due(owner="w", now=at + timedelta(minutes=1)).sent == 1
    [sent] = gateway.sent()
    assert sent == {"to": PHONE, "from": "Begleiter", "key": provider_key(OutboxMessage.objects.get()),
                    "text": "Hallo Lena, heute fehlt eine Dosis. Denken Sie an die nächste Injektion. "
                            "Antworten Sie STOPP, um keine SMS mehr zu erhalten."}
    assert receive_sms(callback=provider_callback(), sender=PHONE, text="Stopp", provider_id="in-1").action == "stop"
    assert "contact_sms" not in granted_purposes(reminder)
    assert Event.objects.get(patient=reminder, type="sms.received").data["keyword"] == "STOP"
    record_events(SYSTEM, [event(reminder, "m2", at + timedelta(hours=1))], source="test",
                  now=at + timedelta(hours=1))
    deliver_due(owner="w", now=at + timedelta(hours=1, minutes=1))
    assert len(gateway.sent()) == 1  # nothing more
    second = Decision.objects.latest("pk")
    assert second.outcomes[0]["result"] == "skipped" and second.outcomes[0]["reason"] == "no consent for contact_sms"
    assert receive_sms(callback=provider_callback(), sender=PHONE, text="START", provider_id="in-2").action == "start"
    assert "contact_sms" in granted_purposes(reminder)


def test_keywords_of_every_language_of_the_market():
    from sojourn.core.packs import read_pack_file, shipped_pack_paths

    packs = {p.stem: read_pack_file(p).pack.model_dump() for p in shipped_pack_paths()}
    canada = packs["ca"]["regulatory"]["sms_keywords"]
    assert keyword_of("arrêt", canada, "fr-CA") == "stop"
    assert keyword_of("STOP please", canada, "fr-CA") == "stop"  # the English keyword in a French market
    assert keyword_of("aide", canada, "fr-CA") == "help"
    assert keyword_of("停止", packs["jp"]["regulatory"]["sms_keywords"], "ja-JP") == "stop"
    assert keyword_of("Hilfe!", packs["de"]["regulatory"]["sms_keywords"], "de-DE") == "help"
    assert keyword_of("stopping by later", packs["de"]["regulatory"]["sms_keywords"], "de-DE") == ""


def test_help_is_an_event_rules_answer_and_an_unknown_number_leaves_no_trace(gateway, reminder):
    assert receive_sms(callback=provider_callback(), sender=PHONE, text="HILFE").action == "help"
    assert Event.objects.get(patient=reminder, type="sms.received").data["keyword"] == "HELP"
    before = Event.objects.count()
    assert receive_sms(callback=provider_callback(), sender="+4915112345678", text="STOP").action == "unknown_sender"
    assert Event.objects.count() == before


def enrolled_and_verified(capture, program, phone: str, **options):
    """A patient signed up on the portal with this phone number and who confirmed their email."""
    from django.core import mail

    from sojourn.consent.services.enrollment import verify_patient
    from sojourn.consent.tests.factories import SELF, enroll

    with capture(execute=True):  # the code is mailed once the enrollment commits
        patient, _record = enroll(program, "DE", phone=phone, **options)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    return verify_patient(actor=SELF, patient=patient, code=code)


@pytest.mark.parametrize("word", ["STOPP", "stop", " Abmelden "])
def test_a_german_stop_by_text_withdraws_text_messages_only(active_patient, word):
    assert receive_sms(callback=provider_callback(), sender=PHONE, text=word).action == "stop"
    assert not may_contact(active_patient, "sms", ignore_quiet_hours=True).allowed
    assert may_contact(active_patient, "email").allowed


def test_a_stop_is_the_phones_every_program_that_texts_the_number_stops(program, django_capture_on_commit_callbacks):
    from sojourn.core.tests.factories import make_program

    first = enrolled_and_verified(django_capture_on_commit_callbacks, program, PHONE)
    second = enrolled_and_verified(django_capture_on_commit_callbacks, make_program("eczema", markets=("DE",)), PHONE,
                                   email="lena@example.net")
    receive_sms(callback=provider_callback(), sender=PHONE, text="STOPP")
    assert "contact_sms" not in granted_purposes(first) and "contact_sms" not in granted_purposes(second)
    receive_sms(callback=provider_callback(), sender=PHONE, text="START")
    assert "contact_sms" in granted_purposes(first) and "contact_sms" in granted_purposes(second)


def test_start_cannot_give_back_what_was_never_agreed(program, django_capture_on_commit_callbacks):
    from sojourn.consent.errors import NotConsented
    from sojourn.consent.services.withdrawal import regrant_purpose

    patient = enrolled_and_verified(django_capture_on_commit_callbacks, program, "+4930901821",
                                    answers={"program_participation": True, "contact_email": True})
    assert receive_sms(callback=provider_callback(), sender="+4930901821", text="START").action == "start"
    assert "contact_sms" not in granted_purposes(patient)
    with pytest.raises(NotConsented, match="never covered"):
        regrant_purpose(actor=provider_callback().actor, patient=patient, purpose="contact_sms", via="sms")


def test_a_text_that_is_not_a_keyword_changes_no_consent(active_patient):
    assert receive_sms(callback=provider_callback(), sender=PHONE, text="please stop sending").action == "reply"
    assert may_contact(active_patient, "sms", ignore_quiet_hours=True).allowed


def test_a_long_name_that_pushes_a_text_over_its_budget_fails_with_the_reason(gateway, reminder):
    from sojourn.people.models import Patient
    from sojourn.people.services.patients import seal_for_patient

    patient = Patient.objects.get(pk=reminder.pk)
    long_name = seal_for_patient(patient, "given_name", "Maximiliane-Theodora von Hohenzollern-Sigmaringen")
    Patient.objects.filter(pk=patient.pk).update(given_name_sealed=long_name)
    at = noon()
    record_events(SYSTEM, [event(reminder, "m1", at)], source="test", now=at)
    deliver_due(owner="w", now=at + timedelta(minutes=1))
    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == ("dead", "2 GSM-7 segments are over the budget of 1")
    assert gateway.sent() == []


def test_inbound_and_status_reports_through_the_api_with_precise_errors(gateway, reminder, client):
    bad = post_callback(client, "/channels/sms/inbound", {"from": "030 901820", "text": "STOP"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "from"
    stop = post_callback(client, "/channels/sms/inbound", {"from": PHONE, "text": "STOPP", "id": "p-1"})
    assert (stop.status_code, stop.json()) == (200, {"received": True})
    assert "contact_sms" not in granted_purposes(reminder)
    missing = post_callback(client, "/channels/sms/status", {"id": "nope", "status": "delivered"})
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "id"


class Provider(BaseHTTPRequestHandler):
    """A provider's HTTP API on a local socket: the edge of the outside world, answering as told."""

    answers: list[tuple[int, dict]] = []
    received: list[tuple[dict, dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Provider.received.append((dict(self.headers), body))
        status, answer = Provider.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args):
        pass


def test_the_http_provider_is_sent_the_message_once_and_its_answers_are_read():
    server = HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Provider.received.clear()
    Provider.answers[:] = [(201, {"id": "prov-1"}), (503, {}), (400, {"error": "bad number"}), (200, {})]
    try:
        provider = HttpProvider(f"http://127.0.0.1:{server.server_port}", token="secret")
        sms = Sms(to=PHONE, sender="Begleiter", text="Hallo", key="out:e1:1:r:0")
        assert provider.send(sms).provider_id == "prov-1"
        headers, body = Provider.received[0]
        assert headers["Authorization"] == "Bearer secret" and headers["Idempotency-Key"] == "out:e1:1:r:0"
        assert body["to"] == PHONE and body["status_callback"].endswith("/api/v1/channels/sms/status")
        assert provider.send(sms).status == "temporary"
        refused = provider.send(sms)
        assert (refused.status, refused.error) == ("permanent", "provider answered 400")
        assert provider.send(sms).error == "provider gave no message id"
    finally:
        server.shutdown()
    assert HttpProvider("http://127.0.0.1:1", token="x").send(sms).status == "temporary"  # nobody listens


def test_a_rule_asks_a_questionnaire_by_text_and_each_reply_brings_the_next_question(gateway, program,
                                                                                     active_patient):
    from sojourn.questionnaires.models import QuestionnaireResponse
    from sojourn.questionnaires.tests.factories import approved_instrument

    phq2 = approved_instrument(program, "phq-2")
    live_rules(program, [rule("ask", {"events": ["medication.missed"]},
                              [{"do": "ask_questionnaire", "questionnaire": phq2.name, "channel": "sms"}])])
    at = noon()
    record_events(SYSTEM, [event(active_patient, "m1", at)], source="test", now=at)
    deliver_due(owner="w", now=at + timedelta(minutes=1))
    [first] = gateway.sent()
    assert "(1/2)" in first["text"]
    with time_machine.travel(at + timedelta(minutes=5), tick=False):  # the patient answers at midday
        assert receive_sms(callback=provider_callback(), sender=PHONE, text="2").action == "answer"
        deliver_due(owner="w", now=timezone.now())
        second = gateway.sent()[1]
        assert "(2/2)" in second["text"] and OutboxMessage.objects.latest("pk").lane == 0  # replies go first
        receive_sms(callback=provider_callback(), sender=PHONE, text="1")
    assert QuestionnaireResponse.objects.get(patient=active_patient).status == "completed"
