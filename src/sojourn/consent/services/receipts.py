"""The PDF receipt of a consent: the text the person saw, their choices, and the signature block."""

from __future__ import annotations

import json
import zoneinfo
from base64 import b64decode, b64encode
from collections.abc import Callable
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
from sojourn.people.services.patients import seal_for_patient, unseal_for_patient


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


def receipt_facts(record: ConsentRecord, unseal: Callable[[str, bytes], str]) -> ReceiptFacts:
    """What the receipt shows, from the record as signed: the text by its locale (frozen once
    approved), each purpose's answer (`granted` never changes; withdrawal is kept apart), the sealed
    name and the signing time in the signer's zone."""
    version = record.version
    text = version.texts.get(locale=record.locale)
    granted = dict(record.decisions.values_list("purpose", "granted"))
    guardian = json.loads(unseal("consent_guardian", record.guardian_sealed)) if record.guardian_sealed else {}
    subject = record.patient or record.hcp
    return ReceiptFacts(
        text=text, signed_name=unseal("consent_signed_name", record.signed_name_sealed),
        signed_at_utc=record.signed_at,
        signed_at_local=record.signed_at.astimezone(zoneinfo.ZoneInfo(record.signer_time_zone)),
        choices=[(text.purpose_texts[p["code"]], p["required"], granted[p["code"]]) for p in version.purposes],
        method=ConsentRecord.Method(record.method).label, by_guardian=record.by_guardian,
        guardian_name=guardian.get("name", ""), reference=f"{version.document_id}-{version.number}-{record.pk}",
        program_name=subject.program.name)


def read_consent_receipt(*, actor: Actor, record: ConsentRecord) -> bytes:
    """The PDF the person received: for them, or for staff allowed to read identities (audited).

    The PDF is drawn from the signed record the first time it is asked for and kept, sealed: drawing it
    takes a third of a second, which enrolling hundreds of paper forms should not wait for, and every
    fact it shows was sealed or frozen when the person signed."""
    subject = record.patient or record.hcp
    kind = "patient" if record.patient_id else "hcp"
    own = actor.kind == kind and actor.label == subject.pseudonym
    if not own:
        needed = Permission.PATIENT_READ_PII if kind == "patient" else Permission.PROGRAM_MANAGE
        if not actor.can(needed, subject.program_id, subject.market.country):
            raise NotFound()
    if subject.status == "erased":
        raise DataErased()
    if kind == "patient":
        def unseal(field: str, sealed: bytes) -> str:
            return unseal_for_patient(subject, field, sealed)

        def seal(field: str, value: str) -> bytes:
            return seal_for_patient(subject, field, value)
    else:
        key = open_data_key(subject.data_key)

        def unseal(field: str, sealed: bytes) -> str:
            return crypto.unseal(key, bytes(sealed), hcp_context(subject.pseudonym, field))

        def seal(field: str, value: str) -> bytes:
            return crypto.seal(key, value, hcp_context(subject.pseudonym, field))
    if record.receipt_pdf_sealed is None:
        pdf = render_receipt_pdf(receipt_facts(record, unseal))
        # Two first readers at once: the first one's PDF is kept, and both show the same facts.
        ConsentRecord.objects.filter(pk=record.pk, receipt_pdf_sealed__isnull=True).update(
            receipt_pdf_sealed=seal("consent_receipt_pdf", seal_receipt(pdf)))
    else:
        pdf = open_receipt(unseal("consent_receipt_pdf", record.receipt_pdf_sealed))
    record_audit(actor=actor, action="consent.receipt_read", subject_type=kind, subject_id=subject.pseudonym,
                 program_id=subject.program_id, market=subject.market.country, after={"record": record.pk})
    return pdf
