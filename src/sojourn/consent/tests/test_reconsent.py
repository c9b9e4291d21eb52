"""A material change asks enrolled patients to consent again; until they do, the old consent (and
only what it covers) continues; signing the new version replaces it, and what they now decline stops."""

from __future__ import annotations

import pytest

from sojourn.consent.models import ConsentRecord, ReconsentRequest
from sojourn.consent.portal import SESSION_PATIENT
from sojourn.consent.queries import granted_purposes, may_contact
from sojourn.consent.tests.factories import approved_version
from sojourn.core.models import AuditEntry
from sojourn.people.tests.api import Api, assert_error


@pytest.fixture
def changed(program, active_patient):
    """Version 2 of the German patient consent, approved as a material change."""
    return active_patient, approved_version(program, "DE", material=True)


@pytest.fixture
def portal(client, changed):
    patient, _version = changed
    session = client.session
    session[SESSION_PATIENT] = patient.pseudonym
    session.save()
    return client


def test_until_the_patient_signs_again_the_old_consent_still_covers_what_it_covered(changed):
    patient, version = changed
    request = ReconsentRequest.objects.get(record__patient=patient)
    assert request.new_version == version and request.closed_at is None
    assert ConsentRecord.objects.get(patient=patient, status="active").version.number == 1
    assert may_contact(patient, "email").allowed


def test_signing_the_new_version_in_the_portal_replaces_the_record_and_stops_what_is_declined(portal, changed):
    patient, version = changed
    me = portal.get("/p/me/").content.decode()
    assert 'id="reconsent-link"' in me
    page = portal.get("/p/me/reconsent/").content.decode()
    assert "Consent (de-DE)" in page and 'name="purpose_contact_sms"' in page and "checked" in page
    answers = {f"purpose_{code}": "on" for code in version.purpose_codes() if code != "contact_sms"}
    response = portal.post("/p/me/reconsent/", {**answers, "typed_name": "Lena Hoffmann"},
                           HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 302 and response["Location"] == "/p/me/?reconsented=1"

    records = {r.status: r for r in ConsentRecord.objects.filter(patient=patient)}
    assert set(records) == {"superseded", "active"} and records["active"].version == version
    assert ReconsentRequest.objects.get(record__patient=patient).closed_at is not None
    assert "contact_sms" not in granted_purposes(patient)
    assert not may_contact(patient, "sms", ignore_quiet_hours=True).allowed and may_contact(patient, "email").allowed
    entry = AuditEntry.objects.filter(action="consent.given", subject_id=patient.pseudonym).latest("seq")
    assert entry.after["reconsent"] is True and entry.after["stopped"] == ["contact_sms"]
    assert 'id="reconsent-link"' not in portal.get("/p/me/").content.decode()


def test_declining_a_required_purpose_changes_nothing(portal, changed):
    patient, version = changed
    answers = {f"purpose_{code}": "on" for code in version.purpose_codes() if code != "program_participation"}
    response = portal.post("/p/me/reconsent/", {**answers, "typed_name": "Lena Hoffmann"}, HTTP_USER_AGENT="F/1")
    assert response.status_code == 400
    assert "purpose_program_participation" in response.context["form"].errors
    assert ConsentRecord.objects.get(patient=patient, status="active").version.number == 1
    assert ReconsentRequest.objects.get(record__patient=patient).closed_at is None


def test_a_nurse_records_the_new_consent_by_phone_through_the_api(client, cast, changed):
    patient, version = changed
    api = Api(client, cast.nurse_de)
    body = {"version_id": version.pk, "answers": {code: True for code in version.purpose_codes()},
            "signature": {"typed_name": "Lena Hoffmann", "method": "phone", "signer_time_zone": "Europe/Berlin",
                          "script_version": "DE-RECONSENT-1"}}
    created = api.post(f"/patients/{patient.pseudonym}/reconsents", body)
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 2 and created.json()["recorded_by_id"] == cast.nurse_de.pk
    assert_error(api.post(f"/patients/{patient.pseudonym}/reconsents", body), 409, "conflict")
    other = approved_version(cast.program, "GB")
    assert_error(api.post(f"/patients/{patient.pseudonym}/reconsents", {**body, "version_id": other.pk}), 422,
                 "consent_version_not_usable")
    assert ConsentRecord.objects.filter(patient=patient, status="active").count() == 1
