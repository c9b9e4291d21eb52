"""The PDF receipt of a consent: the text the person saw, their choices, and the signature block."""

from __future__ import annotations

from base64 import b64decode, b64encode
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML

from sojourn.consent.models import ConsentRecord, ConsentText
from sojourn.core import crypto
from sojourn.core.actors import Actor
from sojourn.core.errors import DataErased, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.core.services.keys import open_data_key
from sojourn.people.services.hcps import hcp_context
from sojourn.people.services.patients import unseal_for_patient


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


def read_consent_receipt(*, actor: Actor, record: ConsentRecord) -> bytes:
    """The PDF the person received: for them, or for staff allowed to read identities (audited)."""
    subject = record.patient or record.hcp
    kind = "patient" if record.patient_id else "hcp"
    own = actor.kind == kind and actor.label == subject.pseudonym
    if not own:
        needed = Permission.PATIENT_READ_PII if kind == "patient" else Permission.PROGRAM_MANAGE
        if not actor.can(needed, subject.program_id, subject.market.country):
            raise NotFound()
    if record.receipt_pdf_sealed is None:
        raise NotFound()
    if subject.status == "erased":
        raise DataErased()
    if kind == "patient":
        pdf = open_receipt(unseal_for_patient(subject, "consent_receipt_pdf", record.receipt_pdf_sealed))
    else:
        pdf = open_receipt(crypto.unseal(open_data_key(subject.data_key),
                                              bytes(record.receipt_pdf_sealed),
                                              hcp_context(subject.pseudonym, "consent_receipt_pdf")))
    record_audit(actor=actor, action="consent.receipt_read", subject_type=kind, subject_id=subject.pseudonym,
                 program_id=subject.program_id, market=subject.market.country, after={"record": record.pk})
    return pdf
