from __future__ import annotations

import pytest

from sojourn.core.models import AuditEntry
from sojourn.people.models import Patient
from sojourn.people.tests.api import assert_error, bearer
from sojourn.people.tests.factories import make_patient

NEW_PATIENT = {
    "market": "DE", "locale": "de-DE", "time_zone": "Europe/Berlin", "given_name": "Lena",
    "family_name": "Hoffmann", "email": "lena@example.org", "phone": "+49 30 901820", "birth_date": "1984-02-29",
}


def test_openapi_document_is_served(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Sojourn API"
    assert "/api/v1/programs/{slug}/patients" in doc["paths"]


def test_without_credentials_the_answer_is_a_json_401(client, db):
    assert_error(client.get("/api/v1/programs"), 401, "unauthenticated")
    assert_error(client.get("/api/v1/programs", HTTP_AUTHORIZATION="Bearer sjn_wrong"), 401, "unauthenticated")


def test_a_token_sees_only_its_programs(client, cast):
    programs = client.get("/api/v1/programs", **{"HTTP_" + k.upper(): v for k, v in bearer(cast.nurse_de).items()})
    assert [p["slug"] for p in programs.json()] == ["psoriasis"]
    detail = client.get("/api/v1/programs/psoriasis", HTTP_AUTHORIZATION=bearer(cast.nurse_de)["Authorization"])
    assert [m["country"] for m in detail.json()["markets"]] == ["DE"]
    assert_error(client.get("/api/v1/programs/eczema", HTTP_AUTHORIZATION=bearer(cast.nurse_de)["Authorization"]),
                 404, "not_found")


def test_patient_registration_through_the_api(client, cast):
    auth = bearer(cast.nurse_de)["Authorization"]
    created = client.post("/api/v1/programs/psoriasis/patients", NEW_PATIENT, content_type="application/json",
                          HTTP_AUTHORIZATION=auth)
    assert created.status_code == 201
    body = created.json()
    assert body["market"] == "DE" and body["status"] == "pending" and "given_name" not in body
    duplicate = client.post("/api/v1/programs/psoriasis/patients", {**NEW_PATIENT, "email": "LENA@example.org"},
                            content_type="application/json", HTTP_AUTHORIZATION=auth)
    error = assert_error(duplicate, 409, "conflict")
    assert error["details"] == [{"field": "email", "message": error["message"]}]
    assert Patient.objects.count() == 1


def test_malformed_and_invalid_bodies_name_the_field(client, cast):
    auth = bearer(cast.nurse_de)["Authorization"]
    url = "/api/v1/programs/psoriasis/patients"
    bad_json = client.post(url, "{not json", content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert bad_json.status_code in (400, 422) and bad_json.json()["error"]["code"] in ("invalid", "http_error")
    wrong_type = client.post(url, {**NEW_PATIENT, "birth_date": "yesterday"}, content_type="application/json",
                             HTTP_AUTHORIZATION=auth)
    error = assert_error(wrong_type, 422, "invalid")
    assert error["details"][0]["field"] == "birth_date"
    bad_phone = client.post(url, {**NEW_PATIENT, "phone": "12"}, content_type="application/json",
                            HTTP_AUTHORIZATION=auth)
    assert assert_error(bad_phone, 422, "invalid")["details"][0]["field"] == "phone"
    assert Patient.objects.count() == 0


def test_a_german_nurse_cannot_read_a_uk_patient_through_the_api(client, cast):
    uk = make_patient(cast.program, "GB")
    auth = bearer(cast.nurse_de)["Authorization"]
    assert_error(client.get(f"/api/v1/patients/{uk.pseudonym}", HTTP_AUTHORIZATION=auth), 404, "not_found")
    read = client.post(f"/api/v1/patients/{uk.pseudonym}/identity-reads", {"purpose": "curious"},
                       content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert_error(read, 404, "not_found")
    assert not AuditEntry.objects.filter(action="pii.read").exists()


def test_identity_reads_are_audited_and_the_analyst_is_refused(client, cast):
    patient = make_patient(cast.program, "DE", given_name="Jonas")
    read = client.post(f"/api/v1/patients/{patient.pseudonym}/identity-reads", {"purpose": "refill call"},
                       content_type="application/json", HTTP_AUTHORIZATION=bearer(cast.nurse_de)["Authorization"])
    assert read.status_code == 200 and read.json()["given_name"] == "Jonas"
    assert AuditEntry.objects.filter(action="pii.read", subject_id=patient.pseudonym).count() == 1
    analyst = client.post(f"/api/v1/patients/{patient.pseudonym}/identity-reads", {"purpose": "look"},
                          content_type="application/json", HTTP_AUTHORIZATION=bearer(cast.analyst)["Authorization"])
    assert analyst.status_code == 404


def test_session_callers_need_the_csrf_token_for_writes(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.nurse_de)
    assert client.get("/api/v1/me").json()["grants"][0]["markets"] == ["DE"]
    refused = client.post("/api/v1/programs/psoriasis/patients", NEW_PATIENT, content_type="application/json")
    assert refused.status_code in (401, 403)
    assert Patient.objects.count() == 0


@pytest.mark.django_db
def test_market_pack_validation_endpoint_reports_lines(client, cast):
    response = client.post("/api/v1/market-packs/validate", {"text": "country: DE\nname: 5\n"},
                           content_type="application/json", HTTP_AUTHORIZATION=bearer(cast.admin)["Authorization"])
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    assert {"line": 2, "field": "name", "message": "Input should be a valid string"} in body["problems"]
