"""An erasure takes two people, and an open adverse-event report keeps its reporter reachable for
pharmacovigilance (and for the safety role only) until the report is closed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sojourn.consent.errors import SecondPersonRequired
from sojourn.consent.models import DataSubjectRequest
from sojourn.consent.services.dsr import complete_erasure_request, open_data_subject_request
from sojourn.consent.tests.factories import me
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, DataErased
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.models import Patient
from sojourn.people.queries import actor_for_user
from sojourn.people.services.patients import read_patient_identity, release_retained_identity
from sojourn.people.tests.api import Api, assert_error
from sojourn.people.tests.factories import make_staff
from sojourn.safety.services import decide_intake, forward_case, record_intake
from sojourn.safety.tests.helpers import assessed

pytestmark = pytest.mark.django_db


def erasure(patient: Patient, opener: Actor) -> DataSubjectRequest:
    return open_data_subject_request(actor=opener, patient=patient, kind="erasure", via="phone")


def test_the_nurse_who_records_an_erasure_cannot_complete_it_and_both_people_are_audited(
        active_patient, cast):
    first, second = actor_for_user(cast.nurse_de), actor_for_user(cast.admin)
    request = erasure(active_patient, first)
    with pytest.raises(SecondPersonRequired):
        complete_erasure_request(actor=first, request=request)
    with pytest.raises(SecondPersonRequired):  # a script is nobody: it cannot be the second person
        complete_erasure_request(actor=Actor.system("cli"), request=request)
    with pytest.raises(AccessDenied):  # nor is the patient, who asks but does not carry it out
        complete_erasure_request(actor=me(active_patient), request=request)
    assert Patient.objects.get(pk=active_patient.pk).status == "active"
    assert not AuditEntry.objects.filter(action__in=["pii.shredded", "dsr.completed"]).exists()
    complete_erasure_request(actor=second, request=request)
    assert Patient.objects.get(pk=active_patient.pk).status == "erased"
    opened = AuditEntry.objects.get(action="dsr.opened")
    completed = AuditEntry.objects.get(action="dsr.completed")
    assert opened.actor_id == str(cast.nurse_de.pk) and completed.actor_id == str(cast.admin.pk)
    assert completed.after["opened_by"] == cast.nurse_de.pk


def test_a_request_the_patient_made_in_the_portal_is_completed_by_one_nurse(active_patient, cast):
    request = erasure(active_patient, me(active_patient))
    done = complete_erasure_request(actor=actor_for_user(cast.nurse_de), request=request)
    assert done.status == "completed" and done.opened_by_id is None


@pytest.fixture
def reported(active_patient, cast):
    """The German nurse's call found an adverse event: an intake open for pharmacovigilance."""
    referral = record_intake(actor=actor_for_user(cast.nurse_de), patient=active_patient, source="nurse call",
                             reason="adverse event reported on a call", detail={}, idempotency_key="call:1",
                             day_zero=timezone.now())
    return active_patient, referral


def test_an_open_safety_report_keeps_its_reporter_for_the_safety_officer_only(reported, cast, client):
    patient, referral = reported
    officer = make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program)
    request = Api(client, cast.nurse_de).post(f"/patients/{patient.pseudonym}/data-requests",
                                              {"kind": "erasure", "via": "phone"}).json()
    client.force_login(cast.admin)  # the second person is told, before erasing, what pharmacovigilance keeps
    page = client.get(f"/console/consent/requests/{request['id']}/erasure/").content.decode()
    assert "This patient has 1 open adverse-event report." in page and "readable only by safety officers" in page
    done = Api(client, cast.admin).post(f"/data-requests/{request['id']}/erasure-completion")
    assert done.status_code == 200, done.content
    certificate = done.json()["certificate"]
    assert certificate["kept"] == [{"reference": f"safety-referral:{referral.pk}",
                                    "fields": ["email", "family_name", "given_name", "phone"],
                                    "legal_basis": certificate["kept"][0]["legal_basis"],
                                    "readable_with": "safety.manage"}]
    assert "GVP" in certificate["kept"][0]["legal_basis"] and "Lena" not in str(certificate)
    assert AuditEntry.objects.get(action="pii.retained").after["reference"] == f"safety-referral:{referral.pk}"

    read = {"purpose": "follow-up of the adverse event"}
    followed_up = Api(client, officer).post(f"/patients/{patient.pseudonym}/identity-reads", read)
    assert followed_up.status_code == 200, followed_up.content
    assert followed_up.json() | {"given_name": "Lena", "family_name": "Hoffmann", "email": "lena@example.org",
                                 "phone": "+4930901820", "birth_date": None, "postal_address": None} == \
        followed_up.json()
    assert AuditEntry.objects.filter(action="pii.read").latest("seq").after["retained"] == [
        f"safety-referral:{referral.pk}"]
    assert_error(Api(client, cast.nurse_de).post(f"/patients/{patient.pseudonym}/identity-reads", read),
                 410, "erased")

    # The case closed in the safety database: the last copy goes the way the rest went.
    release_retained_identity(actor=actor_for_user(officer), patient=patient,
                              reference=f"safety-referral:{referral.pk}", reason="case closed")
    assert_error(Api(client, officer).post(f"/patients/{patient.pseudonym}/identity-reads", read), 410, "erased")


def test_a_forwarded_report_keeps_nothing_and_the_safety_officer_is_told_the_data_is_erased(reported, cast):
    patient, referral = reported
    officer = actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program))
    decided = decide_intake(actor=officer, intake=referral, kind="adverse_event", reason="", at=timezone.now())
    forward_case(actor=officer, case=assessed(officer, decided.case, timezone.now()), at=timezone.now())
    done = complete_erasure_request(actor=actor_for_user(cast.admin), request=erasure(patient, me(patient)))
    assert done.certificate["kept"] == []
    with pytest.raises(DataErased):
        read_patient_identity(actor=officer, patient=Patient.objects.select_related("market", "data_key")
                              .get(pk=patient.pk), purpose="follow-up")
