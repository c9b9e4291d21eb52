"""Console pages a nurse uses for consent: phone enrollment, the code read back, withdrawal on the
patient's behalf, and data-subject requests with their deadlines."""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail

from sojourn.consent.models import ConsentRecord, DataSubjectRequest
from sojourn.consent.queries import may_contact
from sojourn.consent.tests.factories import approved_version
from sojourn.core.models import AuditEntry
from sojourn.people.models import Patient


@pytest.fixture
def version(program):
    return approved_version(program, "DE")


def phone_form(version, **changes) -> dict:
    data = {
        "locale": "de-DE", "method": "phone", "script_version": "DE-CALL-3", "given_name": "Jonas",
        "family_name": "Weber", "email": "jonas@example.org", "birth_date": "1979-06-02",
        "time_zone": "Europe/Berlin", "typed_name": "Jonas Weber", "confirm": "on",
        **{f"purpose_{code}": "on" for code in version.purpose_codes()},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def nurse(client, cast):
    client.force_login(cast.nurse_de)
    return client


def enroll_jonas(nurse, version, django_capture_on_commit_callbacks) -> Patient:
    with django_capture_on_commit_callbacks(execute=True):
        response = nurse.post("/console/consent/enroll/", phone_form(version))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Patient.objects.select_related("market", "program", "data_key").get()


def test_a_nurse_enrolls_a_caller_and_confirms_the_code_they_read_back(nurse, cast, version,
                                                                      django_capture_on_commit_callbacks):
    form = nurse.get("/console/consent/enroll/")
    page = form.content.decode()
    assert form.status_code == 200 and "patient consent DE" not in page  # the text shown is the locale's
    assert "Consent (de-DE)" in page and 'name="script_version"' in page

    patient = enroll_jonas(nurse, version, django_capture_on_commit_callbacks)
    record = ConsentRecord.objects.get(patient=patient)
    assert (record.method, record.script_version, record.recorded_by_id) == ("phone", "DE-CALL-3", cast.nurse_de.pk)
    assert patient.status == "pending"

    detail = nurse.get(f"/console/consent/patients/{patient.pseudonym}/").content.decode()
    assert "DE-CALL-3" in detail and "Jonas" not in detail  # evidence shown, identity not

    wrong = nurse.post(f"/console/consent/patients/{patient.pseudonym}/code/", {"code": "12345x"})
    assert wrong.status_code == 400
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    confirmed = nurse.post(f"/console/consent/patients/{patient.pseudonym}/code/", {"code": code})
    assert confirmed.status_code == 302
    patient.refresh_from_db()
    assert patient.status == "active" and may_contact(patient, "email").allowed


@pytest.mark.parametrize(("change", "field"), [
    ({"script_version": ""}, "script_version"),
    ({"confirm": None}, "confirm"),
    ({"purpose_program_participation": None}, "purpose_program_participation"),
    ({"birth_date": "2030-01-01"}, "birth_date"),
])
def test_an_incomplete_phone_enrollment_is_refused_next_to_the_field(nurse, version, change, field):
    response = nurse.post("/console/consent/enroll/", phone_form(version, **change))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert not Patient.objects.exists() and not mail.outbox


def test_withdrawal_on_the_patients_behalf_takes_effect_at_once(nurse, version, django_capture_on_commit_callbacks):
    patient = enroll_jonas(nurse, version, django_capture_on_commit_callbacks)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    nurse.post(f"/console/consent/patients/{patient.pseudonym}/code/", {"code": code})
    response = nurse.post(f"/console/consent/patients/{patient.pseudonym}/withdraw/",
                          {"scope": "contact_sms", "via": "nurse", "reason": "too many texts"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert not may_contact(patient, "sms").allowed and may_contact(patient, "email").allowed
    entry = AuditEntry.objects.filter(action="consent.withdrawn").latest("seq")
    assert entry.after["via"] == "nurse" and entry.after["purposes"] == ["contact_sms"]
    unknown = nurse.post(f"/console/consent/patients/{patient.pseudonym}/withdraw/",
                         {"scope": "sell_my_data", "via": "nurse"})
    assert unknown.status_code == 400


def test_a_nurse_of_another_market_sees_nothing(client, cast, nurse, version, django_capture_on_commit_callbacks):
    patient = enroll_jonas(nurse, version, django_capture_on_commit_callbacks)
    client.force_login(cast.nurse_gb)
    assert client.get(f"/console/consent/patients/{patient.pseudonym}/").status_code == 404
    assert client.post(f"/console/consent/patients/{patient.pseudonym}/withdraw/",
                       {"scope": "everything", "via": "nurse"}).status_code == 404
    record = ConsentRecord.objects.get(patient=patient)
    assert client.get(f"/console/consent/records/{record.pk}/receipt.pdf").status_code == 404
    assert Patient.objects.get().status == "pending"


def test_the_analyst_has_no_enrollment_or_requests(client, cast, version):
    client.force_login(cast.analyst)
    assert "/console/consent/enroll/" not in client.get("/console/").content.decode()
    assert client.get("/console/consent/enroll/").status_code == 403
    assert client.get("/console/consent/requests/").status_code == 403


def test_requests_are_listed_with_their_deadline_and_answered(nurse, cast, version,
                                                             django_capture_on_commit_callbacks):
    patient = enroll_jonas(nurse, version, django_capture_on_commit_callbacks)
    for kind in ("access", "erasure"):
        response = nurse.post(f"/console/consent/patients/{patient.pseudonym}/data-requests/",
                              {"kind": kind, "via": "phone"})
        assert response.status_code == 302
    duplicate = nurse.post(f"/console/consent/patients/{patient.pseudonym}/data-requests/",
                           {"kind": "access", "via": "phone"})
    assert duplicate.status_code == 400 and DataSubjectRequest.objects.count() == 2
    listing = nurse.get("/console/consent/requests/").content.decode()
    assert listing.count('id="request-') == 2 and listing.count('data-days-left="29"') == 2

    access = DataSubjectRequest.objects.get(kind="access")
    export = nurse.post(f"/console/consent/requests/{access.pk}/access/")
    assert export["Content-Type"] == "application/json" and "attachment" in export["Content-Disposition"]
    body = json.loads(export.content)
    assert body["export"]["identity"]["family_name"] == "Weber" and body["fhir"]["resourceType"] == "Bundle"

    erasure = DataSubjectRequest.objects.get(kind="erasure")
    # The nurse who recorded the erasure is told that a second person completes it, and cannot force it.
    own = nurse.get(f"/console/consent/requests/{erasure.pk}/erasure/")
    assert own.status_code == 403 and "<form" not in own.content.decode().split("<main", 1)[-1]
    forced = nurse.post(f"/console/consent/requests/{erasure.pk}/erasure/", {"pseudonym": patient.pseudonym})
    assert forced.status_code == 403 and Patient.objects.get().status != "erased"
    nurse.force_login(cast.admin)
    refused = nurse.post(f"/console/consent/requests/{erasure.pk}/erasure/", {"pseudonym": "PWRONG"})
    assert refused.status_code == 400 and Patient.objects.get().status != "erased"
    done = nurse.post(f"/console/consent/requests/{erasure.pk}/erasure/", {"pseudonym": patient.pseudonym})
    assert done.status_code == 200 and "sha256" in done.content.decode()
    assert Patient.objects.get().status == "erased"
    assert 'id="request-' not in nurse.get("/console/consent/requests/").content.decode()
