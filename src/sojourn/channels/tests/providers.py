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


# How a patient's mail client quotes the email it answers, in each language (Gmail's attribution for
# de, en, fr and ja; French puts a no-break space before the colon).
ATTRIBUTION = {
    "de": "Am Mo., 9. März 2026 um 10:00 Uhr schrieb Psoriasis companion <companion@sponsor.example>:",
    "en": "On Mon, Mar 9, 2026 at 10:00 AM Psoriasis companion <companion@sponsor.example> wrote:",
    "fr": "Le lun. 9 mars 2026 à 10:00, Psoriasis companion <companion@sponsor.example> a écrit\u00a0:",
    "ja": "2026年3月9日(月) 10:00 Psoriasis companion <companion@sponsor.example>:",
}


def reply_mime(words: str, *, sender: str, quoted: str = "", lang: str = "en", in_reply_to: str = "",
               message_id: str = "", html: str = "", attachment: bytes = b"") -> str:
    """A reply as a patient's mail client writes it: the words on top, the earlier message quoted with
    ">" under the client's attribution line; an HTML alternative (the body, without words) or an
    attachment if asked."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import make_msgid

    body = words
    if quoted:
        body += "\n\n" + ATTRIBUTION[lang] + "\n" + "\n".join(f"> {line}" for line in quoted.split("\n")) + "\n"
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "Psoriasis companion <companion@sponsor.example>"
    message["Subject"] = "Re: Tipps"
    message["Message-ID"] = message_id or make_msgid(domain="mail.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    if body:
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
    else:  # no words in plain text: the HTML alone, as some clients send it
        message.set_content(html, subtype="html")
    if attachment:
        message.add_attachment(attachment, maintype="image", subtype="jpeg", filename="arm.jpg")
    return message.as_string()
