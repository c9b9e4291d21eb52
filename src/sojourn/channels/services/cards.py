"""Cards on the personal page: the patient may put away a card a rule sent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sojourn.channels.models import PortalCard
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied
from sojourn.core.services.audit import record_audit


def dismiss_card(*, actor: Actor, card: PortalCard) -> PortalCard:
    if actor.kind != "patient" or actor.label != card.patient.pseudonym:
        raise AccessDenied()
    with transaction.atomic(durable=True):
        PortalCard.objects.filter(pk=card.pk, dismissed_at__isnull=True).update(dismissed_at=timezone.now())
        record_audit(actor=actor, action="portal_card.put_away", subject_type="patient",
                     subject_id=card.patient.pseudonym, program_id=card.program_id,
                     after={"content": card.content_code})
    card.refresh_from_db()
    return card
