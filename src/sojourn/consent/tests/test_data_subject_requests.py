from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from sojourn.consent.models import DataSubjectRequest
from sojourn.consent.queries import may_contact
from sojourn.consent.services.dsr import complete_access_request, complete_erasure_request, open_data_subject_request
from sojourn.consent.tests.factories import me
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, DataErased
from sojourn.core.models import AuditEntry
from sojourn.people.queries import actor_for_user
from sojourn.people.services.patients import read_patient_identity, unseal_for_patient


def test_an_access_request_exports_json_and_a_valid_fhir_bundle(active_patient):
    request = open_data_subject_request(actor=me(active_patient), patient=active_patient, kind="access", via="portal")
    assert request.law == "GDPR" and request.due_at - request.received_at == timedelta(days=30)
    result = complete_access_request(actor=me(active_patient), request=request)
    export = result["export"]
    assert export["identity"]["email"] == "lena@example.org"
    assert export["consents"][0]["signed_name"] == "Lena Hoffmann"
    assert {d["purpose"] for d in export["consents"][0]["decisions"]} >= {"program_participation", "contact_sms"}
    bundle = Bundle.model_validate(result["fhir"])
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["Patient", "Consent"]
    patient_resource = bundle.entry[0].resource
    assert patient_resource.name[0].given == ["Lena"] and str(patient_resource.birthDate) == "1985-03-14"
    request.refresh_from_db()
    assert request.status == "completed"
    assert AuditEntry.objects.filter(action="pii.read", subject_id=active_patient.pseudonym).exists()


def test_an_erasure_request_shreds_the_identity_and_issues_a_certificate(active_patient, cast):
    record = active_patient.consents.get()
    request = open_data_subject_request(actor=me(active_patient), patient=active_patient, kind="erasure",
                                        via="portal")
    with pytest.raises(Conflict):
        open_data_subject_request(actor=me(active_patient), patient=active_patient, kind="erasure", via="portal")
    done = complete_erasure_request(actor=actor_for_user(cast.nurse_de), request=request)
    certificate = done.certificate
    assert certificate["kept"] == []
    assert certificate["patient"] == active_patient.pseudonym and len(certificate["sha256"]) == 64
    assert "Lena" not in repr(certificate) and "lena@" not in repr(certificate)
    active_patient.refresh_from_db()
    assert active_patient.status == "erased"
    assert not may_contact(active_patient, "email").allowed
    with pytest.raises(DataErased):
        read_patient_identity(actor=Actor.system("check"), patient=active_patient, purpose="check")
    with pytest.raises(DataErased):  # signatures and receipts were sealed with the same key
        unseal_for_patient(active_patient, "consent_signed_name", record.signed_name_sealed)
    assert DataSubjectRequest.objects.get(pk=request.pk).status == "completed"
