"""The consent API as a partner system or a nurse's tool uses it: enroll, confirm, read, withdraw,
change preferences, and answer data-subject requests, with a precise JSON error for bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.core import mail
from pypdf import PdfReader

from sojourn.consent.models import ConsentRecord
from sojourn.consent.queries import may_contact
from sojourn.consent.tests.factories import approved_version
from sojourn.core.models import AuditEntry
from sojourn.people.models import Hcp, Patient
from sojourn.people.tests.api import Api, assert_error


@pytest.fixture
def versions(program):
    return {"DE": approved_version(program, "DE"), "GB": approved_version(program, "GB")}


def phone_enrollment(version, **changes) -> dict:
    body = {
        "market": "DE", "version_id": version.pk, "locale": "de-DE", "time_zone": "Europe/Berlin",
        "given_name": "Jonas", "family_name": "Weber", "email": "jonas@example.org", "birth_date": "1979-06-02",
        "answers": {code: True for code in version.purpose_codes()},
        "signature": {"typed_name": "Jonas Weber", "method": "phone", "signer_time_zone": "Europe/Berlin",
                      "script_version": "DE-CALL-3"},
    }
    body.update(changes)
    return body


def code_sent_to(address: str) -> str:
    return re.search(r"\b(\d{6})\b", [m for m in mail.outbox if address in m.to][-1].body).group(1)


@pytest.fixture
def enrolled(client, cast, versions, django_capture_on_commit_callbacks):
    """Jonas, enrolled by the German nurse on the phone and confirmed with the code he read back."""
    api = Api(client, cast.nurse_de)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/programs/psoriasis/enrollments", phone_enrollment(versions["DE"]))
    assert created.status_code == 201, created.content
    pseudonym = created.json()["pseudonym"]
    confirmed = api.post(f"/patients/{pseudonym}/verification", {"code": code_sent_to("jonas@example.org")})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active"
    return api, Patient.objects.select_related("market", "program", "data_key").get(pseudonym=pseudonym)


def test_partner_sees_the_versions_people_sign_today_in_its_markets(client, cast, versions):
    listed = Api(client, cast.nurse_de).get("/programs/psoriasis/consent-versions").json()
    assert [(v["market"], v["audience"]) for v in listed] == [("DE", "patient")]
    assert {t["locale"] for t in listed[0]["texts"]} == {"de-DE"}
    assert listed[0]["sha256"] == versions["DE"].sha256
    assert {p["code"] for p in listed[0]["purposes"]} == set(versions["DE"].purpose_codes())


def test_a_nurse_enrolls_by_phone_with_the_script_and_the_patient_confirms_the_code(enrolled, cast):
    api, patient = enrolled
    records = api.get(f"/patients/{patient.pseudonym}/consents").json()
    assert len(records) == 1
    record = records[0]
    assert record["method"] == "phone" and record["script_version"] == "DE-CALL-3"
    assert record["recorded_by_id"] == cast.nurse_de.pk and record["status"] == "active"
    assert all(d["granted"] for d in record["decisions"])
    assert "Jonas" not in str(records)  # the signed name is personal data: only the receipt holds it
    assert may_contact(patient, "email").allowed


def test_the_receipt_is_readable_by_the_nurse_and_each_read_is_audited(enrolled, client, cast):
    api, patient = enrolled
    record = ConsentRecord.objects.get(patient=patient)
    response = api.get(f"/patients/{patient.pseudonym}/consents/{record.pk}/receipt")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    assert "Jonas Weber" in text
    assert AuditEntry.objects.filter(action="consent.receipt_read", subject_id=patient.pseudonym).count() == 1
    # The GB nurse and the analyst cannot see this patient at all.
    for user in (cast.nurse_gb, cast.analyst):
        assert_error(Api(client, user).get(f"/patients/{patient.pseudonym}/consents/{record.pk}/receipt"),
                     404, "not_found")


@pytest.mark.parametrize(("change", "field"), [
    ({"answers": {"program_participation": False}}, "answers.program_participation"),
    ({"signature": {"typed_name": "Jonas Weber", "method": "phone", "signer_time_zone": "Europe/Berlin"}},
     "script_version"),
    ({"signature": {"typed_name": "Jonas Weber", "method": "web", "signer_time_zone": "Europe/Berlin"}},
     "ip_address"),
    ({"signature": {"typed_name": "Jonas", "method": "phone", "signer_time_zone": "Mars/Olympus",
                    "script_version": "DE-CALL-3"}}, "signer_time_zone"),
    ({"answers": {"program_participation": True, "sell_my_data": True}}, "answers.sell_my_data"),
    ({"birth_date": "1979-02-30"}, "birth_date"),
    ({"email": "not an address"}, "email"),
    ({"market": "de"}, "market"),
])
def test_bad_enrollments_are_refused_field_by_field_and_write_nothing(client, cast, versions, change, field):
    response = Api(client, cast.nurse_de).post("/programs/psoriasis/enrollments",
                                               phone_enrollment(versions["DE"], **change))
    assert response.status_code in (400, 422), response.content
    fields = {d.get("field") for d in response.json()["error"]["details"]}
    assert field in fields, response.json()
    assert not Patient.objects.exists() and not ConsentRecord.objects.exists() and not mail.outbox


def test_a_version_of_another_market_cannot_be_signed(client, cast, versions):
    response = Api(client, cast.nurse_de).post("/programs/psoriasis/enrollments",
                                               phone_enrollment(versions["DE"], version_id=versions["GB"].pk))
    assert_error(response, 422, "consent_version_not_usable")
    assert not Patient.objects.exists()


def test_a_nurse_cannot_enroll_outside_her_market(client, cast, versions):
    body = phone_enrollment(versions["DE"])
    assert_error(Api(client, cast.nurse_gb).post("/programs/psoriasis/enrollments", body), 403, "forbidden")
    assert not Patient.objects.exists()


def test_enrolling_the_same_person_twice_is_explained(enrolled, versions):
    api, _patient = enrolled
    again = api.post("/programs/psoriasis/enrollments", phone_enrollment(versions["DE"], email="JONAS@example.org"))
    error = assert_error(again, 409, "conflict")
    assert error["details"][0]["field"] == "email"
    assert Patient.objects.count() == 1


def test_a_wrong_code_is_refused_and_the_patient_stays_pending(client, cast, versions,
                                                              django_capture_on_commit_callbacks):
    api = Api(client, cast.nurse_de)
    with django_capture_on_commit_callbacks(execute=True):
        pseudonym = api.post("/programs/psoriasis/enrollments", phone_enrollment(versions["DE"])).json()["pseudonym"]
    right = code_sent_to("jonas@example.org")
    wrong = "000000" if right != "000000" else "111111"
    error = assert_error(api.post(f"/patients/{pseudonym}/verification", {"code": wrong}), 422,
                         "verification_failed")
    assert error["details"][0]["field"] == "code"
    assert_error(api.post(f"/patients/{pseudonym}/verification", {"code": "12ab"}), 422, "invalid")
    assert Patient.objects.get(pseudonym=pseudonym).status == "pending"


def test_withdrawing_one_purpose_then_everything(enrolled):
    api, patient = enrolled
    partial = api.post(f"/patients/{patient.pseudonym}/withdrawals", {"purposes": ["contact_email"], "via": "nurse",
                                                                      "reason": "prefers post"})
    assert partial.status_code == 201 and partial.json() == {**partial.json(), "purposes": ["contact_email"],
                                                             "everything": False}
    assert not may_contact(patient, "email").allowed
    assert may_contact(patient, "print").allowed
    everything = api.post(f"/patients/{patient.pseudonym}/withdrawals", {"via": "nurse"})
    assert everything.status_code == 201 and everything.json()["everything"] is True
    patient.refresh_from_db()
    assert patient.status == "withdrawn" and not may_contact(patient, "print").allowed
    assert_error(api.post(f"/patients/{patient.pseudonym}/withdrawals", {}), 422, "not_consented")
    assert_error(api.post(f"/patients/{patient.pseudonym}/withdrawals", {"purposes": "all"}), 422, "invalid")


def test_preferences_stay_within_the_consent(enrolled):
    api, patient = enrolled
    api.post(f"/patients/{patient.pseudonym}/withdrawals", {"purposes": ["contact_sms"], "via": "nurse"})
    refused = api.put(f"/patients/{patient.pseudonym}/preferences", {"channels": ["email", "sms"], "locale": "de-DE"})
    assert assert_error(refused, 422, "invalid")["details"][0]["field"] == "channels"
    saved = api.put(f"/patients/{patient.pseudonym}/preferences", {
        "channels": ["email", "print"], "locale": "de-DE", "quiet_start": "20:00", "quiet_end": "09:00",
        "contact_days": [1, 3, 5]})
    assert saved.status_code == 200, saved.content
    assert saved.json()["channels"] == ["email", "print"] and saved.json()["contact_days"] == [1, 3, 5]
    assert api.get(f"/patients/{patient.pseudonym}/preferences").json()["quiet_start"] == "20:00:00"


def test_access_then_erasure_requests_are_answered_with_an_export_and_a_certificate(enrolled, cast):
    api, patient = enrolled
    opened = api.post(f"/patients/{patient.pseudonym}/data-requests", {"kind": "access", "via": "phone"})
    assert opened.status_code == 201
    request = opened.json()
    assert request["law"] == "GDPR" and request["status"] == "open"
    from datetime import datetime

    due = datetime.fromisoformat(request["due_at"]) - datetime.fromisoformat(request["received_at"])
    assert due == timedelta(days=30)
    assert_error(api.post(f"/patients/{patient.pseudonym}/data-requests", {"kind": "access"}), 409, "conflict")
    listed = api.get("/programs/psoriasis/data-requests", status="open").json()
    assert [r["id"] for r in listed] == [request["id"]]

    answer = api.post(f"/data-requests/{request['id']}/access-completion")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["request"]["status"] == "completed"
    assert body["export"]["identity"]["email"] == "jonas@example.org"
    assert body["fhir"]["resourceType"] == "Bundle"
    assert_error(api.post(f"/data-requests/{request['id']}/access-completion"), 409, "conflict")

    erasure = api.post(f"/patients/{patient.pseudonym}/data-requests", {"kind": "erasure"}).json()
    assert_error(api.post(f"/data-requests/{erasure['id']}/access-completion"), 409, "conflict")
    # The nurse who recorded it does not also carry it out; a second person with the right does.
    assert_error(api.post(f"/data-requests/{erasure['id']}/erasure-completion"), 403, "second_person_required")
    done = Api(api.client, cast.admin).post(f"/data-requests/{erasure['id']}/erasure-completion")
    assert done.status_code == 200, done.content
    certificate = done.json()["certificate"]
    assert certificate["patient"] == patient.pseudonym and len(certificate["sha256"]) == 64
    assert "jonas" not in str(certificate).lower()
    patient.refresh_from_db()
    assert patient.status == "erased" and not may_contact(patient, "email").allowed
    record = ConsentRecord.objects.get(patient=patient)
    assert_error(api.get(f"/patients/{patient.pseudonym}/consents/{record.pk}/receipt"), 410, "erased")


def test_data_requests_of_other_markets_are_invisible(enrolled, client, cast):
    api, patient = enrolled
    request = api.post(f"/patients/{patient.pseudonym}/data-requests", {"kind": "access"}).json()
    other = Api(client, cast.nurse_gb)
    assert other.get("/programs/psoriasis/data-requests").json() == []
    assert_error(other.post(f"/data-requests/{request['id']}/access-completion"), 404, "not_found")


def test_an_hcp_is_enrolled_through_the_api_with_a_checked_professional_id(client, cast, program,
                                                                         django_capture_on_commit_callbacks):
    version = approved_version(program, "US", audience="hcp")
    body = {"market": "US", "version_id": version.pk, "locale": "en-US", "time_zone": "America/Chicago",
            "given_name": "Dana", "family_name": "Reyes", "email": "dana@clinic.example",
            "professional_id": "1234567890", "specialty": "dermatology",
            "answers": {"program_participation": True, "contact_email": True},
            "signature": {"typed_name": "Dana Reyes", "method": "paper", "signer_time_zone": "America/Chicago"}}
    api = Api(client, cast.admin)
    refused = api.post("/programs/psoriasis/hcp-enrollments", body)
    assert assert_error(refused, 422, "invalid")["details"][0]["field"] == "professional_id"
    assert not Hcp.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/programs/psoriasis/hcp-enrollments", {**body, "professional_id": "1234567893"})
    assert created.status_code == 201, created.content
    assert re.fullmatch(r"[2-9A-Z]{8}", created.json()["referral_code"])
    assert created.json()["consent"]["method"] == "paper"
    assert [m.to for m in mail.outbox] == [["dana@clinic.example"]]
    # A nurse does not manage the HCP track.
    assert_error(Api(client, cast.nurse_de).post("/programs/psoriasis/hcp-enrollments", body), 403, "forbidden")
