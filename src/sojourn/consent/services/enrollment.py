"""Enroll patients and HCPs with e-consent: the person, the signed consent, the evidence, the
receipt and the one-time code, all in one transaction or not at all."""

from __future__ import annotations

import ipaddress
import json
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.consent.errors import ConsentVersionNotUsable, RequiredPurposeMissing
from sojourn.consent.hooks import patient_activated
from sojourn.consent.models import (
    ConsentDecision,
    ConsentDocument,
    ConsentRecord,
    ConsentText,
    ConsentVersion,
    ContactPreferences,
)
from sojourn.consent.queries import CHANNEL_PURPOSE
from sojourn.consent.services.verification import check_code, issue_code
from sojourn.core import crypto
from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.core.services.keys import open_data_key
from sojourn.people.identity import PatientIdentity
from sojourn.people.models import Hcp, Invitation, Patient
from sojourn.people.services.hcps import HcpIdentity, hcp_context, register_hcp
from sojourn.people.services.invitations import normalize_invitation_code
from sojourn.people.services.patients import register_patient, seal_for_patient


@dataclass(frozen=True)
class Signature:
    """How the person signed. Web: the typed name with IP and browser; phone: the staff member and
    the script read out; paper: a scanned form entered by staff."""

    typed_name: str
    method: str
    signer_time_zone: str
    ip_address: str = ""
    user_agent: str = ""
    script_version: str = ""
    guardian_name: str = ""
    guardian_relationship: str = ""


class Enrollment(NamedTuple):
    subject: Patient | Hcp
    record: ConsentRecord


def _age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def usable_version(program: Program, market: str, audience: str, version_id: int) -> ConsentVersion:
    version = ConsentVersion.objects.select_related("document__market").filter(pk=version_id).first()
    if (version is None or version.document.program_id != program.pk or version.document.market.country != market
            or version.document.audience != audience or version.status != ConsentVersion.Status.APPROVED):
        raise ConsentVersionNotUsable(field="version")
    return version


