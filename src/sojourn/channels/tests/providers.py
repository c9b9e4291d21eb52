"""The provider's side of a callback: what an SMS or email provider sends, signed as Standard Webhooks
sign (the outside world, so signed here with the library rather than with Sojourn's code)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from django.conf import settings
from standardwebhooks import Webhook

from sojourn.channels.services.callbacks import ProviderCallback


def provider_callback(source: str = "sms") -> ProviderCallback:
    """A callback as the API hands it to a service once the signature checked out."""
    return ProviderCallback(source, f"msg_{uuid.uuid4().hex}")


def signed_headers(body: bytes, *, secret: str, webhook_id: str = "", at: datetime | None = None) -> dict[str, str]:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body)
    return {"HTTP_WEBHOOK_ID": webhook_id, "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
            "HTTP_WEBHOOK_SIGNATURE": signature}


def post_callback(client, path: str, payload: dict, *, source: str = "sms", secret: str | None = None,
                  **options):
    """POST a provider callback to /api/v1<path>, signed with the channel's secret unless told otherwise."""
    body = json.dumps(payload).encode()
    secret = secret or getattr(settings, f"SOJOURN_{source.upper()}_WEBHOOK_SECRET")
    return client.post(f"/api/v1{path}", body, content_type="application/json",
                       **signed_headers(body, secret=secret, **options))
