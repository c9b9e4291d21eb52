"""API for partner systems and the console: consent versions, enrollment, verification, consent
records and receipts, withdrawal, contact preferences and data-subject requests."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.consent import queries as consent_queries
from sojourn.consent.models import ConsentRecord, ContactPreferences, DataSubjectRequest
from sojourn.consent.services.documents import (
    WORKFLOW,
    approve_consent_version,
    retire_consent_version,
    return_consent_version,
    submit_consent_version,
)
from sojourn.consent.services.dsr import (
    complete_access_request,
    complete_erasure_request,
    open_data_subject_request,
)
from sojourn.consent.services.enrollment import Signature, enroll_hcp, enroll_patient, verify_patient
from sojourn.consent.services.preferences import PreferenceChange, update_contact_preferences
from sojourn.consent.services.receipts import read_consent_receipt, receipt_filename
from sojourn.consent.services.reconsent import reconsent_patient
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.core.actors import Actor
from sojourn.core.errors import NotFound
from sojourn.core.permissions import Permission
from sojourn.core.queries import access_program, markets_for
from sojourn.core.review_api import CommentIn, ReviewedVersionOut, reviewed
from sojourn.people import queries as people_queries
from sojourn.people.api import AddressIn
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.services.hcps import HcpIdentity

router = Router(tags=["consent"])

Country = Field(pattern=r"^[A-Z]{2}$")


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class PurposeOut(Schema):
    code: str
    required: bool


class ConsentTextOut(Schema):
    locale: str
    title: str
    body: str
    purpose_texts: dict[str, str]
    sha256: str


class ConsentVersionOut(Schema):
    id: int
    market: str = Field(validation_alias="document.market.country")
    audience: str = Field(validation_alias="document.audience")
    number: int
    sha256: str
    approved_at: datetime | None
    purposes: list[PurposeOut]
    texts: list[ConsentTextOut]

    @staticmethod
    def resolve_texts(version: Any) -> list[Any]:
        return list(version.texts.all())


class VersionQuery(Schema):
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    audience: Literal["patient", "hcp"] = "patient"


class SignatureIn(Schema):
    typed_name: str = Field(max_length=200, description="The name the person typed or said to sign")
    method: Literal["web", "phone", "paper"]
    signer_time_zone: str = Field(max_length=64)
    ip_address: str = Field(default="", max_length=45, description="Web signatures: the signer's address")
    user_agent: str = Field(default="", max_length=500, description="Web signatures: the signer's browser")
    script_version: str = Field(default="", max_length=40, description="Phone: the call script version read out")
    guardian_name: str = Field(default="", max_length=200)
    guardian_relationship: str = Field(default="", max_length=60)


class EnrollmentIn(Schema):
    market: str = Country
    version_id: int = Field(ge=1, description="The approved consent version the person agreed to")
    locale: str = Field(max_length=10)
    time_zone: str = Field(max_length=64)
    given_name: str = Field(max_length=200)
    family_name: str = Field(default="", max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=32)
    birth_date: date
    postal_address: AddressIn | None = None
    answers: dict[str, bool] = Field(max_length=20, description="Each purpose code and the person's answer")
    signature: SignatureIn
    referral_code: str = Field(default="", max_length=12)


class DecisionOut(Schema):
    purpose: str
    granted: bool
    withdrawn_at: datetime | None


class ConsentRecordOut(Schema):
    id: int
    version_id: int
    version: int = Field(validation_alias="version.number")
    version_sha256: str = Field(validation_alias="version.sha256")
    locale: str
    text_sha256: str
    method: str
    status: str
    signed_at: datetime
    signer_time_zone: str
    by_guardian: bool
    script_version: str
    recorded_by_id: int | None
    withdrawn_at: datetime | None
    decisions: list[DecisionOut]

    @staticmethod
    def resolve_decisions(record: ConsentRecord) -> list[Any]:
        return list(record.decisions.all())


class EnrollmentOut(Schema):
    pseudonym: str
    status: str
    consent: ConsentRecordOut


class HcpEnrollmentIn(Schema):
    market: str = Country
    version_id: int = Field(ge=1)
    locale: str = Field(max_length=10)
    time_zone: str = Field(max_length=64)
    given_name: str = Field(max_length=200)
    family_name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=32)
    professional_id: str = Field(max_length=40, description="NPI, LANR, GMC number… as the market pack names it")
    practice_address: str = Field(default="", max_length=500)
    specialty: str = Field(max_length=60)
    answers: dict[str, bool] = Field(max_length=20)
    signature: SignatureIn


class HcpEnrollmentOut(Schema):
    pseudonym: str
    status: str
    referral_code: str
    consent: ConsentRecordOut


class CodeIn(Schema):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The six digits the person received")


class PatientStateOut(Schema):
    pseudonym: str
    status: str
    verified_at: datetime | None


class WithdrawalIn(Schema):
    purposes: list[str] | None = Field(default=None, max_length=20,
                                       description="Purpose codes; leave out to withdraw everything")
    via: Literal["portal", "sms", "nurse", "api", "email"] = "api"
    reason: str = Field(default="", max_length=500)


class WithdrawalOut(Schema):
    purposes: list[str]
    everything: bool
    at: datetime
    via: str


class PreferencesIO(Schema):
    channels: list[Literal["web", "email", "sms", "print", "phone"]] = Field(max_length=5)
    locale: str = Field(max_length=10)
    quiet_start: time | None = None
    quiet_end: time | None = None
    contact_days: list[int] = Field(default_factory=list, max_length=7, description="1 (Monday) to 7 (Sunday)")
    contact_from: time | None = None
    contact_until: time | None = None


class ReconsentIn(Schema):
    version_id: int = Field(ge=1, description="The newer approved version the patient agreed to")
    answers: dict[str, bool] = Field(max_length=20)
    signature: SignatureIn


class DataRequestIn(Schema):
    kind: Literal["access", "portability", "erasure"]
    via: Literal["portal", "nurse", "api", "email", "post", "phone"] = "api"


class DataRequestOut(Schema):
    id: int
    patient: str = Field(validation_alias="patient.pseudonym")
    market: str = Field(validation_alias="patient.market.country")
    kind: str
    law: str
    status: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    received_via: str


class DataRequestQuery(Schema):
    status: Literal["open", "completed", "rejected"] | None = None
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class AccessCompletionOut(Schema):
    request: DataRequestOut
    export: dict[str, Any]
    fhir: dict[str, Any]


class ErasureCompletionOut(Schema):
    request: DataRequestOut
    certificate: dict[str, Any]


def _signature(payload: SignatureIn) -> Signature:
    return Signature(**payload.dict())


@router.get("/programs/{slug}/consent-versions", response=list[ConsentVersionOut],
            summary="The approved consent versions people sign today, with their texts")
def list_consent_versions(request: HttpRequest, slug: str, query: Query[VersionQuery]) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    versions = []
    for market in markets_for(actor, program):
        if query.market and market.country != query.market:
            continue
        version = consent_queries.current_version(program, market, query.audience)
        if version is not None:
            versions.append(version)
    return versions


@router.post("/consent-versions/{version_id}/submission", response=ReviewedVersionOut,
             summary="Submit a draft consent version for review")
def submit_version(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, submit_consent_version(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/consent-versions/{version_id}/approval", response=ReviewedVersionOut,
             summary="Approve a version in review (not by its author): the one it replaces retires, and a "
                     "material change asks for consent again")
def approve_version(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, approve_consent_version(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/consent-versions/{version_id}/return", response=ReviewedVersionOut,
             summary="Return a version in review to its author with a comment")
def return_version(request: HttpRequest, version_id: int, payload: CommentIn) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, return_consent_version(actor=actor, version=WORKFLOW.access(actor, version_id),
                                                     comment=payload.comment))


@router.post("/consent-versions/{version_id}/retirement", response=ReviewedVersionOut,
             summary="Retire an approved version: nobody signs it any more")
def retire_version(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, retire_consent_version(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/programs/{slug}/enrollments", response={201: EnrollmentOut},
             summary="Enroll a patient with their consent (they stay pending until they confirm the code)")
def create_enrollment(request: HttpRequest, slug: str, payload: EnrollmentIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    address = payload.postal_address
    identity = PatientIdentity(
        given_name=payload.given_name, family_name=payload.family_name, email=payload.email, phone=payload.phone,
        birth_date=payload.birth_date,
        postal_address=PostalAddress(lines=tuple(address.lines), postal_code=address.postal_code, city=address.city,
                                     region=address.region, country=address.country) if address else None)
    enrollment = enroll_patient(
        actor=actor, program=program, market=payload.market, version_id=payload.version_id, locale=payload.locale,
        time_zone=payload.time_zone, identity=identity, answers=payload.answers,
        signature=_signature(payload.signature), referral_code=payload.referral_code)
    return Status(201, {"pseudonym": enrollment.subject.pseudonym, "status": enrollment.subject.status,
                        "consent": enrollment.record})


@router.post("/programs/{slug}/hcp-enrollments", response={201: HcpEnrollmentOut},
             summary="Enroll a healthcare professional in the awareness program with their consent")
def create_hcp_enrollment(request: HttpRequest, slug: str, payload: HcpEnrollmentIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    enrollment = enroll_hcp(
        actor=actor, program=program, market=payload.market, version_id=payload.version_id, locale=payload.locale,
        time_zone=payload.time_zone, specialty=payload.specialty, answers=payload.answers,
        identity=HcpIdentity(given_name=payload.given_name, family_name=payload.family_name, email=payload.email,
                             professional_id=payload.professional_id, phone=payload.phone,
                             practice_address=payload.practice_address),
        signature=_signature(payload.signature))
    hcp = enrollment.subject
    return Status(201, {"pseudonym": hcp.pseudonym, "status": hcp.status, "referral_code": hcp.referral_code,
                        "consent": enrollment.record})


@router.post("/patients/{pseudonym}/verification", response=PatientStateOut,
             summary="Confirm a pending patient with the code they read back (activates them)")
def verify(request: HttpRequest, pseudonym: str, payload: CodeIn) -> Any:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym, Permission.PATIENT_MANAGE)
    return verify_patient(actor=actor, patient=patient, code=payload.code)


@router.get("/patients/{pseudonym}/consents", response=list[ConsentRecordOut],
            summary="Every consent the patient signed, with each purpose's answer (no identity)")
def list_consents(request: HttpRequest, pseudonym: str) -> Any:
    patient = people_queries.access_patient(_actor(request), pseudonym)
    return list(ConsentRecord.objects.filter(patient=patient).select_related("version")
                .prefetch_related("decisions").order_by("signed_at"))


@router.post("/patients/{pseudonym}/reconsents", response={201: ConsentRecordOut},
             summary="Record consent to a newer version after a material change (replaces the record in force)")
def create_reconsent(request: HttpRequest, pseudonym: str, payload: ReconsentIn) -> Any:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym, Permission.PATIENT_MANAGE)
    record = reconsent_patient(actor=actor, patient=patient, version_id=payload.version_id, answers=payload.answers,
                               signature=_signature(payload.signature))
    return Status(201, ConsentRecord.objects.select_related("version").prefetch_related("decisions").get(pk=record.pk))


@router.get("/patients/{pseudonym}/consents/{record_id}/receipt", response={200: None},
            summary="The PDF receipt the patient received (an audited read of personal data)",
            openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}})
def consent_receipt(request: HttpRequest, pseudonym: str, record_id: int) -> HttpResponse:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym)
    record = ConsentRecord.objects.filter(pk=record_id, patient=patient).select_related("patient__market").first()
    if record is None:
        raise NotFound()
    response = HttpResponse(read_consent_receipt(actor=actor, record=record), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(record)}"'
    response["Cache-Control"] = "no-store"
    return response


@router.post("/patients/{pseudonym}/withdrawals", response={201: WithdrawalOut},
             summary="Withdraw some purposes or everything; effective at once")
def create_withdrawal(request: HttpRequest, pseudonym: str, payload: WithdrawalIn) -> Any:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym, Permission.PATIENT_MANAGE)
    event = withdraw_consent(actor=actor, patient=patient, purposes=payload.purposes, via=payload.via,
                             reason=payload.reason)
    return Status(201, {"purposes": sorted(event.purposes), "everything": event.everything, "at": event.at,
                        "via": event.via})


def _preferences_out(patient: Any) -> dict[str, Any]:
    current = ContactPreferences.objects.filter(patient=patient).first() or ContactPreferences(patient=patient)
    return {"channels": current.channels, "locale": patient.locale, "quiet_start": current.quiet_start,
            "quiet_end": current.quiet_end, "contact_days": current.contact_days,
            "contact_from": current.contact_from, "contact_until": current.contact_until}


@router.get("/patients/{pseudonym}/preferences", response=PreferencesIO, summary="How the patient wants contact")
def get_preferences(request: HttpRequest, pseudonym: str) -> Any:
    return _preferences_out(people_queries.access_patient(_actor(request), pseudonym))


@router.put("/patients/{pseudonym}/preferences", response=PreferencesIO,
            summary="Change channels, language, quiet hours and contact times (within the consent)")
def put_preferences(request: HttpRequest, pseudonym: str, payload: PreferencesIO) -> Any:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym, Permission.PATIENT_MANAGE)
    update_contact_preferences(actor=actor, patient=patient, change=PreferenceChange(**payload.dict()))
    return _preferences_out(patient)


@router.post("/patients/{pseudonym}/data-requests", response={201: DataRequestOut},
             summary="Record a data-subject request (access, portability, erasure) with its legal deadline")
def create_data_request(request: HttpRequest, pseudonym: str, payload: DataRequestIn) -> Any:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym, Permission.PATIENT_MANAGE)
    return Status(201, open_data_subject_request(actor=actor, patient=patient, kind=payload.kind, via=payload.via))


@router.get("/programs/{slug}/data-requests", response=list[DataRequestOut],
            summary="Data-subject requests in the markets you manage, soonest deadline first")
def list_data_requests(request: HttpRequest, slug: str, query: Query[DataRequestQuery]) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    return list(consent_queries.data_requests_for(actor, program, status=query.status, market=query.market)[:500])


def _access_request(actor: Actor, request_id: int) -> DataSubjectRequest:
    found = consent_queries.data_request(actor, request_id)
    if found is None:
        raise NotFound()
    return found


@router.post("/data-requests/{request_id}/access-completion", response=AccessCompletionOut,
             summary="Complete an access or portability request: the export as JSON and as a FHIR Bundle")
def complete_access(request: HttpRequest, request_id: int) -> Any:
    actor = _actor(request)
    found = _access_request(actor, request_id)
    result = complete_access_request(actor=actor, request=found)
    found.refresh_from_db()
    return {"request": found, **result}


@router.post("/data-requests/{request_id}/erasure-completion", response=ErasureCompletionOut,
             summary="Complete an erasure request: stop everything, destroy the key, return the certificate")
def complete_erasure(request: HttpRequest, request_id: int) -> Any:
    actor = _actor(request)
    found = complete_erasure_request(actor=actor, request=_access_request(actor, request_id))
    return {"request": found, "certificate": found.certificate}
