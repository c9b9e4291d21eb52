from __future__ import annotations

import re

import pytest
from django.core import mail

from sojourn.consent.services.enrollment import verify_hcp
from sojourn.consent.tests.factories import SELF, dermatologist, enroll
from sojourn.core.errors import Conflict, InvalidInput
from sojourn.core.professional_ids import check_lanr, check_npi


@pytest.mark.parametrize(("npi", "ok"), [("1234567893", True), ("1245319599", True), ("1234567890", False),
                                          ("3234567893", False), ("12345", False)])
def test_us_npi_check_digit(npi, ok):
    assert (check_npi(npi) is None) is ok


@pytest.mark.parametrize(("lanr", "ok"), [("123456601", True), ("123456701", False), ("12345", False)])
def test_german_lanr_check_digit(lanr, ok):
    assert (check_lanr(lanr) is None) is ok


def test_a_dermatologist_enrolls_verifies_and_refers_a_patient(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hcp, record = dermatologist(program)
    assert hcp.status == "pending" and len(hcp.referral_code) == 8 and record.hcp == hcp
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    hcp = verify_hcp(actor=SELF, hcp=hcp, code=code)
    assert hcp.status == "active"
    patient, _ = enroll(program, "US", referral_code=hcp.referral_code.lower(), email="referred@example.org")
    assert patient.referred_by == hcp


def test_a_wrong_npi_or_a_second_enrollment_is_refused(program):
    with pytest.raises(InvalidInput) as refused:
        dermatologist(program, professional_id="1234567890")
    assert refused.value.details[0].field == "professional_id" and "NPI" in refused.value.message
    dermatologist(program)
    with pytest.raises(Conflict):
        dermatologist(program, email="other@clinic.example")


def test_an_unknown_referral_code_is_refused(program):
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "US", referral_code="NOPE2345")
    assert refused.value.field == "referral_code"
