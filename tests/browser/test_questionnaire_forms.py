"""Forms written elsewhere and the urgent flag, in a real browser on a phone: HL7's SDC weight and
height panel answered in German (its BMI worked out on the server, shown on the review page), and a
PHQ-9 whose item 9 is answered above "Not at all": the page that thanks the patient says where to
turn now. Every page passes axe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, approved_version, enroll
from sojourn.core.actors import Actor
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.services.definitions import (
    approve_questionnaire,
    import_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.tests.factories import approved_instrument
from tests.browser.helpers import PHONE, last_code, serious_violations, sign_in_to_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SDC = Path(__file__).resolve().parents[2] / "src/sojourn/questionnaires/tests/data/sdc"


def signed_in(chromium, live_server, program, country: str, locale: str, email: str):
    patient, _record = enroll(program, country, version=approved_version(program, country), email=email)
    verify_patient(actor=SELF, patient=patient, code=last_code(email))
    context = chromium.new_context(base_url=live_server.url, locale=locale, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_to_portal(page, email)
    return patient, context, page


def test_the_sdc_weight_and_height_panel_works_out_the_bmi(chromium, live_server, program):
    editor = Actor.system("importer")
    form = import_questionnaire(actor=editor, program=program,
                                resource=(SDC / "questionnaire-sdc-profile-example-weight-height.json").read_text())
    submit_questionnaire(actor=editor, questionnaire=form)
    approve_questionnaire(actor=Actor.system("reviewer"), questionnaire=form)
    patient, context, page = signed_in(chromium, live_server, program, "DE", "de-DE", "bmi@example.org")
    page.goto(f"/p/me/questionnaires/{form.name}/")
    typed = {"/29463-7": "70", "/8302-2": "69"}  # the panel's units: kg, and inches for the height
    while "/review/" not in page.url:
        assert serious_violations(page) == []
        link_id = page.locator("input[name=item]").get_attribute("value")
        assert link_id != "/39156-5"  # the BMI is calculated, never asked
        if link_id in typed:
            page.locator("#answer").fill(typed[link_id])
        else:
            page.locator("input[name=answer]").first.check()
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
    review = page.locator("main").inner_text()
    assert "22.8" in review or "22,8" in review  # 70 / (69 × 0.0254)², rounded as the form says
    assert serious_violations(page) == []
    page.locator("button[type=submit]").click()
    page.wait_for_selector("text=Danke")
    context.close()
    saved = QuestionnaireResponse.objects.get(patient=patient, status="completed")
    assert '"valueDecimal": 22.8' in json.dumps(saved.items)


def test_thoughts_of_self_harm_are_answered_with_where_to_turn_now(chromium, live_server, program):
    approved_instrument(program, "phq-9")
    _patient, context, page = signed_in(chromium, live_server, program, "GB", "en-GB", "phq@example.org")
    page.goto("/p/me/questionnaires/phq-9/")
    while "/review/" not in page.url:
        radios = page.locator("input[name=answer]")
        last_item = page.locator("input[name=item]").get_attribute("value") == "phq9-9"
        (radios.nth(1) if last_item else radios.first).check()
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
    page.locator("button[type=submit]").click()
    help_now = page.locator("#urgent-help")
    help_now.wait_for()
    assert help_now.get_attribute("role") == "alert"
    text = help_now.inner_text()
    assert "call 999" in text and "Samaritans, 116 123" in text
    assert serious_violations(page) == []
    context.close()
