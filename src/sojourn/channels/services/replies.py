"""What patients and providers send back on a channel becomes events and consent changes: email
opens, clicks, unsubscribes and bounces (and, with the SMS channel, replies and keywords)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.channels.models import ChannelBlock, OutboxMessage
from sojourn.channels.services.callbacks import ProviderCallback, acted_on_before
from sojourn.consent.portal import patient_actor
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.content.models import ContentItem
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.tracking.services.events import record_events

CHANNEL = Actor.system("channel:email")


def _message(message_id: int) -> OutboxMessage | None:
    return OutboxMessage.objects.select_related("patient").filter(pk=message_id, channel="email").first()


def _event(message: OutboxMessage, kind: str, client_id: str, **data: object) -> None:
    """Recorded by the channel; refused quietly (as every event) once the patient has withdrawn."""
    content = str(message.payload.get("content", ""))
    record_events(CHANNEL, [{"client_id": client_id, "type": kind, "patient": message.patient.pseudonym,
                             "occurred_at": timezone.now().isoformat(),
                             "data": {"message": str(message.pk), "content": content, **data}}], source="email")


def email_opened(*, message_id: int) -> None:
    message = _message(message_id)
    if message is not None:  # one open per message counts (a replay of the pixel is a duplicate)
        _event(message, "email.opened", f"email-open-{message.pk}")


def email_clicked(*, message_id: int, url: str, link_key: str) -> None:
    message = _message(message_id)
    if message is None:
        return
    code = str(message.payload.get("content", ""))
    needs = list(ContentItem.objects.filter(program_id=message.program_id, code=code)
                 .values_list("needs", flat=True).first() or [])
    _event(message, "email.clicked", f"email-click-{message.pk}-{link_key}", link=url[:500], needs=needs)


def unsubscribe_email(*, message_id: int) -> bool:
    """One click: the patient's consent to email withdrawn, as if they had done it in the portal."""
    message = _message(message_id)
    if message is None or message.patient.status != Patient.Status.ACTIVE:
        return False
    withdraw_consent(actor=patient_actor(message.patient), patient=message.patient, purposes=["contact_email"],
                     via="email", reason="one-click unsubscribe")
    return True


def record_bounce(*, callback: ProviderCallback, provider_id: str, bounce: str, detail: str = "") -> OutboxMessage:
    """A provider's bounce report: the message is marked, the event recorded, and after a hard bounce
    the address is not tried again. The provider's callback is the actor on record."""
    if bounce not in {"hard", "soft"}:
        raise InvalidInput(_("A bounce is hard or soft."), field="bounce")
    message = OutboxMessage.objects.select_related("patient__market").filter(
        provider_id=provider_id.strip(), channel="email").first()
    if message is None:
        raise InvalidInput(_("No email was sent with this message id."), field="provider_id")
    actor = callback.actor
    with transaction.atomic(durable=True):
        if acted_on_before(callback):
            message.refresh_from_db()
            return message
        OutboxMessage.objects.filter(pk=message.pk).update(delivery_status="bounced")
        if bounce == "hard":
            ChannelBlock.objects.get_or_create(patient=message.patient, channel="email", defaults={
                "reason": f"address bounced (hard) on {timezone.now().date()}", "since": timezone.now()})
        record_audit(actor=actor, action="email.bounced", subject_type="patient",
                     subject_id=message.patient.pseudonym, program_id=message.program_id,
                     after={"message": message.pk, "bounce": bounce, "detail": detail[:200]})
    _event(message, "email.bounced", f"email-bounce-{message.pk}-{bounce}", bounce=bounce)
    message.refresh_from_db()
    return message
