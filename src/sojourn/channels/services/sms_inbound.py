"""What comes back by text message: STOP/START/HELP in every language of the market pack, answers to
a questionnaire asked by SMS, other replies, and the provider's delivery reports. A STOP withdraws
consent to text messages at once (pending messages are cancelled in the same transaction)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.channels.models import OutboxMessage
from sojourn.channels.services.callbacks import ProviderCallback, acted_on_before
from sojourn.channels.services.outbox import enqueue
from sojourn.consent.errors import NotConsented
from sojourn.consent.services.withdrawal import regrant_purpose, withdraw_consent
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import QueuedWork
from sojourn.people.models import Patient
from sojourn.people.services.patients import phone_index
from sojourn.questionnaires.services.sms_dialogue import answer_by_sms
from sojourn.safety.services import flag_patient_words
from sojourn.tracking.services.events import record_events

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# A delivery report never moves a message back: delivered is not overwritten by sent.
STATUS_ORDER = {"": 0, "sent": 1, "failed": 2, "delivered": 3}


@dataclass(frozen=True)
class Inbound:
    action: str  # stop, start, help, answer, reply, unknown_sender, duplicate
    patient: str = ""  # pseudonym


def keyword_of(text: str, keywords: dict[str, dict[str, list[str]]], locale: str) -> str:
    """stop, start, help or "": the reply's first word against the keywords of the patient's language
    first, then of every language of the market (a French Canadian may answer in English)."""
    word = re.sub(r"[\s.!。!?？]+$", "", text.strip().split()[0] if text.strip() else "").casefold()
    ordered = [keywords.get(locale, {}), *(v for k, v in sorted(keywords.items()) if k != locale)]
    for table in ordered:
        for action in ("stop", "start", "help"):
            if word in {k.casefold() for k in table.get(action, [])}:
                return action
    return ""


def receive_sms(*, callback: ProviderCallback, sender: str, text: str, provider_id: str = "") -> Inbound:
    """Act on a text message the provider relays from a phone number.

    The provider is the actor on record for a STOP or START (only its signed callback vouches for the
    phone; the patient never authenticated), and each webhook id is acted on once. What is returned
    stays inside Sojourn: the API answers every sender alike.
    """
    if not isinstance(sender, str) or not E164.match(sender.strip()):
        raise InvalidInput(_("The sender must be a phone number in E.164 form, such as +4930901820."), field="from")
    if not isinstance(text, str) or len(text) > 1600:
        raise InvalidInput(_("The text must be at most 1,600 characters."), field="text")
    actor = callback.actor
    with transaction.atomic(durable=True):
        if acted_on_before(callback):
            return Inbound("duplicate")
        enrolled = list(Patient.objects.select_related("market", "program")
                        .filter(phone_index=phone_index(sender.strip())).order_by("-created_at"))
        if not enrolled:
            return Inbound("unknown_sender")  # nothing to record: we do not keep numbers we do not know
        patient = enrolled[0]  # the latest enrollment speaks for the reply
        keywords = patient.market.pack.get("regulatory", {}).get("sms_keywords", {})
        action = keyword_of(text, keywords, patient.locale)
        # A STOP is the phone's: every program that texts this number stops (and START gives each back).
        for each in enrolled if action in {"stop", "start"} else ():
            if each.status != Patient.Status.ACTIVE:
                continue
            try:
                with transaction.atomic():
                    if action == "stop":
                        withdraw_consent(actor=actor, patient=each, purposes=["contact_sms"], via="sms",
                                         reason="STOP by text message")
                    else:
                        regrant_purpose(actor=actor, patient=each, purpose="contact_sms", via="sms")
            except NotConsented:
                continue  # nothing on record to stop or give back here: the reply is still an event below
        prompt = None if action else answer_by_sms(patient=patient, text=text)
        if prompt:
            now = timezone.now()
            enqueue([{"program": patient.program_id, "patient": patient.pk, "channel": "sms", "kind": "questionnaire",
                      "payload": {"text": prompt}, "due_at": now, "lane": int(QueuedWork.Lane.URGENT),
                      "idempotency_key": f"sms-q:{uuid.uuid4().hex}", "created_at": now}])
        # Whatever else the text is (a STOP, an answer, a withdrawn patient's), a possible adverse event
        # in it reaches drug safety; day zero is now, when the program received it.
        # A free reply the lists do not flag is read by a person (a keyword or an answer is not free text).
        flag_patient_words(actor=actor, patient=patient, source="sms", text=text, day_zero=timezone.now(),
                           idempotency_key=f"sms-in:{provider_id or callback.webhook_id}",
                           screen=not action and prompt is None)
        if patient.status == Patient.Status.ACTIVE:
            record_events(Actor.system("channel:sms"), [{
                "client_id": f"sms-in-{provider_id or callback.webhook_id}"[:80], "type": "sms.received",
                "patient": patient.pseudonym, "occurred_at": timezone.now().isoformat(),
                "data": {"keyword": action.upper(), "message": provider_id[:120]}}], source="sms")
    return Inbound(action or ("answer" if prompt is not None else "reply"), patient.pseudonym)


def sms_status(*, callback: ProviderCallback, provider_id: str, status: str) -> OutboxMessage:
    """The provider's delivery report for a message it accepted (a report moves a status forward only,
    so a retried report changes nothing)."""
    if status not in {"delivered", "failed"}:
        raise InvalidInput(_("The status is delivered or failed."), field="status")
    message = OutboxMessage.objects.select_related("patient__market").filter(
        channel="sms", provider_id=provider_id.strip()).first()
    if message is None:
        raise InvalidInput(_("No text message was sent with this id."), field="id")
    if STATUS_ORDER[status] > STATUS_ORDER.get(message.delivery_status, 0):
        OutboxMessage.objects.filter(pk=message.pk).update(delivery_status=status)
        if status == "delivered" and message.patient.status == Patient.Status.ACTIVE:
            record_events(Actor.system("channel:sms"), [{
                "client_id": f"sms-delivered-{message.pk}", "type": "sms.delivered",
                "patient": message.patient.pseudonym, "occurred_at": timezone.now().isoformat(),
                "data": {"message": str(message.pk), "content": str(message.payload.get("content", ""))}}],
                source="sms")
    message.refresh_from_db()
    return message
