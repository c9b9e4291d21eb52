"""Email replies through the provider's signed webhook: a side effect named in the reply's own words, in
German, English, French or Japanese, becomes an open safety intake with the words sealed; the quoted
earlier message never flags; the patient is found by the thread, else by the sender; strangers leave no
trace; a replay acts once; bad input is refused naming the field and writes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.channels.services.callbacks import ProviderCallback
from sojourn.channels.services.delivery import deliver_due
from sojourn.channels.services.email_inbound import MAX_MIME, receive_email
from sojourn.channels.services.sms_inbound import receive_sms
from sojourn.channels.tests.providers import post_callback, reply_mime
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.content.tests.factories import approved_item
from sojourn.core.models import WebhookReceipt
from sojourn.core.permissions import Role
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.people.models import Patient
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_patient, make_staff
from sojourn.safety.models import Intake
from sojourn.safety.services import read_intake_words
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import record_events

pytestmark = pytest.mark.django_db
INBOUND = "/channels/email/inbound"
LENA = "lena@example.org"  # the active patient's address
# A patient per language, where that language is spoken (a French speaker in Canada).
PEOPLE = {"de": ("DE", "de-DE", "jonas@example.de"), "en": ("US", "en-US", "sam@example.com"),
          "fr": ("CA", "fr-CA", "chloe@example.ca"), "ja": ("JP", "ja-JP", "hanako@example.jp")}
SIDE_EFFECT = {"de": "Seit der zweiten Spritze habe ich einen juckenden Ausschlag am Arm.",
               "en": "Since the second injection I have had a bad headache every morning.",
               "fr": "J'ai des nausées depuis la dernière injection.",
               "ja": "二回目の注射から頭痛が続いています。"}
THANKS = {"de": "Danke für die Tipps!", "en": "Thank you, the tips were helpful.",
          "fr": "Merci pour les conseils.", "ja": "ありがとうございます。"}
EARLIER = {"de": "Bei Kopfschmerzen oder Ausschlag melden Sie sich bitte.",
           "en": "If you notice a rash, a headache or nausea, tell your doctor.",
           "fr": "Si vous avez des nausées ou des maux de tête, parlez-en à votre médecin.",
           "ja": "発疹や頭痛が出たら医師に相談してください。"}
CORPORA = Path(__file__).parents[2] / "safety" / "tests" / "data"


def post_reply(client, mime: str, **options):
    return post_callback(client, INBOUND, {"mime": mime, "id": "in-1"}, source="email", **options)


def officer(program):
    return actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program))


@pytest.fixture
def sent(smtp, program, active_patient):
    """An email the program sent Lena through SMTP: (the mail as she received it, its outbox message)."""
    approved_item(program, "itch-tips", "email", {"de-DE": {
        "subject": "Tipps", "body": "Hallo {given_name},\n\n" + EARLIER["de"]}}, approval_code="DE-PSO-0102")
    live_rules(program, [rule("tips", {"events": ["portal.page_viewed"]},
                              [{"do": "send", "channel": "email", "content": "itch-tips"}])])
    record_events(SYSTEM, [{"client_id": "p1", "type": "portal.page_viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"page": "home"}}], source="test")
    assert deliver_due(owner="w", now=timezone.now()).sent == 1
    [mail] = smtp.received
    return mail, OutboxMessage.objects.get(channel="email")


@pytest.mark.parametrize("lang", sorted(PEOPLE))
def test_a_reply_naming_a_side_effect_becomes_an_open_intake_with_the_words_sealed(client, program, lang):
    country, locale, address = PEOPLE[lang]
    patient = make_patient(program, country, email=address, locale=locale)
    mime = reply_mime(SIDE_EFFECT[lang], sender=address, quoted=EARLIER[lang], lang=lang)
    answer = post_reply(client, mime)
    assert (answer.status_code, answer.json()) == (200, {"received": True})
    intake = Intake.objects.get()
    assert (intake.patient_id, intake.source, intake.status) == (patient.pk, "email", "open")
    assert intake.detail["terms"] and intake.day_zero <= timezone.now()
    assert SIDE_EFFECT[lang].encode() not in bytes(intake.words_sealed)
    assert read_intake_words(actor=officer(program), intake=intake) == SIDE_EFFECT[lang]  # the quote cut off


@pytest.mark.parametrize("lang", sorted(PEOPLE))
def test_a_side_effect_named_only_in_the_quoted_earlier_message_flags_nothing_in_text_or_html(client, program, lang):
    country, locale, address = PEOPLE[lang]
    make_patient(program, country, email=address, locale=locale)
    assert post_reply(client, reply_mime(THANKS[lang], sender=address, quoted=EARLIER[lang], lang=lang)
                      ).status_code == 200
    html_only = reply_mime("", sender=address, html=f"<div>{THANKS[lang]}</div><blockquote>{EARLIER[lang]}"
                                                    "</blockquote>")
    assert "text/plain" not in html_only
    assert post_reply(client, html_only).status_code == 200
    assert not Intake.objects.exists()
    html_side_effect = reply_mime("", sender=address, html=f"<p>{SIDE_EFFECT[lang]}</p><blockquote>{EARLIER[lang]}"
                                                           "</blockquote>")
    assert post_reply(client, html_side_effect).status_code == 200
    assert Intake.objects.get().source == "email"


def test_the_thread_names_the_patient_and_program_the_reply_answers(client, program, sent, active_patient):
    """Lena later enrolled in a second program with the same address: her sender address alone would name
    that enrollment, but her reply answers the first program's email."""
    from sojourn.core.tests.factories import make_program

    mail, message = sent
    later = make_patient(make_program("eczema", markets=("DE",)), "DE", email=LENA)
    by_thread = reply_mime("Seit gestern Kopfweh.", sender=LENA, in_reply_to=mail["Message-ID"],
                           quoted=EARLIER["de"], lang="de")
    by_sender = reply_mime("Seit gestern Kopfweh.", sender=LENA)
    assert post_reply(client, by_thread).status_code == post_reply(client, by_sender).status_code == 200
    assert sorted(Intake.objects.values_list("patient_id", flat=True)) == sorted([active_patient.pk, later.pk])
    [event] = Event.objects.filter(type="email.replied")  # the later enrollment is not active yet
    assert (event.patient_id, event.data) == (active_patient.pk, {"message": str(message.pk), "content": "itch-tips"})


