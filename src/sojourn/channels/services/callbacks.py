"""Provider callbacks (SMS replies and delivery reports, email bounces) are trusted only when the
provider signed them, as Standard Webhooks sign: HMAC-SHA256 over webhook-id, webhook-timestamp and
the body, with the timestamp no more than five minutes off (the `standardwebhooks` package checks
both). A staff token cannot speak for a patient's phone or mailbox; the provider can, and is then
the actor on record: a system actor named with the webhook id.

Each webhook id is acted on once: a provider's retry, or a replay inside the five minutes, changes
nothing the second time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from sojourn.core.actors import Actor
from sojourn.core.models import WebhookReceipt

log = logging.getLogger(__name__)

# The settings holding each source's secret and, during a rotation, the one it replaces.
SECRETS = {
    "sms": ("SOJOURN_SMS_WEBHOOK_SECRET", "SOJOURN_SMS_WEBHOOK_PREVIOUS_SECRET"),
    "email": ("SOJOURN_EMAIL_WEBHOOK_SECRET", "SOJOURN_EMAIL_WEBHOOK_PREVIOUS_SECRET"),
}
# A webhook id goes into the audit trail: printable, short, no control characters.
WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
# Providers retry for up to a few days; an id is remembered a little longer.
KEEP_RECEIPTS = timedelta(days=7)


@dataclass(frozen=True)
class ProviderCallback:
    """A callback the provider of `source` signed, and the id it gave it."""

    source: str
    webhook_id: str

    @property
    def actor(self) -> Actor:
        return Actor.system(f"{self.source} provider callback {self.webhook_id}")


def _webhooks(source: str) -> list[Webhook]:
    hooks = []
    for name in SECRETS[source]:
        secret = getattr(settings, name, "")
        if not secret:
            continue
        try:
            hooks.append(Webhook(secret))
        except (EmptyWebhookSecretError, ValueError) as error:  # binascii.Error is a ValueError
            log.error("%s is not a webhook secret (whsec_<base64>): %s", name, type(error).__name__)
    return hooks


def authenticate_callback(source: str, body: bytes, headers: Mapping[str, str]) -> ProviderCallback | None:
    """Return the callback when one of the source's secrets signed it within the time window, else None
    (unsigned, wrongly signed, too old or too new: the caller answers all of them alike)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    if not WEBHOOK_ID.match(webhook_id):
        return None
    for hook in _webhooks(source):
        try:
            hook.verify(body, lowered, json_parse=False)
        except WebhookVerificationError:
            continue
        return ProviderCallback(source, webhook_id)
    return None


def acted_on_before(callback: ProviderCallback, now: datetime | None = None) -> bool:
    """Claim the webhook id inside the caller's transaction; True when it was claimed already.

    A failure later in the transaction rolls the claim back, so the provider's retry is acted on.
    """
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(source=callback.source, webhook_id=callback.webhook_id,
                                          received_at=now or timezone.now())
    except IntegrityError:
        return True
    return False


def forget_old_receipts(*, now: datetime) -> int:
    """Delete receipts past the retry horizon (the worker does it now and then)."""
    deleted, _ = WebhookReceipt.objects.filter(received_at__lt=now - KEEP_RECEIPTS).delete()
    return deleted
