"""At send time the words are resolved again: withdrawn, expired or untranslated content fails the
message for good, with the reason, and nothing of it leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.channels.adapters import RECORDING
from sojourn.channels.models import OutboxMessage, PortalCard, RecordedDelivery
from sojourn.channels.services.delivery import deliver_due
from sojourn.content.models import ContentVersion
from sojourn.content.services.review import withdraw
from sojourn.content.tests.factories import approved_item, reviewer
from sojourn.core.models import AuditEntry
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.people.services.patients import open_for_delivery
from sojourn.tracking.services.events import record_events

pytestmark = pytest.mark.django_db



@pytest.fixture(autouse=True)
def _recording_channels(settings):
    """Email and text messages land in the recording channel here: these tests are about deciding and
    delivering once, not about SMTP or an SMS provider (their own tests use those)."""
    settings.SOJOURN_CHANNEL_ADAPTERS = {"email": RECORDING, "sms": RECORDING}

def view(patient, client_id):
    return {"client_id": client_id, "type": "content.viewed", "patient": patient.pseudonym,
            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(), "data": {"content": "welcome"}}


def test_web_content_becomes_a_card_and_other_channels_carry_the_approved_words(program, active_patient):
    approved_item(program, "itch-tips", "tip", {"de-DE": {"title": "Juckreiz", "body": "Kühlen hilft."}},
                  approval_code="DE-PSO-0042")
    live_rules(program, [rule("r", {"events": ["content.viewed"]}, [
        {"do": "send", "channel": "web", "content": "itch-tips"},
        {"do": "send", "channel": "email", "content": "itch-tips"}])])
    record_events(SYSTEM, [view(active_patient, "v1")], source="test")
    report = deliver_due(owner="w", now=timezone.now())
    assert (report.sent, report.dead) == (2, 0)
    card = PortalCard.objects.get()
    assert (card.patient_id, card.content_code, card.rule_key) == (active_patient.pk, "itch-tips", "r")
    recorded = RecordedDelivery.objects.get(channel="email")
    assert (recorded.payload["approval_code"], recorded.payload["locale"]) == ("DE-PSO-0042", "de-DE")


def test_content_withdrawn_after_the_decision_is_never_sent(program, active_patient):
    approved_item(program, "itch-tips", "tip", {"de-DE": {"title": "Juckreiz", "body": "Kühlen hilft."}})
    live_rules(program, [rule("r", {"events": ["content.viewed"]},
                              [{"do": "send", "channel": "email", "content": "itch-tips"}])])
    record_events(SYSTEM, [view(active_patient, "v1")], source="test")
    withdraw(actor=reviewer(program), version=ContentVersion.objects.get(item__code="itch-tips"), reason="recall")
    report = deliver_due(owner="w", now=timezone.now())
    assert (report.sent, report.dead) == (0, 1)
    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == ("dead", "itch-tips has no approved version")
    assert not RecordedDelivery.objects.exists()


def test_content_without_the_patients_language_is_never_sent_in_another(program, active_patient):
    approved_item(program, "sleep-tips", "tip", {"en-GB": {"title": "Sleep", "body": "Keep cool at night."}})
    live_rules(program, [rule("r", {"events": ["content.viewed"]},
                              [{"do": "send", "channel": "email", "content": "sleep-tips"}])])
    record_events(SYSTEM, [view(active_patient, "v1")], source="test")
    deliver_due(owner="w", now=timezone.now())
    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == ("dead", "sleep-tips v1 has no approved de-DE text")
    assert not RecordedDelivery.objects.exists()


def test_opening_contact_details_for_delivery_is_for_the_system_and_audited(active_patient):
    from sojourn.content.tests.factories import author
    from sojourn.core.errors import AccessDenied

    opened = open_for_delivery(actor=SYSTEM, patient_ids=[active_patient.pk], fields=("given_name", "phone"),
                               purpose="sms delivery")
    assert opened[active_patient.pk]["given_name"] == "Lena"
    entry = AuditEntry.objects.filter(action="pii.read").latest("pk")
    assert entry.after == {"purpose": "sms delivery", "fields": ["given_name", "phone"],
                           "patients": [active_patient.pseudonym]}
    with pytest.raises(AccessDenied):
        open_for_delivery(actor=author(active_patient.program), patient_ids=[active_patient.pk],
                          fields=("given_name",), purpose="curious")


@pytest.mark.parametrize("action", [
    {"do": "send", "channel": "email", "content": "itch-tips"},
    {"do": "send", "channel": "sms", "content": "itch-tips"},
    {"do": "send", "channel": "web", "content": "itch-tips"},
    {"do": "print", "content": "itch-tips"},
])
def test_every_channel_refuses_words_that_are_no_longer_approved(program, active_patient, action):
    from sojourn.channels.models import PrintBlock

    approved_item(program, "itch-tips", "tip", {"de-DE": {"title": "Juckreiz", "body": "Kühlen hilft."}})
    live_rules(program, [rule("r", {"events": ["content.viewed"]}, [action])])
    at = timezone.now().replace(hour=11, minute=0)  # midday in Berlin: no quiet hours
    record_events(SYSTEM, [dict(view(active_patient, "v1"), occurred_at=(at - timedelta(minutes=1)).isoformat())],
                  source="test", now=at)
    withdraw(actor=reviewer(program), version=ContentVersion.objects.get(item__code="itch-tips"), reason="recall")
    deliver_due(owner="w", now=at + timedelta(minutes=1))
    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == ("dead", "itch-tips has no approved version")
    assert not RecordedDelivery.objects.exists() and not PrintBlock.objects.exists()
    assert not PortalCard.objects.exists()


def test_caps_are_checked_again_when_messages_leave(program, active_patient):
    from sojourn.channels.services.outbox import enqueue

    approved_item(program, "itch-tips", "tip", {"de-DE": {"title": "Juckreiz", "body": "Kühlen hilft."}})
    at = timezone.now().replace(hour=11, minute=0)
    enqueue([{"program": program.pk, "patient": active_patient.pk, "channel": "email", "kind": "content",
              "payload": {"content": "itch-tips", "cap": {"day": 1}}, "due_at": at, "idempotency_key": f"k{n}",
              "created_at": at} for n in range(2)])  # two deferred messages meeting after the quiet hours
    report = deliver_due(owner="w", now=at + timedelta(minutes=1))
    assert (report.sent, report.cancelled) == (1, 1)
    cancelled = OutboxMessage.objects.get(status="cancelled")
    assert cancelled.last_error == "cap at send time: 1 email a day"
    assert RecordedDelivery.objects.count() == 1
