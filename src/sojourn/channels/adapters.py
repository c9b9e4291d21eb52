"""Channel adapters: how an outbox message leaves Sojourn.

An adapter takes a batch of messages and says, per message, sent / temporary failure / permanent
failure. Every message carries its idempotency key, so a provider (or the recording channel) that
sees a key twice delivers once. Real providers for email, SMS, print and the nurse queue arrive with
the channels work; until a channel has one, `SOJOURN_CHANNEL_ADAPTERS` points it at the recording
channel, which keeps each message in a table for developers, the demo and the benchmarks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db.models import F
from django.utils.module_loading import import_string

from sojourn.channels.models import OutboxMessage, RecordedDelivery
from sojourn.core.db import insert_rows


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, temporary, permanent
    provider_id: str = ""
    error: str = ""


class Adapter(Protocol):
    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]: ...


class RecordingAdapter:
    """Keeps every message in RecordedDelivery, in the worker's transaction: delivered exactly once."""

    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]:
        delay = float(getattr(settings, "SOJOURN_RECORDING_DELAY", 0))
        if delay:  # lets the crash tests kill a worker in the middle of a batch
            time.sleep(delay)
        # A key seen before is counted (so a test can prove it never happens), never stored twice.
        RecordedDelivery.objects.filter(idempotency_key__in=[m.idempotency_key for m in messages]) \
            .update(deliveries=F("deliveries") + 1)
        insert_rows(RecordedDelivery, ["message_id", "idempotency_key", "channel", "patient_id", "payload",
                                       "recorded_at", "deliveries"],
                    [(m.pk, m.idempotency_key, m.channel, m.patient_id, _recorded(m), now, 1) for m in messages],
                    skip_conflicts_on="idempotency_key")
        return {m.pk: Outcome("sent", provider_id=f"recorded:{m.pk}") for m in messages}


def _recorded(message: OutboxMessage) -> dict[str, object]:
    """The payload, and which approved words it carried (version, approval code, locale)."""
    content = getattr(message, "content", None)
    if content is None:
        return message.payload
    return {**message.payload, "version": content.version, "approval_code": content.approval_code,
            "locale": content.locale}


# Where each channel goes unless SOJOURN_CHANNEL_ADAPTERS says otherwise.
DEFAULT_ADAPTERS = {"web": "sojourn.channels.web.PortalCardAdapter", "email": "sojourn.channels.email.EmailAdapter",
                    "sms": "sojourn.channels.sms.SmsAdapter", "phone": "sojourn.channels.nurse.NurseQueueAdapter",
                    "print": "sojourn.channels.printing.PrintAdapter"}
RECORDING = "sojourn.channels.adapters.RecordingAdapter"


def adapter_for(channel: str) -> Adapter:
    configured = getattr(settings, "SOJOURN_CHANNEL_ADAPTERS", {})
    return _adapter(configured.get(channel) or DEFAULT_ADAPTERS.get(channel, RECORDING))


@cache
def _adapter(path: str) -> Adapter:
    return import_string(path)()
