"""Email over SMTP (Django's email backends): HTML and text in the patient's language, the approved
words with their approval code, List-Unsubscribe with one-click unsubscribe (RFC 8058), an open
pixel and click links that come back as events. Links carry signed message ids and link addresses,
never personal data."""

from __future__ import annotations

import html
import re
import smtplib
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from sojourn.channels.adapters import Outcome
from sojourn.channels.keys import message_id
from sojourn.channels.models import ChannelBlock, OutboxMessage
from sojourn.content.kinds import fill
from sojourn.content.queries import ResolvedContent
from sojourn.core.actors import Actor
from sojourn.people.services.patients import open_for_delivery

CHANNEL = Actor.system("channel:email")
SALT = "sojourn.email.tracking"
LINK = re.compile(r"https://[^\s<>\"')\]]+")


def public_url(path: str) -> str:
    return settings.SOJOURN_PUBLIC_URL.rstrip("/") + path


def token(message_id: int, url: str = "") -> str:
    return signing.dumps({"m": message_id, "u": url} if url else {"m": message_id}, salt=SALT, compress=True)


def read_token(value: str) -> dict[str, object] | None:
    try:
        found = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    return found if isinstance(found, dict) and isinstance(found.get("m"), int) else None


def _tracked(text: str, message_id: int) -> str:
    return LINK.sub(lambda m: public_url(reverse("email-links:click", args=[token(message_id, m.group(0))])), text)


def build(message: OutboxMessage, content: ResolvedContent, address: str, given_name: str, program_name: str,
          sender: str) -> EmailMultiAlternatives:
    values = {"given_name": given_name, "program_name": program_name,
              "portal_link": public_url(reverse("personal-page:page"))}
    subject = fill(content.subject or content.title, values)
    body = _tracked(fill(content.body, values), message.pk)
    unsubscribe = public_url(reverse("email-links:unsubscribe", args=[token(message.pk)]))
    with translation.override(content.locale.split("-")[0]):
        text = render_to_string("channels/email/message.txt", {"body": body, "content": content,
                                                               "unsubscribe": unsubscribe})
        paragraphs = [LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html.escape(p))
                      .replace("\n", "<br>") for p in re.split(r"\n\s*\n", body.strip())]
        rich = render_to_string("channels/email/message.html", {
            "subject": subject, "paragraphs": paragraphs, "content": content, "unsubscribe": unsubscribe,
            "lang": content.locale, "pixel": public_url(reverse("email-links:open", args=[token(message.pk)]))})
    domain = sender.rsplit("@", 1)[-1].strip(">") or "localhost"
    email = EmailMultiAlternatives(subject=subject, body=text, from_email=sender, to=[address], headers={
        "Message-ID": message_id(message, domain),  # the same on every attempt: channels.keys
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Sojourn-Key": message.idempotency_key,
        "Content-Language": content.locale})
    email.attach_alternative(rich, "text/html")
    return email


def _failure(error: Exception) -> Outcome:
    """SMTP's own split: 4xx try again later, 5xx never; a dropped connection is temporary."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        permanent = all(500 <= code < 600 for code in codes)
        return Outcome("permanent" if permanent else "temporary", error=f"recipient refused ({codes[0]})")
    if isinstance(error, smtplib.SMTPResponseException):
        return Outcome("permanent" if 500 <= error.smtp_code < 600 else "temporary",
                       error=f"SMTP {error.smtp_code}")
    return Outcome("temporary", error=f"SMTP unavailable: {type(error).__name__}")


class EmailAdapter:
    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        blocked = dict(ChannelBlock.objects.filter(patient_id__in={m.patient_id for m in messages}, channel="email")
                       .values_list("patient_id", "reason"))
        ready = []
        for message in messages:
            if message.patient_id in blocked:
                outcomes[message.pk] = Outcome("permanent", error=blocked[message.patient_id])
            elif getattr(message, "content", None) is None:
                outcomes[message.pk] = Outcome("permanent", error="an email needs approved content")
            else:
                ready.append(message)
        if not ready:
            return outcomes
        people = open_for_delivery(actor=CHANNEL, patient_ids=[m.patient_id for m in ready],
                                   fields=("email", "given_name"), purpose="email delivery")
        names = dict(OutboxMessage.objects.filter(pk__in=[m.pk for m in ready]).values_list("pk", "program__name"))
        connection = get_connection()
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as error:
            return {**outcomes, **{m.pk: _failure(error) for m in ready}}
        try:
            for message in ready:
                if message.patient_id not in people:
                    outcomes[message.pk] = Outcome("permanent", error="the patient's contact details cannot be read")
                    continue
                person = people[message.patient_id]
                if not person.get("email"):
                    outcomes[message.pk] = Outcome("permanent", error="no email address")
                    continue
                email = build(message, message.content, person["email"], person.get("given_name") or "",  # type: ignore[attr-defined]
                              names.get(message.pk, ""), settings.DEFAULT_FROM_EMAIL)
                try:
                    connection.send_messages([email])
                except (OSError, smtplib.SMTPException) as error:
                    outcomes[message.pk] = _failure(error)
                else:
                    outcomes[message.pk] = Outcome("sent", provider_id=email.extra_headers["Message-ID"])
        finally:
            connection.close()
        return outcomes
