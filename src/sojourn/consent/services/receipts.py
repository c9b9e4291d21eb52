"""The PDF receipt of a consent: the text the person saw, their choices, and the signature block."""

from __future__ import annotations

from base64 import b64decode, b64encode
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML

from sojourn.consent.models import ConsentRecord, ConsentText


@dataclass(frozen=True)
class ReceiptFacts:
    text: ConsentText
    choices: list[tuple[str, bool, bool]]  # (label, required, granted)
    signed_name: str
    signed_at_utc: datetime
    signed_at_local: datetime
    method: str
    by_guardian: bool
    guardian_name: str
    reference: str
    program_name: str


def render_receipt_pdf(facts: ReceiptFacts) -> bytes:
    language = facts.text.locale.split("-")[0]
    with translation.override(language):
        html = render_to_string("consent/receipt.html", {"facts": facts, "text": facts.text})
    return HTML(string=html).write_pdf()


def seal_receipt(pdf: bytes) -> str:
    return b64encode(pdf).decode("ascii")


def open_receipt(text: str) -> bytes:
    return b64decode(text)


def receipt_filename(record: ConsentRecord) -> str:
    return f"consent-receipt-{record.pk}.pdf"
