"""Writing to the outbox (in the caller's transaction) and cancelling what may no longer be sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.consent.queries import CHANNEL_PURPOSE


def enqueue(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Store decided messages; a key already in the outbox (the same decision made twice) is skipped."""
    if not messages:
        return []
    keys = {m.idempotency_key for m in messages}
    known = set(OutboxMessage.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    fresh, seen = [], set(known)
    for message in messages:
        if message.idempotency_key not in seen:
            seen.add(message.idempotency_key)
            fresh.append(message)
    return OutboxMessage.objects.bulk_create(fresh, batch_size=500)


def cancel_pending(*, patient_id: int, purposes: Iterable[str] | None, reason: str,
                   now: datetime | None = None) -> int:
    """Cancel what has not left yet: every channel (purposes None) or the channels of these purposes."""
    pending = OutboxMessage.objects.filter(patient_id=patient_id, status__in=["pending", "claimed"])
    if purposes is not None:
        wanted = set(purposes)
        channels = [c for c, p in CHANNEL_PURPOSE.items() if p in wanted]
        if not channels:
            return 0
        pending = pending.filter(channel__in=channels)
    return pending.update(status=OutboxMessage.Status.CANCELLED, last_error=reason[:500], lease_owner="",
                          lease_until=None, finished_at=now or timezone.now())
