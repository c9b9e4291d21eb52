"""A dermatologist enrolls on the HCP page, confirms the code, finds the referral code, refers a
patient, downloads the receipt and leaves; the code stops working when they do."""

from __future__ import annotations

import re

from django.core import mail

from sojourn.consent.models import ConsentRecord
from sojourn.consent.tests.factories import approved_version, code_for, form_data, hcp_form
from sojourn.core.models import AuditEntry
from sojourn.people.models import Hcp, Patient


def test_the_page_names_the_markets_identifier_and_checks_it(client, program):
    approved_version(program, "US", audience="hcp")
    page = client.get("/p/psoriasis/US/hcp/enroll/").content.decode()
    assert "Your NPI" in page
    refused = client.post("/p/psoriasis/US/hcp/enroll/", hcp_form(professional_id="1234567890"),
                          HTTP_USER_AGENT="Safari/18")
    assert refused.status_code == 400
    assert "NPI" in " ".join(refused.context["form"].errors["professional_id"])
    assert not Hcp.objects.exists() and not mail.outbox


def test_a_doctor_finds_the_referral_code_and_a_patient_enrolls_with_it(signed_in_hcp, client, program,
                                                                       django_capture_on_commit_callbacks):
    hcp = signed_in_hcp
    assert hcp.status == "active"
    page = client.get("/p/hcp/me/").content.decode()
    assert hcp.referral_code in page and "Dr Reyes" in page
    link = re.search(r'id="referral-link" type="text" readonly value="([^"]+)"', page).group(1)
    assert link.endswith(f"/p/psoriasis/US/enroll/?referral={hcp.referral_code}")

    version = approved_version(program, "US")
    patient_client = client.__class__()
    prefilled = patient_client.get(link.split("testserver", 1)[1]).content.decode()
    assert f'value="{hcp.referral_code}"' in prefilled
    with django_capture_on_commit_callbacks(execute=True):
        patient_client.post("/p/psoriasis/US/enroll/", form_data(
            version, time_zone="America/Chicago", referral_code=hcp.referral_code, email="sam@example.org",
            purpose_contact_sms=None), HTTP_USER_AGENT="Chrome/140")
    assert Patient.objects.get().referred_by == hcp
    # One referral is too few to show as a number: it could single the patient out.
    assert "fewer than 5" in client.get("/p/hcp/me/").content.decode()


def test_the_doctor_downloads_the_receipt_and_the_read_is_audited(signed_in_hcp, client):
    record = ConsentRecord.objects.get(hcp=signed_in_hcp)
    response = client.get(f"/p/hcp/me/consents/{record.pk}/receipt.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="consent.receipt_read", subject_id=signed_in_hcp.pseudonym).exists()
    # Another visitor, not signed in, gets nothing.
    assert client.__class__().get(f"/p/hcp/me/consents/{record.pk}/receipt.pdf").status_code == 404


def test_leaving_ends_the_consent_and_the_referral_code(signed_in_hcp, client, program):
    code = signed_in_hcp.referral_code
    assert client.post("/p/hcp/me/withdraw/", {}).status_code == 302  # without the tick nothing happens
    assert Hcp.objects.get().status == "active"
    client.post("/p/hcp/me/withdraw/", {"confirm": "yes"})
    hcp = Hcp.objects.get()
    assert hcp.status == "withdrawn"
    assert ConsentRecord.objects.get(hcp=hcp).status == "withdrawn"
    assert "no longer works" in client.get("/p/hcp/me/?withdrawn=1").content.decode()
    version = approved_version(program, "US")
    refused = client.__class__().post("/p/psoriasis/US/enroll/", form_data(
        version, time_zone="America/Chicago", referral_code=code, email="kim@example.org"), HTTP_USER_AGENT="X/1")
    assert refused.status_code == 400 and "referral_code" in refused.context["form"].errors
    assert not Patient.objects.exists()


def test_signing_in_by_code_says_the_same_for_unknown_addresses(signed_in_hcp, client,
                                                                django_capture_on_commit_callbacks):
    visitor = client.__class__()
    sent_before = len(mail.outbox)
    unknown = visitor.post("/p/hcp/sign-in/", {"email": "nobody@clinic.example"}).content.decode()
    assert "If this address is enrolled" in unknown and len(mail.outbox) == sent_before
    with django_capture_on_commit_callbacks(execute=True):
        visitor.post("/p/hcp/sign-in/", {"email": "DANA@clinic.example"})
    response = visitor.post("/p/hcp/sign-in/code/", {"code": code_for("dana@clinic.example")})
    assert response.status_code == 302 and response["Location"] == "/p/hcp/me/"

