"""Email through a real SMTP server (aiosmtpd, started by the test): what arrives is parsed and read
back; opens, clicks, one-click unsubscribe and bounces come back as events and consent changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sojourn.channels.models import ChannelBlock, OutboxMessage
from sojourn.channels.services.delivery import deliver_due
from sojourn.channels.tests.helpers import BASE
from sojourn.consent.queries import granted_purposes
from sojourn.consent.tests.factories import enroll
from sojourn.content.tests.factories import approved_item
from sojourn.core.models import AuditEntry
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.people.models import Patient
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.taxonomy import define_need

pytestmark = pytest.mark.django_db


@pytest.fixture
def welcome(program, active_patient):
    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"})
    approved_item(program, "welcome-mail", "email", {"de-DE": {
        "subject": "Willkommen, {given_name}", "body": "Hallo {given_name},\n\nschön, dass Sie bei {program_name} "
        "sind.\n\nMehr: https://psoriasis.example/juckreiz"}}, needs=["itch"], approval_code="DE-PSO-0101")
    live_rules(program, [rule("welcome", {"events": ["portal.page_viewed"]},
                              [{"do": "send", "channel": "email", "content": "welcome-mail"}])])
    return active_patient


def trigger(patient, client_id):
    record_events(SYSTEM, [{"client_id": client_id, "type": "portal.page_viewed", "patient": patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"page": "home"}}], source="test")


def links(text: str) -> list[str]:
    return re.findall(r"https://companion\.example(/t/[^\s\"<>]+)", text)


def test_an_email_arrives_in_german_with_the_approved_words_and_no_personal_data_in_links(smtp, welcome):
    trigger(welcome, "p1")
    report = deliver_due(owner="w", now=timezone.now())
    assert (report.sent, report.dead) == (1, 0)
    [mail] = smtp.received
    assert mail["To"] == "lena@example.org" and mail["Subject"] == "Willkommen, Lena"
    assert mail["Content-Language"] == "de-DE"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    rich = mail.get_body(("html",)).get_content()
    assert "Hallo Lena," in text and "schön, dass Sie bei Psoriasis companion sind." in text
    assert "DE-PSO-0101" in text and "E-Mails abbestellen" in text  # the footer in the patient's language
    assert '<html lang="de-DE">' in rich and "Hallo Lena," in rich
    every_url = re.findall(r"https?://[^\s\"<>]+", text + rich + mail["List-Unsubscribe"])
    assert every_url and not [u for u in every_url if "lena" in u.lower() or "hoffmann" in u.lower()
                              or welcome.pseudonym in u]
    assert "psoriasis.example/juckreiz" not in text  # the link goes through the tracked address
    message = OutboxMessage.objects.get()
    assert message.provider_id == mail["Message-ID"].strip() and message.delivery_status == "sent"


def test_opens_and_clicks_become_events_and_the_click_reaches_the_page(smtp, welcome, client):
    trigger(welcome, "p1")
    deliver_due(owner="w", now=timezone.now())
    [mail] = smtp.received
    rich = mail.get_body(("html",)).get_content()
    pixel = next(u for u in links(rich) if u.startswith("/t/o/"))
    click = next(u for u in links(mail.get_body(("plain",)).get_content()) if u.startswith("/t/c/"))
    assert client.get(pixel)["Content-Type"] == "image/gif"
    client.get(pixel)  # a second open of the same message is the same event
    response = client.get(click)
    assert response.status_code == 302 and response["Location"] == "https://psoriasis.example/juckreiz"
    opened = Event.objects.filter(patient=welcome, type="email.opened")
    clicked = Event.objects.get(patient=welcome, type="email.clicked")
    assert opened.count() == 1 and clicked.data["needs"] == ["itch"]
    assert clicked.data["link"] == "https://psoriasis.example/juckreiz"
    assert client.get(click[:-5] + "xyz/").status_code == 404  # a tampered link goes nowhere


def test_one_click_unsubscribe_withdraws_email_consent_and_stops_email(smtp, welcome):
    trigger(welcome, "p1")
    deliver_due(owner="w", now=timezone.now())
    unsubscribe = re.sub(r"\s+", "", str(smtp.received[0]["List-Unsubscribe"])).strip("<>").removeprefix(BASE)
    provider = Client(enforce_csrf_checks=True)  # a mail provider's POST has no CSRF token
    asked = provider.get(unsubscribe)
    assert asked.status_code == 200 and '<form method="post">' in asked.content.decode()
    assert "contact_email" in granted_purposes(welcome)  # looking is not unsubscribing
    response = provider.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "contact_email" not in granted_purposes(welcome)
    trigger(welcome, "p2")
    deliver_due(owner="w", now=timezone.now())
    assert len(smtp.received) == 1  # nothing more by email
    assert not OutboxMessage.objects.filter(status="pending").exists()


def test_a_hard_bounce_stops_the_address(smtp, welcome, cast, client):
    from sojourn.channels.tests.providers import post_callback
    from sojourn.people.tests.api import Api

    trigger(welcome, "p1")
    deliver_due(owner="w", now=timezone.now())
    message = OutboxMessage.objects.get()
    bounce = {"provider_id": message.provider_id, "bounce": "hard"}
    staff = Api(client, cast.admin).post("/channels/email/bounces", bounce)
    assert staff.status_code == 401  # only the provider's signed callback reports a bounce
    answer = post_callback(client, "/channels/email/bounces", bounce, source="email", webhook_id="bounce-1")
    assert answer.status_code == 200 and answer.json()["delivery_status"] == "bounced"
    assert ChannelBlock.objects.filter(patient=welcome, channel="email").exists()
    assert Event.objects.filter(patient=welcome, type="email.bounced").count() == 1
    entry = AuditEntry.objects.get(action="email.bounced")
    assert (entry.actor_kind, entry.actor_label) == ("system", "email provider callback bounce-1")
    wrong = post_callback(client, "/channels/email/bounces", {"provider_id": "<nope@x>", "bounce": "hard"},
                          source="email")
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "provider_id"
    trigger(welcome, "p2")
    deliver_due(owner="w", now=timezone.now())
    second = OutboxMessage.objects.latest("pk")
    assert second.status == "dead" and second.last_error.startswith("address bounced (hard)")
    assert len(smtp.received) == 1


def test_the_server_refusing_a_recipient_fails_for_good_and_a_server_down_is_retried(smtp, welcome, settings):
    smtp.refuse["lena@example.org"] = "550 5.1.1 No such user"
    trigger(welcome, "p1")
    deliver_due(owner="w", now=timezone.now())
    refused = OutboxMessage.objects.get()
    assert (refused.status, refused.last_error) == ("dead", "recipient refused (550)")
    settings.EMAIL_PORT = 1  # nothing listens there
    trigger(welcome, "p2")
    report = deliver_due(owner="w", now=timezone.now())
    assert report.retried == 1
    retried = OutboxMessage.objects.latest("pk")
    assert retried.status == "pending" and retried.last_error.startswith("SMTP unavailable")


def test_one_patient_whose_address_does_not_open_holds_back_no_one_else(smtp, welcome, program, caplog):
    damaged, _record = enroll(program, "DE", email="damaged@example.org")
    Patient.objects.filter(pk=damaged.pk).update(status="active", verified_at=timezone.now(),
                                                 email_sealed=b"not a sealed value")
    trigger(welcome, "p1")
    trigger(Patient.objects.get(pk=damaged.pk), "p2")
    report = deliver_due(owner="w", now=timezone.now())
    assert (report.sent, report.dead, report.retried) == (1, 1, 0)
    assert [m["To"] for m in smtp.received] == ["lena@example.org"]
    failed = OutboxMessage.objects.get(patient=damaged)
    assert (failed.status, failed.last_error) == ("dead", "the patient's contact details cannot be read")
    assert damaged.pseudonym in caplog.text and "damaged@example.org" not in caplog.text