def test_a_reply_in_the_thread_from_another_address_reaches_drug_safety_but_is_no_event(client, sent,
                                                                                          active_patient):
    mail, _message = sent
    caregiver = reply_mime("Meine Frau hat seit gestern Kopfweh.", sender="jan@example.net",
                           in_reply_to=mail["Message-ID"])
    assert post_reply(client, caregiver).status_code == 200
    assert Intake.objects.get().patient_id == active_patient.pk
    assert not Event.objects.filter(type="email.replied").exists()


def test_the_sender_names_the_active_patient_and_the_reply_is_an_event_rules_can_answer(client, active_patient):
    assert post_reply(client, reply_mime("Danke!", sender=f"Lena Hoffmann <{LENA.upper()}>")).status_code == 200
    event = Event.objects.get(type="email.replied")
    assert (event.patient_id, event.data) == (active_patient.pk, {"message": "", "content": ""})
    assert not Intake.objects.exists()


def test_free_replies_the_lists_do_not_flag_wait_for_a_person_keywords_do_not(client, active_patient):
    """By email and by text message: a free reply with no flagged word is screened by a person (the lists
    miss words); a STOP is a keyword, not free text."""
    from sojourn.safety.models import Screening

    assert post_reply(client, reply_mime("Meine Fingernägel brechen ständig ab.", sender=LENA)).status_code == 200
    assert post_callback(client, "/channels/sms/inbound", {"from": "+4930901820", "text": "Wann kommt das Heft?",
                                                           "id": "sms-free"}).status_code == 200
    assert post_callback(client, "/channels/sms/inbound", {"from": "+4930901820", "text": "STOP",
                                                           "id": "sms-stop"}).status_code == 200
    assert sorted(Screening.objects.values_list("source", flat=True)) == ["email", "sms"]
    assert not Intake.objects.exists()


def test_an_unknown_sender_leaves_no_trace_and_gets_the_same_answer(client, active_patient):
    known = post_reply(client, reply_mime("Seit gestern Kopfweh.", sender=LENA))
    Intake.objects.all().delete()
    Event.objects.filter(type="email.replied").delete()
    unknown = post_reply(client, reply_mime("Seit gestern Kopfweh.", sender="stranger@example.net",
                                            in_reply_to="<sojourn-0000@sponsor.example>"))
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (200, b'{"received": true}')
    assert active_patient.pseudonym.encode() not in known.content
    assert not Intake.objects.exists() and not Event.objects.filter(type="email.replied").exists()


def test_the_same_webhook_or_the_same_email_again_acts_once(client, active_patient):
    mime = reply_mime("Seit gestern Kopfweh.", sender=LENA, message_id="<r-1@mail.example>")
    for webhook_id in ("msg_1", "msg_1", "msg_2"):  # a retry, then the provider relaying it again
        assert post_reply(client, mime, webhook_id=webhook_id).status_code == 200
    assert Intake.objects.count() == 1 and Event.objects.filter(type="email.replied").count() == 1
    assert WebhookReceipt.objects.filter(source="email").count() == 2


