"""An insights analyst opens the patient journey map: the stages drawn as a service blueprint carry
their KPIs and the verdicts of their hypotheses in the market chosen; the analyst revises the map on
the evidence and compares the two versions."""

from __future__ import annotations

import pytest

from sojourn.core.tests.factories import SYSTEM
from sojourn.insights.tests.factories import worry
from sojourn.journeys.services import create_journey
from sojourn.people.tests.factories import PASSWORD
from tests.browser.helpers import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_map_shows_kpis_and_verdicts_and_two_versions_compare(page, cast, cohort):
    hypothesis = worry(cohort)  # supported in DE, refuted in GB
    create_journey(actor=SYSTEM, program=cohort["program"], code="patient-journey", title="Living with psoriasis",
                   kind="patient")
    page.goto("/console/sign-in/")
    page.get_by_label("Email").fill(cast.analyst.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    page.get_by_role("link", name="Living with psoriasis").click()
    page.wait_for_selector("#journey-map")
    assert serious_violations(page) == []

    stages = page.locator("#journey-map .map-stage-name").all_text_contents()
    assert stages == ["Diagnosis", "Treatment initiation", "Daily management", "Switching"]
    page.get_by_label("KPIs and verdicts in").select_option("DE")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#journey-map text.map-verdict.verdict-supported")
    labels = page.locator("#journey-map text.map-label").all_text_contents()
    assert "KPIs in DE" in labels and "Hypotheses in DE" in labels
    assert page.locator("#journey-map text.map-kpi").count() > 0  # KPI figures on the linked stages
    page.get_by_label("KPIs and verdicts in").select_option("GB")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#journey-map text.map-verdict.verdict-refuted")

    page.get_by_role("link", name="Revise").click()
    source = page.get_by_label("Map").input_value()
    assert "program_stage: treatment_initiation" in source
    line = next(line for line in source.splitlines() if line.strip() == "- Afraid of the first self-injection")
    indent = line[:len(line) - len(line.lstrip())]
    added = f"{line}\n{indent}- Worries about side effects, most in Germany"
    page.get_by_label("Map").fill(source.replace(line, added))
    page.get_by_label("Based on").select_option("evidence")
    page.get_by_label("What changed and why").fill("Germany's patients worry most about side effects.")
    page.get_by_label(hypothesis.statement).check()
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("#changes")
    assert "What changed from version 1 to version 2" in page.locator("h1").inner_text()
    change = page.locator("#changes li[data-stage='treatment_initiation']")
    assert "pain point added: Worries about side effects, most in Germany" in change.inner_text()
    assert hypothesis.statement in page.locator("#evidence").inner_text()
    assert serious_violations(page) == []
