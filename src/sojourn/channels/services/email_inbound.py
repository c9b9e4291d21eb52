"""What comes back by email: a patient's reply, relayed raw by the email provider's signed webhook. A
possible adverse event in the reply's own words reaches drug safety as an intake (the quoted earlier
message never counts); the reply itself is an `email.replied` event while the patient takes part."""

from __future__ import annotations

import base64
import binascii
import hashlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.channels.inbound_mail import ReceivedMail, own_words, read_mail
from sojourn.channels.models import OutboxMessage
from sojourn.channels.services.callbacks import ProviderCallback, acted_on_before
from sojourn.channels.services.sms_inbound import Inbound
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.people.models import Patient
from sojourn.people.services.patients import email_index
from sojourn.safety.services import flag_patient_words
from sojourn.tracking.services.events import record_events

MAX_MIME = 2_000_000  # characters of the relayed message, as sent (base64 or not)
MAX_TEXT = 100_000  # characters of its text body, the quoted thread included
MAX_WORDS = 20_000  # characters of the reply's own words
ENCODINGS = ("text", "base64")


def raw_message(mime: str, encoding: str) -> bytes:
    """The message's bytes: the text as UTF-8, or base64 decoded (for 8-bit messages JSON cannot carry)."""
    if encoding not in ENCODINGS:
        raise InvalidInput(_("The encoding is text or base64."), field="encoding")
    if len(mime) > MAX_MIME:
        raise InvalidInput(_("The message must be at most 2,000,000 characters: have the provider leave out "
                             "attachments."), field="mime")
    if encoding == "text":
        return mime.encode("utf-8", "replace")
    try:
        return base64.b64decode(mime, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(_("The message is not valid base64."), field="mime") from error


def _answered(mail: ReceivedMail) -> OutboxMessage | None:
    """The email of ours the reply names in In-Reply-To or References (the latest one named)."""
    if not mail.thread:
        return None
    found = {m.provider_id: m for m in OutboxMessage.objects.select_related("patient__market").filter(
        channel="email", provider_id__in=mail.thread).exclude(patient__status=Patient.Status.ERASED)}
    return next((found[ref] for ref in mail.thread if ref in found), None)


def receive_email(*, callback: ProviderCallback, mime: str, encoding: str = "text",
                  provider_id: str = "") -> Inbound:
    """Act on an email the provider relays (the raw RFC 5322 message).

    The patient is the one whose email it answers (In-Reply-To / References naming a Message-ID Sojourn
    gave), else the latest enrollment of the From address. The message is read and checked before
    anyone is looked up, so every sender gets the same answer; each webhook id is acted on once.
    """
    mail = read_mail(raw_message(mime, encoding))
    if len(mail.text) > MAX_TEXT:
        raise InvalidInput(_("The message's text must be at most 100,000 characters."), field="mime")
    # Cut with every language Sojourn speaks, whoever sent it: the answer may not depend on the sender.
    words = own_words(mail.text, [code for code, _name in settings.LANGUAGES])
    if len(words) > MAX_WORDS:
        raise InvalidInput(_("The reply's own text must be at most 20,000 characters."), field="mime")
    sender = email_index(mail.sender)
    name = hashlib.sha256((mail.message_id or provider_id or callback.webhook_id).encode()).hexdigest()[:32]
    with transaction.atomic(durable=True):
        if acted_on_before(callback):
            return Inbound("duplicate")
        answered = _answered(mail)
        patient = answered.patient if answered else (
            Patient.objects.select_related("market").filter(email_index=sender).order_by("-created_at").first()
            if sender else None)
        if patient is None:
            return Inbound("unknown_sender")  # nothing to record: we do not keep addresses we do not know
        # A possible adverse event reaches drug safety whoever wrote from the thread (a caregiver, the
        # patient's other address) and whether or not the patient still takes part; day zero is now.
        flag_patient_words(actor=callback.actor, patient=patient, source="email", text=words,
                           day_zero=timezone.now(), idempotency_key=f"email-in:{patient.pseudonym}:{name}")
        # Only the patient's own address vouches that the patient replied (a Message-ID can be guessed).
        if patient.status == Patient.Status.ACTIVE and sender == patient.email_index:
            record_events(Actor.system("channel:email"), [{
                "client_id": f"email-in-{patient.pseudonym}-{name}", "type": "email.replied",
                "patient": patient.pseudonym, "occurred_at": timezone.now().isoformat(),
                "data": {"message": str(answered.pk) if answered else "",
                         "content": str(answered.payload.get("content", "")) if answered else ""}}], source="email")
    return Inbound("reply", patient.pseudonym)
