"""Writing to the outbox (in the caller's transaction) and cancelling what may no longer be sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.consent.queries import CHANNEL_PURPOSE
from sojourn.core.db import insert_rows

OUTBOX_FIELDS = ["program", "patient", "channel", "kind", "payload", "decision_key", "rule_key", "due_at", "lane",
                 "idempotency_key", "created_at", "status", "attempts", "lease_owner", "last_error", "delivery_status",
                 "provider_id"]


def enqueue(rows: list[dict[str, Any]]) -> None:
    """Store decided messages in the caller's transaction; a key already in the outbox (the same decision
    made twice) is skipped by the database, so a replay never queues a second message."""
    defaults = {"status": "pending", "attempts": 0, "lease_owner": "", "last_error": "", "delivery_status": "",
                "provider_id": "", "decision_key": "", "rule_key": "", "lane": 1}
    insert_rows(OutboxMessage, OUTBOX_FIELDS, [[{**defaults, **row}[f] for f in OUTBOX_FIELDS] for row in rows],
                skip_conflicts_on="idempotency_key")


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
    return _cancel(pending, reason, now)


def cancel_messages(*, keys: Iterable[str], reason: str, now: datetime | None = None) -> int:
    """Cancel these messages (by idempotency key) if they have not left yet."""
    return _cancel(OutboxMessage.objects.filter(idempotency_key__in=list(keys), status__in=["pending", "claimed"]),
                   reason, now)


def _cancel(pending: QuerySet[OutboxMessage], reason: str, now: datetime | None) -> int:
    return pending.update(status=OutboxMessage.Status.CANCELLED, last_error=reason[:500], lease_owner="",
                          lease_until=None, finished_at=now or timezone.now())
