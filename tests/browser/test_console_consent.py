"""A nurse enrolls a caller on the phone from the console, records the code they read back and
withdraws SMS on their behalf; the pages have no serious or critical accessibility violations."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from sojourn.consent.models import ConsentRecord
from sojourn.core.models import Market
from sojourn.demo.builder import approve_demo_consent
from sojourn.demo.folder import PSORIASIS
from sojourn.people.models import Patient
from tests.browser.helpers import serious_violations, sign_in

PATIENT = PSORIASIS.consents()["patient"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_enrolls_a_caller_by_phone(page, cast):
    approve_demo_consent(cast.program, Market.objects.get(country="GB"), "patient", PATIENT)
    sign_in(page, "nurse.gb@sponsor.example")
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="Enroll").click()
    page.wait_for_url("**/console/consent/enroll/")
    assert PATIENT["en"]["title"] in page.locator(".consent-text").inner_text()
    assert serious_violations(page) == []

    page.locator("#id_given_name").fill("Oliver")
    page.locator("#id_family_name").fill("Bennett")
    page.locator("#id_email").fill("oliver@example.org")
    page.locator("#id_birth_date").fill("1971-11-05")
    page.locator("#id_typed_name").fill("Oliver Bennett")
    page.locator("#id_purpose_program_participation").check()
    page.locator("#id_purpose_contact_email").check()
    page.locator("#id_purpose_contact_sms").check()
    page.locator("#id_confirm").check()
    page.get_by_role("button", name="Record consent and enroll").click()
    # The script version was left out: the page says which field, and nobody was enrolled.
    page.wait_for_selector("#id_script_version-error")
    assert serious_violations(page) == []
    assert not Patient.objects.exists()
    page.locator("#id_script_version").fill("GB-CALL-2")
    page.get_by_role("button", name="Record consent and enroll").click()

    page.wait_for_url("**/console/consent/patients/*/")
    assert "GB-CALL-2" in page.locator(".record").inner_text()
    assert serious_violations(page) == []
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.locator("#id_code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("#patient-status:has-text('Active')")

    page.locator("#withdraw input[value=contact_sms]").check()
    page.get_by_role("button", name="Withdraw now").click()
    page.wait_for_selector("text=The withdrawal took effect at once.")
    record = ConsentRecord.objects.get()
    assert record.decisions.get(purpose="contact_sms").withdrawn_at is not None
    assert (record.method, record.script_version) == ("phone", "GB-CALL-2")
