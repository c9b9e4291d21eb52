"""A German nurse works the queue in German: takes the overdue call, reads the context and the
approved script, records that the patient was reached and reported an adverse event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, enroll
from sojourn.content.tests.factories import approved_item
from sojourn.safety.models import Intake
from tests.browser.helpers import last_code, serious_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_takes_a_call_and_reports_an_adverse_event(chromium, live_server, cast):
    program = cast.program
    patient, _record = enroll(program, "DE", email="queue@example.org", phone="+49 30 901820")
    verify_patient(actor=SELF, patient=patient, code=last_code("queue@example.org"))
    approved_item(program, "adherence-call", "call_script", {"de-DE": {
        "title": "Gespräch zur Therapietreue", "body": "Fragen Sie, wie die Injektionen gelingen."}})
    now = timezone.now()
    task = NurseTask.objects.create(program=program, patient=patient, source_key="test:1", reason="Therapietreue",
                                    script_code="adherence-call", due_at=now - timedelta(minutes=5), created_at=now)
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")  # her profile says German
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "nurse.de@sponsor.example")
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="Anrufe").click()
    row = page.locator(f"tr[data-task='{task.pk}']")
    assert row.get_attribute("data-sla") == "red"  # overdue
    assert serious_violations(page) == []
    row.get_by_role("button", name="Diesen Anruf übernehmen").click()
    page.wait_for_selector("#who")
    assert "Lena Hoffmann" in page.locator("#who").inner_text()
    assert "Fragen Sie, wie die Injektionen gelingen." in page.locator("#script").inner_text()
    page.get_by_label("Erreicht").check()
    # Every safety question answered: no, except the side effect the patient tells of.
    for question in page.locator("#safety-questions [role=radiogroup]").all():
        question.get_by_label("nein").check()
    page.locator("#safety-questions").get_by_role("radiogroup", name="Nebenwirkung").get_by_label("ja").check()
    page.get_by_label("Notizen").fill("Hautausschlag seit drei Tagen.")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Anruf festhalten").click()
    page.wait_for_url("**/console/nurse/")
    context.close()
    task.refresh_from_db()
    assert (task.status, task.outcome, task.adverse_event) == ("done", "reached", True)
    assert Intake.objects.get().source == "nurse call"
    assert Intake.objects.get().detail["answers"] == ["side_effect"]
