"""A patient fills the needs analysis on a phone in German and in Japanese, one question per screen;
the pages pass axe; the nurse of the market then sees the profile changed."""

from __future__ import annotations

import pytest

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, approved_version, enroll
from sojourn.core.actors import Actor
from sojourn.core.permissions import Role
from sojourn.people.tests.factories import PASSWORD, make_staff
from sojourn.questionnaires.needs_analysis import NEEDS
from sojourn.questionnaires.tests.factories import approved_instrument
from sojourn.tracking.models import PatientNeed
from sojourn.tracking.services.taxonomy import define_need, map_scale_to_need
from tests.browser.helpers import PHONE, last_code, serious_violations, sign_in_to_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("country", "locale", "first_question", "sent"), [
    ("DE", "de-DE", "Welche Behandlungen nutzen Sie zurzeit?", "Danke"),
    ("JP", "ja-JP", "現在、どの治療を受けていますか?", "ありがとうございました"),
])
def test_a_patient_fills_the_needs_analysis_and_the_profile_changes(chromium, live_server, program, country, locale,
                                                                     first_question, sent):
    system = Actor.system("test")
    analysis = approved_instrument(program, "psoriasis-needs")
    for position, (code, labels) in enumerate(NEEDS.items()):
        need = define_need(actor=system, program=program, code=code, labels=labels, position=position)
        map_scale_to_need(actor=system, need=need, questionnaire=analysis, scale=code)
    email = f"{country.lower()}.needs@example.org"
    patient, _record = enroll(program, country, version=approved_version(program, country), email=email)
    verify_patient(actor=SELF, patient=patient, code=last_code(email))
    nurse_email = f"nurse.{country.lower()}@sponsor.example"
    make_staff(nurse_email, Role.NURSE, program, (country,), language=locale.split("-")[0])

    context = chromium.new_context(base_url=live_server.url, locale=locale, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_to_portal(page, email)
    page.goto("/p/me/")
    page.locator("#questionnaires-link").click()
    page.locator("ul.questionnaires a").first.click()

    assert page.locator("h1.question").inner_text() == first_question
    assert serious_violations(page) == []
    page.locator("button[type=submit]").click()  # nothing chosen: the page says so and stays
    page.wait_for_selector("#answer-error")
    page.locator("input[value=topical]").check()
    page.locator("button[type=submit]").click()
    # Every scored question: the highest answer for itch, the lowest elsewhere; the wish stays empty.
    while "/review/" not in page.url:
        radios = page.locator("input[type=radio]")
        if radios.count():
            (radios.last if "na-itch" in page.url else radios.first).check()
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
    assert serious_violations(page) == []
    page.locator("button[type=submit]").click()
    page.wait_for_selector(f"text={sent}")
    context.close()

    itch = PatientNeed.objects.get(patient=patient, need__code="itch")
    assert itch.combined == 1.0
    staff = chromium.new_context(base_url=live_server.url, locale=locale)
    console = staff.new_page()
    console.goto("/console/sign-in/")
    console.locator("#id_username").fill(nurse_email)
    console.locator("#id_password").fill(PASSWORD)
    console.locator("button[type=submit]").click()
    console.wait_for_url("**/console/")
    console.goto(f"/console/profiles/patients/{patient.pseudonym}/profile/")
    assert console.locator("tr[data-need=itch]").get_attribute("data-score") == "1.00"
    assert "na-itch" in console.locator("tr[data-need=itch] .explanation").inner_text()
    assert serious_violations(console) == []
    staff.close()
