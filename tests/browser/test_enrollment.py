"""A patient enrolls in German and in Japanese on a phone-sized screen, confirms the code, opens the
PDF receipt; the pages have no serious or critical accessibility violations (axe-core)."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.core import mail
from pypdf import PdfReader

from sojourn.core.models import Market
from sojourn.demo.builder import approve_demo_consent
from sojourn.demo.folder import PSORIASIS
from tests.browser.helpers import PHONE, serious_violations

PATIENT = PSORIASIS.consents()["patient"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(chromium, live_server):
    def open_page(locale: str):
        context = chromium.new_context(base_url=live_server.url, locale=locale, **PHONE)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    return open_page


@pytest.mark.parametrize(("country", "locale", "given", "family", "typed", "zone", "title"), [
    ("DE", "de-DE", "Gisela", "Brandtstätter", "Gisela Brandtstätter", "Europe/Berlin",
     PATIENT["de"]["title"]),
    ("JP", "ja-JP", "陽菜", "佐藤", "佐藤 陽菜", "Asia/Tokyo", PATIENT["ja"]["title"]),
])
def test_a_patient_enrolls_confirms_and_opens_the_receipt(phone_page, program, country, locale, given, family,
                                                          typed, zone, title):
    approve_demo_consent(program, Market.objects.get(country=country), "patient", PATIENT)
    page = phone_page(locale)
    page.goto(f"/p/psoriasis/{country}/enroll/")
    assert page.locator("h1").inner_text() == title
    assert serious_violations(page) == []

    page.locator("#id_given_name").fill(given)
    page.locator("#id_family_name").fill(family)
    page.locator("#id_email").fill(f"{country.lower()}.patient@example.org")
    page.locator("#id_birth_date").fill("1984-02-29")
    page.locator("#id_typed_name").fill(typed)
    page.locator("button[type=submit]").click()
    # The required purpose was not ticked: the page says so, in the patient's language, and saved nothing.
    page.wait_for_selector("#form-errors")
    assert serious_violations(page) == []
    page.locator("#id_purpose_program_participation").check()
    page.locator("#id_purpose_contact_email").check()
    page.locator("button[type=submit]").click()

    page.wait_for_url("**/p/verify/")
    assert serious_violations(page) == []
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.locator("#id_code").fill(code)
    page.locator("form:has(#id_code) button[type=submit]").click()  # below it, a form asks for a new code
    page.wait_for_url("**/p/me/page/")  # consented: the patient lands on their content
    page.goto("/p/me/")

    href = page.locator("#receipt-link").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(response.body())).pages)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", title) in flat and re.sub(r"\s+", "", typed) in flat