@pytest.mark.parametrize(("payload", "field"), [
    ({"id": "in-1"}, "mime"),
    ({"mime": ""}, "mime"),
    ({"mime": "x" * (MAX_MIME + 1)}, "mime"),
    ({"mime": "hello, this is not an email: Kopfweh"}, "mime"),
    ({"mime": "Subject: Kopfweh\n\nno sender"}, "mime"),
    ({"mime": "From: lena@example.org\n\nKopfweh", "encoding": "base64"}, "mime"),
    ({"mime": "From: lena@example.org\n\nKopfweh", "encoding": "uuencode"}, "encoding"),
    ({"mime": "From: lena@example.org\n\n" + "Kopfweh " * 3000}, "mime"),  # own words past 20,000
    ({"mime": "From: lena@example.org\n\n" + "> Kopfweh\n" * 11000}, "mime"),  # a text past 100,000
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(client, active_patient, payload, field):
    answer = post_callback(client, INBOUND, payload, source="email")
    assert answer.status_code == 422, answer.content
    assert field in [d["field"] for d in answer.json()["error"]["details"]]
    assert not Intake.objects.exists() and not Event.objects.filter(type="email.replied").exists()
    assert not WebhookReceipt.objects.exists()


def test_a_multipart_reply_with_a_photo_flags_the_words_and_keeps_no_attachment(client, program, active_patient):
    photo = b"\xff\xd8\xff\xe0JFIF-Ausschlag-photo"
    mime = reply_mime("Seit gestern Ausschlag, Foto anbei.", sender=LENA, attachment=photo,
                      html="<p>Seit gestern <b>Ausschlag</b>, Foto anbei.</p>")
    assert post_reply(client, mime).status_code == 200
    intake = Intake.objects.get()
    assert read_intake_words(actor=officer(program), intake=intake) == "Seit gestern Ausschlag, Foto anbei."
    assert b"JFIF" not in bytes(intake.words_sealed) and len(bytes(intake.words_sealed)) < 200


def test_a_8bit_message_sent_as_base64_is_read(client, active_patient):
    import base64

    raw = "From: lena@example.org\nContent-Type: text/plain; charset=utf-8\n\nÜbelkeit seit gestern\n".encode()
    answer = post_callback(client, INBOUND, {"mime": base64.b64encode(raw).decode(), "encoding": "base64"},
                           source="email")
    assert answer.status_code == 200 and Intake.objects.get().source == "email"


def test_a_withdrawn_patients_side_effect_still_reaches_drug_safety(client, active_patient):
    withdraw_consent(actor=SYSTEM, patient=active_patient, purposes=None, via="portal", reason="test")
    assert Patient.objects.get(pk=active_patient.pk).status == Patient.Status.WITHDRAWN
    assert post_reply(client, reply_mime("Seit gestern Kopfweh.", sender=LENA)).status_code == 200
    assert Intake.objects.get().patient_id == active_patient.pk
    assert not Event.objects.filter(type="email.replied").exists()


@pytest.mark.parametrize("corpus", ["ae_corpus.yaml", "ae_corpus_heldout.yaml"])
def test_the_email_door_flags_what_the_sms_door_flags_with_a_side_effect_quoted_beneath(program, corpus):
    """The multilingual corpus of tests/test_adverse_event_corpus.py, each message sent once by text and
    once as an email reply quoting an earlier message full of side effects: the same messages flag."""
    messages = yaml.safe_load((CORPORA / corpus).read_text(encoding="utf-8"))
    phones = {"de": "+4930901820", "en": "+12025550143", "fr": "+16135550123", "ja": "+819012345678"}
    for lang, (country, locale, address) in PEOPLE.items():
        make_patient(program, country, phone=phones[lang], email=address, locale=locale)
    flagged: dict[str, set[int]] = {"sms": set(), "email": set()}
    for n, message in enumerate(messages):
        lang = message["lang"]
        receive_sms(callback=ProviderCallback("sms", f"sms-{n}"), sender=phones[lang], text=message["text"])
        before = Intake.objects.filter(source="email").count()
        receive_email(callback=ProviderCallback("email", f"email-{n}"), mime=reply_mime(
            message["text"], sender=PEOPLE[lang][2], quoted=EARLIER[lang], lang=lang,
            message_id=f"<corpus-{n}@mail.example>"))
        if Intake.objects.filter(idempotency_key=f"sms-in:sms-{n}").exists():
            flagged["sms"].add(n)
        if Intake.objects.filter(source="email").count() > before:
            flagged["email"].add(n)
    assert flagged["email"] == flagged["sms"], {
        "only by email": [messages[i]["text"] for i in flagged["email"] - flagged["sms"]],
        "only by text": [messages[i]["text"] for i in flagged["sms"] - flagged["email"]]}
    adverse = Counter(m["label"] != "none" for m in messages)
    assert sum(1 for i in flagged["email"] if messages[i]["label"] != "none") >= 0.95 * adverse[True]
    reader = officer(program)
    words = {read_intake_words(actor=reader, intake=i) for i in Intake.objects.filter(source="email")}
    assert words == {messages[i]["text"].strip() for i in flagged["email"]}