def check_signature(actor: Actor, signature: Signature, program: Program, market: str,
                     staff_permission: Permission) -> tuple[bool, list[ErrorDetail]]:
    """Return whether this is self-enrollment, and the problems with the signature."""
    problems: list[ErrorDetail] = []
    self_service = actor.kind in {"anonymous", "patient", "hcp"}
    if self_service:
        if signature.method != ConsentRecord.Method.WEB:
            problems.append(ErrorDetail(_("Online enrollment is signed on the web form."), field="method"))
    else:
        actor.require(staff_permission, program.pk, market)
        if signature.method not in ConsentRecord.Method.values:
            problems.append(ErrorDetail(_("Choose web, phone or paper."), field="method"))
        if signature.method == ConsentRecord.Method.PHONE and not signature.script_version.strip():
            problems.append(ErrorDetail(_("Name the call script version you read out."), field="script_version"))
    if signature.method == ConsentRecord.Method.WEB:
        try:
            ipaddress.ip_address(signature.ip_address)
        except ValueError:
            problems.append(ErrorDetail(_("The web signature needs the address it came from."), field="ip_address"))
        if not signature.user_agent.strip():
            problems.append(ErrorDetail(_("The web signature needs the browser it came from."), field="user_agent"))
    if not signature.typed_name.strip():
        problems.append(ErrorDetail(_("Type your full name to sign."), field="typed_name"))
    try:
        zoneinfo.ZoneInfo(signature.signer_time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(ErrorDetail(_("The time zone is not known."), field="signer_time_zone"))
    return self_service, problems


def check_answers(version: ConsentVersion, answers: dict[str, bool]) -> tuple[dict[str, bool], list[ErrorDetail]]:
    problems: list[ErrorDetail] = []
    codes = version.purpose_codes()
    for code in answers:
        if code not in codes:
            problems.append(ErrorDetail(_("%(code)s is not a purpose of this consent.") % {"code": code},
                                        field=f"answers.{code}"))
    for code in version.purpose_codes(required=True):
        if answers.get(code) is not True:
            problems.append(ErrorDetail(str(RequiredPurposeMissing.default_message), field=f"answers.{code}",
                                        code=RequiredPurposeMissing.code))
    return {code: bool(answers.get(code, False)) for code in codes}, problems


def record_consent(*, version: ConsentVersion, locale: str, signature: Signature, choices: dict[str, bool],
                   seal: Callable[[str, str], bytes], patient: Patient | None = None,
                   hcp: Hcp | None = None, recorded_by: int | None, by_guardian: bool) -> ConsentRecord:
    """Write the signed record, each purpose's answer and the sealed evidence (the PDF receipt is drawn
    from them when first read)."""
    # Only the fingerprint of the text signed: the texts themselves (every locale's) are long.
    text = ConsentText.objects.filter(version=version, locale=locale).only("sha256").first()
    if text is None:
        raise ConsentVersionNotUsable(_("This consent has no text in %(locale)s.") % {"locale": locale},
                                      field="locale")
    now = timezone.now()
    evidence = None
    if signature.method == ConsentRecord.Method.WEB:
        evidence = seal("consent_web_evidence", json.dumps(
            {"ip": signature.ip_address, "user_agent": signature.user_agent[:500]}))
    guardian = seal("consent_guardian", json.dumps(
        {"name": signature.guardian_name.strip(), "relationship": signature.guardian_relationship.strip()})
    ) if by_guardian else None
    record = ConsentRecord.objects.create(
        patient=patient, hcp=hcp, version=version, locale=locale, text_sha256=text.sha256, method=signature.method,
        signed_at=now, signer_time_zone=signature.signer_time_zone, by_guardian=by_guardian,
        signed_name_sealed=seal("consent_signed_name", signature.typed_name.strip()), guardian_sealed=guardian,
        web_evidence_sealed=evidence, recorded_by_id=recorded_by,
        script_version=signature.script_version.strip())
    ConsentDecision.objects.bulk_create(
        [ConsentDecision(record=record, purpose=code, granted=granted) for code, granted in choices.items()])
    return record


def enroll_patient(*, actor: Actor, program: Program, market: str, version_id: int, locale: str, time_zone: str,
                   identity: PatientIdentity, answers: dict[str, bool], signature: Signature,
                   referral_code: str = "") -> Enrollment:
    """Enroll a patient with their consent; they stay pending until they prove their email address."""
    version = usable_version(program, market, ConsentDocument.Audience.PATIENT, version_id)
    self_service, problems = check_signature(actor, signature, program, market, Permission.PATIENT_MANAGE)
    choices, answer_problems = check_answers(version, answers)
    problems += answer_problems
    if not identity.email.strip():
        problems.append(ErrorDetail(_("Enter an email address: we send a code to it to confirm it is yours."),
                                    field="email"))
    minimum_age = version.document.market.minimum_age
    by_guardian = False
    if identity.birth_date is None:
        problems.append(ErrorDetail(_("Enter your birth date."), field="birth_date"))
    elif identity.birth_date <= timezone.localdate():
        by_guardian = _age_on(identity.birth_date, timezone.localdate()) < minimum_age
        has_guardian = bool(signature.guardian_name.strip() and signature.guardian_relationship.strip())
        if by_guardian and not has_guardian:
            problems.append(ErrorDetail(
                _("Under %(age)s, a parent or guardian consents: enter their name and relationship.")
                % {"age": minimum_age}, field="guardian_name"))
        if not by_guardian and (signature.guardian_name.strip() or signature.guardian_relationship.strip()):
            problems.append(ErrorDetail(_("A guardian signs only for someone under %(age)s.") % {"age": minimum_age},
                                        field="guardian_name"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    with transaction.atomic(durable=True):
        referrer, invitation = None, None
        if referral_code.strip():
            # The code on a dermatologist's invitation card, or the dermatologist's own referral code.
            invitation = Invitation.objects.select_for_update(of=("self",)).select_related("market", "hcp").filter(
                program=program, code=normalize_invitation_code(referral_code)).first()
            if invitation is not None:
                if invitation.accepted_at is not None:
                    raise InvalidInput(_("This invitation code has already been used."), field="referral_code")
                if invitation.market.country != market:
                    raise InvalidInput(_("This invitation is for another country."), field="referral_code")
                if invitation.hcp is not None and invitation.hcp.status == Hcp.Status.ACTIVE:
                    referrer = invitation.hcp
            else:
                referrer = Hcp.objects.filter(program=program, referral_code=referral_code.strip().upper(),
                                              status=Hcp.Status.ACTIVE).first()
                if referrer is None:
                    raise InvalidInput(_("This referral code is not known."), field="referral_code")
        patient = register_patient(actor=actor, program=program, market=market, identity=identity, locale=locale,
                                   time_zone=time_zone, self_enrollment=self_service)
        if referrer is not None:
            patient.referred_by = referrer
            patient.save(update_fields=["referred_by"])
        if invitation is not None:
            invitation.patient, invitation.accepted_at = patient, max(timezone.now(), invitation.issued_at)
            invitation.save(update_fields=["patient", "accepted_at"])
        record = record_consent(
            version=version, locale=locale, signature=signature, choices=choices,
            seal=lambda field, value: seal_for_patient(patient, field, value), patient=patient,
            recorded_by=actor.user_id if not self_service else None, by_guardian=by_guardian)
        offered = patient.market.channels
        ContactPreferences.objects.create(patient=patient, channels=[
            channel for channel, purpose in CHANNEL_PURPOSE.items()
            if channel in offered and (purpose is None or choices.get(purpose))])
        issue_code(subject=patient, email=identity.email, locale=locale)
        record_audit(actor=actor, action="consent.given", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=program.pk, market=market,
                     after={"record": record.pk, "version": version.number, "locale": locale,
                            "method": signature.method, "by_guardian": by_guardian,
                            "granted": sorted(c for c, g in choices.items() if g),
                            "referred": referrer is not None, "invited": invitation is not None})
        return Enrollment(patient, record)


def verify_patient(*, actor: Actor, patient: Patient, code: str) -> Patient:
    """Activate a patient who proved their email address with the code we sent."""
    check_code(subject=patient, code=code)
    with transaction.atomic(durable=True):
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.status != Patient.Status.PENDING:
            raise InvalidInput(_("This enrollment is not waiting for a code."), field="code")
        locked.status = Patient.Status.ACTIVE
        locked.verified_at = timezone.now()
        locked.save(update_fields=["status", "verified_at"])
        record_audit(actor=actor, action="patient.verified", subject_type="patient", subject_id=locked.pseudonym,
                     program_id=locked.program_id, market=patient.market.country, after={"channel": "email"})
        patient_activated.run(locked)
        return locked


def resend_code(*, actor: Actor, patient: Patient, email: str) -> None:
    """Send a new code to the address on record (the caller proves it knows the address)."""
    from sojourn.people.services.patients import email_index

    if patient.status != Patient.Status.PENDING or email_index(email) != patient.email_index:
        raise NotFound()
    with transaction.atomic(durable=True):
        issue_code(subject=patient, email=email, locale=patient.locale)


def enroll_hcp(*, actor: Actor, program: Program, market: str, version_id: int, locale: str, time_zone: str,
               identity: HcpIdentity, specialty: str, answers: dict[str, bool], signature: Signature) -> Enrollment:
    """Enroll a healthcare professional in the awareness program with their own consent document."""
    version = usable_version(program, market, ConsentDocument.Audience.HCP, version_id)
    self_service, problems = check_signature(actor, signature, program, market, Permission.PROGRAM_MANAGE)
    choices, answer_problems = check_answers(version, answers)
    problems += answer_problems
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    with transaction.atomic(durable=True):
        hcp = register_hcp(actor=actor, program=program, market=market, identity=identity, specialty=specialty,
                           locale=locale, time_zone=time_zone, self_enrollment=self_service)
        key = open_data_key(hcp.data_key)
        record = record_consent(
            version=version, locale=locale, signature=signature, choices=choices,
            seal=lambda field, value: crypto.seal(key, value, hcp_context(hcp.pseudonym, field)),
            hcp=hcp, recorded_by=actor.user_id if not self_service else None, by_guardian=False)
        issue_code(subject=hcp, email=identity.email, locale=locale)
        record_audit(actor=actor, action="consent.given", subject_type="hcp", subject_id=hcp.pseudonym,
                     program_id=program.pk, market=market,
                     after={"record": record.pk, "version": version.number, "locale": locale,
                            "method": signature.method, "granted": sorted(c for c, g in choices.items() if g)})
        return Enrollment(hcp, record)


def verify_hcp(*, actor: Actor, hcp: Hcp, code: str) -> Hcp:
    check_code(subject=hcp, code=code)
    with transaction.atomic(durable=True):
        locked = Hcp.objects.select_for_update().select_related("market").get(pk=hcp.pk)
        if locked.status != Hcp.Status.PENDING:
            raise InvalidInput(_("This enrollment is not waiting for a code."), field="code")
        locked.status = Hcp.Status.ACTIVE
        locked.verified_at = timezone.now()
        locked.save(update_fields=["status", "verified_at"])
        record_audit(actor=actor, action="hcp.verified", subject_type="hcp", subject_id=locked.pseudonym,
                     program_id=locked.program_id, market=locked.market.country)
        return locked
