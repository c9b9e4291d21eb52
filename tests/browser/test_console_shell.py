from __future__ import annotations

import pytest

from sojourn.people.tests.factories import make_patient
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_signs_in_and_switches_market(page, cast):
    sign_in(page, "admin@sponsor.example")
    page.wait_for_url("**/console/")
    assert page.locator("h1").inner_text().startswith("Psoriasis companion")
    assert page.locator("article[data-market]").count() == 5
    page.get_by_label("Market", exact=True).select_option("JP")  # htmx posts the switch and reloads
    page.wait_for_selector("#current-scope:has-text('Japan')")
    assert page.locator("article[data-market]").count() == 1
    assert page.locator("article[data-market='JP']").is_visible()


def test_a_german_nurse_sees_german_patients_in_german(page, cast):
    de = make_patient(cast.program, "DE", given_name="Gisela", email="gisela@example.org")
    uk = make_patient(cast.program, "GB", email="oliver@example.org")
    sign_in(page, "nurse.de@sponsor.example")
    page.wait_for_url("**/console/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.goto("/console/patients/")
    assert page.get_by_text(de.pseudonym).is_visible()
    assert page.get_by_text(uk.pseudonym).count() == 0
    page.get_by_text(de.pseudonym).click()
    page.locator("#id_purpose").fill("Rückruf wegen Rezept")
    page.locator("#identity button").click()
    page.wait_for_selector("#identity-data")
    assert "Gisela" in page.locator("#identity-data").inner_text()
