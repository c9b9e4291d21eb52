from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from sojourn.consent.errors import ConsentVersionNotUsable, VerificationFailed
from sojourn.consent.models import ConsentRecord, ContactPreferences, Verification
from sojourn.consent.queries import may_contact
from sojourn.consent.services.enrollment import Signature, verify_patient
from sojourn.consent.services.receipts import open_receipt, read_consent_receipt
from sojourn.consent.tests.factories import SELF, approved_version, enroll, web_signature
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import AuditEntry, DataKey
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import actor_with
from sojourn.people.models import Patient
from sojourn.people.services.patients import unseal_for_patient


def sent_code(to: str) -> str:
    message = [m for m in mail.outbox if to in m.to][-1]
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def counts():
    return (Patient.objects.count(), ConsentRecord.objects.count(), DataKey.objects.count(),
            Verification.objects.count(), AuditEntry.objects.filter(action="consent.given").count())


def test_self_enrollment_records_the_evidence_and_waits_for_the_code(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll(program, "DE", answers={"program_participation": True, "contact_email": True})
    patient, record = enrollment.subject, enrollment.record
    assert patient.status == "pending" and patient.verified_at is None
    assert record.method == "web" and record.locale == "de-DE" and record.version.status == "approved"
    assert record.text_sha256 == record.version.texts.get(locale="de-DE").sha256
    assert {d.purpose: d.granted for d in record.decisions.all()}["contact_sms"] is False
    assert unseal_for_patient(patient, "consent_signed_name", record.signed_name_sealed) == "Lena Hoffmann"
    assert b"203.0.113.7" not in bytes(record.web_evidence_sealed)
    assert ContactPreferences.objects.get(patient=patient).channels == ["email", "web"] or \
        set(ContactPreferences.objects.get(patient=patient).channels) == {"email", "web"}
    assert not may_contact(patient, "email").allowed  # pending: not one message before the code
    code = sent_code("lena@example.org")
    active = verify_patient(actor=SELF, patient=patient, code=code)
    assert active.status == "active" and may_contact(active, "email").allowed
    assert not may_contact(active, "sms").allowed  # never agreed to SMS


def test_the_receipt_pdf_holds_the_text_the_choices_and_the_signature(program):
    patient, record = enroll(program, "DE")
    owner = Actor(kind="patient", label=patient.pseudonym)
    pdf = read_consent_receipt(actor=owner, record=record)
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "What the program does, in de-DE." in text
    assert "Lena Hoffmann" in text and record.text_sha256[:16] in text.replace("\n", "")
    # Drawn once from the signed record, then kept sealed with the patient's key: the same file each time.
    record.refresh_from_db()
    assert open_receipt(unseal_for_patient(patient, "consent_receipt_pdf", record.receipt_pdf_sealed)) == pdf
    assert read_consent_receipt(actor=owner, record=record) == pdf
    assert b"Lena" not in bytes(record.receipt_pdf_sealed)


def test_a_replayed_an_expired_and_a_wrong_code_are_refused(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        patient, _record = enroll(program, "DE")
    code = sent_code("lena@example.org")
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(VerificationFailed, match="not right"):
        verify_patient(actor=SELF, patient=patient, code=wrong)
    assert Verification.objects.get(patient=patient).attempts == 1  # counted although refused
    verify_patient(actor=SELF, patient=patient, code=code)
    with pytest.raises(VerificationFailed, match="already used"):
        verify_patient(actor=SELF, patient=patient, code=code)

    with django_capture_on_commit_callbacks(execute=True):
        other, _record = enroll(program, "DE", email="late@example.org")
    Verification.objects.filter(patient=other).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(VerificationFailed, match="expired"):
        verify_patient(actor=SELF, patient=other, code=sent_code("late@example.org"))
    other.refresh_from_db()
    assert other.status == "pending"


def test_a_missing_required_purpose_writes_nothing(program):
    version = approved_version(program, "DE")
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "DE", version=version, answers={"contact_email": True})
    assert refused.value.details[0].field == "answers.program_participation"
    assert counts() == before


def test_enrolling_twice_is_explained_and_leaves_one_patient(program):
    version = approved_version(program, "DE")
    enroll(program, "DE", version=version, email="twice@example.org")
    before = counts()
    with pytest.raises(Conflict, match="already enrolled"):
        enroll(program, "DE", version=version, email="TWICE@example.org")
    assert counts() == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"birth_date": date.today() + timedelta(days=3)}, "birth_date"),
    ({"email": "no-at-sign"}, "email"),
    ({"phone": "0301"}, "phone"),
])
def test_bad_identity_is_refused_and_nothing_is_half_saved(program, changes, field):
    version = approved_version(program, "DE")
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "DE", version=version, **changes)
    assert field in {d.field for d in refused.value.details} | {refused.value.field}
    assert counts() == before


def test_below_the_minimum_age_a_guardian_consents(program):
    version = approved_version(program, "DE")
    child = date.today().replace(year=date.today().year - 12)
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "DE", version=version, birth_date=child)
    assert refused.value.details[0].field == "guardian_name" and "16" in refused.value.message
    signature = web_signature(name="Katrin Hoffmann", guardian_name="Katrin Hoffmann", guardian_relationship="mother")
    _patient, record = enroll(program, "DE", version=version, birth_date=child, signature=signature,
                             email="child@example.org")
    assert record.by_guardian and record.guardian_sealed is not None


def test_a_version_of_another_market_cannot_be_signed(program):
    uk_version = approved_version(program, "GB")
    with pytest.raises(ConsentVersionNotUsable):
        enroll(program, "DE", version=uk_version)


def test_phone_enrollment_by_a_nurse_records_who_and_which_script(program):
    nurse = actor_with(Role.NURSE, program, ("DE",))
    nurse = type(nurse)(kind="staff", label="Nora", user_id=77, grants=nurse.grants)
    no_script = Signature(typed_name="Lena Hoffmann", method="phone", signer_time_zone="Europe/Berlin")
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "DE", actor=nurse, signature=no_script)
    assert refused.value.details[0].field == "script_version"
    verbal = Signature(typed_name="Lena Hoffmann", method="phone", signer_time_zone="Europe/Berlin",
                       script_version="DE-call-2026-03")
    _patient, record = enroll(program, "DE", actor=nurse, signature=verbal, email="phone@example.org")
    assert (record.method, record.recorded_by_id, record.script_version) == ("phone", 77, "DE-call-2026-03")
    uk_nurse = actor_with(Role.NURSE, program, ("GB",))
    with pytest.raises(AccessDenied):
        enroll(program, "DE", actor=uk_nurse, signature=verbal, email="phone2@example.org")


def test_self_enrollment_must_be_signed_on_the_web(program):
    paper = Signature(typed_name="Lena", method="paper", signer_time_zone="Europe/Berlin")
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "DE", actor=SELF, signature=paper)
    assert refused.value.details[0].field == "method"
