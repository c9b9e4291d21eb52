"""Data-subject requests: access and portability (JSON and a FHIR R4 Bundle), erasure by
crypto-shredding with a certificate, each with its legal deadline.

An erasure takes two people: whoever recorded the request (the patient in the portal, or a staff
member) and a second staff member who completes it. What a legal duty keeps through the erasure (the
reporter of an open adverse-event report, for pharmacovigilance) is sealed apart and named in the
certificate; see docs/privacy.md."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from sojourn.consent.errors import SecondPersonRequired
from sojourn.consent.hooks import erasure_holds, export_sections, patient_erased
from sojourn.consent.models import ConsentRecord, ContactPreferences, DataSubjectRequest
from sojourn.consent.services.withdrawal import _authorize, withdraw_consent
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.people.services.patients import (
    Retention,
    erase_patient_identity,
    read_patient_identity,
    unseal_for_patient,
)

PURPOSE_SYSTEM = "urn:sojourn:consent-purpose"


def open_data_subject_request(*, actor: Actor, patient: Patient, kind: str, via: str) -> DataSubjectRequest:
    _authorize(actor, patient)
    if kind not in DataSubjectRequest.Kind.values:
        raise InvalidInput(_("Choose access, portability or erasure."), field="kind")
    now = timezone.now()
    days = patient.market.pack["regulatory"]["data_retention"]["erasure_deadline_days"]
    with transaction.atomic(durable=True):
        if DataSubjectRequest.objects.filter(patient=patient, kind=kind, status="open").exists():
            raise Conflict(_("A request of this kind is already open."), field="kind")
        request = DataSubjectRequest.objects.create(
            patient=patient, kind=kind, law=patient.market.pack["regulatory"]["privacy_law"], received_at=now,
            due_at=now + timedelta(days=days), received_via=via[:20],
            opened_by_id=actor.user_id if actor.kind == "staff" else None)
        record_audit(actor=actor, action="dsr.opened", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country,
                     after={"request": request.pk, "kind": kind, "due_at": request.due_at.isoformat()})
        return request


def _consents(patient: Patient) -> list[dict[str, Any]]:
    out = []
    for record in ConsentRecord.objects.filter(patient=patient).select_related("version").prefetch_related(
            "decisions").order_by("signed_at"):
        out.append({
            "id": record.pk, "version": record.version.number, "version_sha256": record.version.sha256,
            "locale": record.locale, "text_sha256": record.text_sha256, "method": record.method,
            "status": record.status, "signed_at": record.signed_at.isoformat(),
            "signer_time_zone": record.signer_time_zone, "by_guardian": record.by_guardian,
            "signed_name": unseal_for_patient(patient, "consent_signed_name", record.signed_name_sealed),
            "withdrawn_at": record.withdrawn_at.isoformat() if record.withdrawn_at else None,
            "decisions": [{"purpose": d.purpose, "granted": d.granted,
                           "withdrawn_at": d.withdrawn_at.isoformat() if d.withdrawn_at else None}
                          for d in record.decisions.all()],
        })
    return out


def export_patient_data(*, actor: Actor, patient: Patient) -> dict[str, Any]:
    """Everything the platform holds about the patient, readable by them (the read is audited)."""
    if not (actor.kind == "patient" and actor.label == patient.pseudonym):
        _authorize(actor, patient)
    identity = read_patient_identity(actor=actor if actor.kind != "patient" else Actor.system("data export"),
                                     patient=patient, purpose="data subject access export")
    preferences = ContactPreferences.objects.filter(patient=patient).first()
    return {
        "format": "sojourn.patient-export.v1",
        "exported_at": timezone.now().isoformat(),
        "record": {"pseudonym": patient.pseudonym, "program": patient.program.slug,
                   "market": patient.market.country, "locale": patient.locale, "time_zone": patient.time_zone,
                   "status": patient.status, "enrolled_at": patient.created_at.isoformat(),
                   "verified_at": patient.verified_at.isoformat() if patient.verified_at else None},
        "identity": {
            "given_name": identity.given_name, "family_name": identity.family_name, "email": identity.email,
            "phone": identity.phone, "birth_date": identity.birth_date.isoformat() if identity.birth_date else None,
            "postal_address": {**identity.postal_address.__dict__, "lines": list(identity.postal_address.lines)}
            if identity.postal_address else None,
        },
        "consents": _consents(patient),
        "contact_preferences": {
            "channels": preferences.channels,
            "quiet_hours": [str(preferences.quiet_start), str(preferences.quiet_end)] if preferences.quiet_start
            else None,
            "contact_days": preferences.contact_days,
        } if preferences else None,
        **export_sections(patient),
        "activity": [{"at": e.at.isoformat(), "action": e.action}
                     for e in AuditEntry.objects.filter(subject_type="patient", subject_id=patient.pseudonym)],
    }


def fhir_bundle(export: dict[str, Any]) -> dict[str, Any]:
    """The export as a FHIR R4 Bundle (Patient and Consent), validated with fhir.resources."""
    record, identity = export["record"], export["identity"]
    patient_id = record["pseudonym"]
    patient: dict[str, Any] = {
        "resourceType": "Patient", "id": patient_id,
        "identifier": [{"system": "urn:sojourn:pseudonym", "value": patient_id}],
        "active": record["status"] == "active",
        "name": [{"family": identity["family_name"] or None, "given": [identity["given_name"]]}],
        "telecom": [t for t in (
            {"system": "email", "value": identity["email"]} if identity["email"] else None,
            {"system": "phone", "value": identity["phone"]} if identity["phone"] else None) if t],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": record["locale"]}]},
                           "preferred": True}],
    }
    if identity["birth_date"]:
        patient["birthDate"] = identity["birth_date"]
    address = identity["postal_address"]
    if address:
        patient["address"] = [{"line": address["lines"], "postalCode": address["postal_code"],
                               "city": address["city"], "state": address["region"] or None,
                               "country": address["country"]}]
    entries = [{"fullUrl": f"urn:sojourn:patient:{patient_id}", "resource": patient}]
    for consent in export["consents"]:
        entries.append({"fullUrl": f"urn:sojourn:consent:{consent['id']}", "resource": {
            "resourceType": "Consent", "id": f"consent-{consent['id']}",
            "status": "active" if consent["status"] == "active" else "inactive",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"urn:sojourn:patient:{patient_id}"},
            "dateTime": consent["signed_at"],
            "policy": [{"uri": f"urn:sojourn:consent-version:{consent['version_sha256']}"}],
            "provision": {"type": "permit", "provision": [
                {"type": "permit" if d["granted"] and not d["withdrawn_at"] else "deny",
                 "purpose": [{"system": PURPOSE_SYSTEM, "code": d["purpose"]}]} for d in consent["decisions"]]},
        }})
    for answered in export.get("questionnaire_responses", []):
        entries.append({"fullUrl": f"urn:sojourn:questionnaire-response:{answered['id']}", "resource": {
            "resourceType": "QuestionnaireResponse", "id": f"response-{answered['id']}",
            "questionnaire": answered["questionnaire"], "status": answered["status"],
            "subject": {"reference": f"urn:sojourn:patient:{patient_id}"},
            "authored": answered["completed_at"] or answered["started_at"], "item": answered["item"]}})
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": export["exported_at"], "entry": entries}
    return json.loads(Bundle.model_validate(bundle).model_dump_json(exclude_none=True))


def complete_access_request(*, actor: Actor, request: DataSubjectRequest) -> dict[str, Any]:
    _authorize(actor, request.patient)
    if request.status != DataSubjectRequest.Status.OPEN or request.kind == DataSubjectRequest.Kind.ERASURE:
        raise Conflict(_("This request is not an open access or portability request."))
    export = export_patient_data(actor=actor, patient=request.patient)
    with transaction.atomic(durable=True):
        DataSubjectRequest.objects.filter(pk=request.pk).update(status="completed", completed_at=timezone.now())
        record_audit(actor=actor, action="dsr.completed", subject_type="patient",
                     subject_id=request.patient.pseudonym, program_id=request.patient.program_id,
                     market=request.patient.market.country, after={"request": request.pk, "kind": request.kind})
    return {"export": export, "fhir": fhir_bundle(export)}


def check_erasure_completer(actor: Actor, request: DataSubjectRequest) -> None:
    """Only a named staff member who manages the patient's market, and not the one who recorded the
    request, completes an erasure. The console asks before it shows the form; the service asks again."""
    patient = request.patient
    actor.require(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country)
    if actor.kind != "staff" or actor.user_id is None:
        raise SecondPersonRequired(_("An erasure is completed by a named staff member, not by a job or a script."))
    if request.opened_by_id is not None and request.opened_by_id == actor.user_id:
        raise SecondPersonRequired()


def erasure_retentions(patient: Patient) -> list[Retention]:
    """What the erasure of this patient would keep, and why (shown before it is done, listed after)."""
    return erasure_holds(patient)


def complete_erasure_request(*, actor: Actor, request: DataSubjectRequest) -> DataSubjectRequest:
    """Stop everything, remove what was written outside the sealed fields, keep apart what a legal duty
    keeps, destroy the patient's key, and issue a certificate that holds no PII."""
    patient = request.patient
    check_erasure_completer(actor, request)
    with transaction.atomic(durable=True):
        locked = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != DataSubjectRequest.Status.OPEN or locked.kind != DataSubjectRequest.Kind.ERASURE:
            raise Conflict(_("This request is not an open erasure request."))
        if ConsentRecord.objects.filter(patient=patient, status="active").exists():
            withdraw_consent(actor=actor, patient=patient, purposes=None, via="api", reason="erasure request")
        keep = erasure_retentions(patient)
        effects = patient_erased.run(patient)
        erased = erase_patient_identity(actor=actor, patient=patient, reason=f"data subject request {request.pk}",
                                        keep=keep)
        shredded = AuditEntry.objects.filter(action="pii.shredded", subject_id=patient.pseudonym).latest("seq")
        kept = [{"reference": r.reference, "fields": sorted(r.fields), "legal_basis": r.legal_basis,
                 "readable_with": str(r.permission)} for r in keep]
        statement = ("The key that sealed this person's identity, signatures and receipts was destroyed; "
                     "the sealed values can no longer be read by anyone.")
        if kept:
            statement += (" Only the fields listed under kept were sealed again, each under a key of its own, "
                          "for the legal duty named there; they are readable only with the permission named "
                          "there and are destroyed when that duty ends.")
        body = {"request": request.pk, "law": request.law, "patient": patient.pseudonym,
                "data_key": str(erased.data_key_id), "destroyed_at": shredded.at.isoformat(),
                "audit_entry": shredded.seq, "audit_mac": shredded.mac, "kept": kept, "statement": statement}
        body["sha256"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        locked.status, locked.completed_at, locked.certificate = "completed", timezone.now(), body
        locked.save(update_fields=["status", "completed_at", "certificate"])
        record_audit(actor=actor, action="dsr.completed", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country,
                     after={"request": request.pk, "kind": "erasure", "certificate": body["sha256"],
                            "opened_by": locked.opened_by_id, "kept": [r.reference for r in keep],
                            "effects": effects})
        return locked
