"""The safety officer's console pages: the queue, an intake's decision and a case's page; other roles
are told the pages are not theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.core.permissions import Role
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import Case, Intake
from sojourn.safety.services import record_intake
from sojourn.tracking.tests.helpers import SYSTEM


@pytest.fixture
def officer(cast):
    return make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program, language="de")


@pytest.fixture
def intake(active_patient):
    return record_intake(actor=SYSTEM, patient=active_patient, source="nurse call", reason="adverse event on a call",
                         detail={}, idempotency_key="call:9", day_zero=timezone.now() - timedelta(days=4))


def test_the_officer_decides_from_the_queue_and_works_the_case(client, officer, intake):
    client.force_login(officer)
    queue = client.get("/console/safety/").content.decode()
    assert 'data-state="overdue"' in queue and f"/console/safety/intakes/{intake.pk}/" in queue
    assert "Arzneimittelsicherheit" in queue  # the officer reads German
    refused = client.post(f"/console/safety/intakes/{intake.pk}/", {"kind": "not_ae", "reason": " "})
    assert refused.status_code == 422 and "kein unerwünschtes Ereignis" in refused.content.decode()
    assert Intake.objects.get(pk=intake.pk).status == "open"
    done = client.post(f"/console/safety/intakes/{intake.pk}/", {"kind": "adverse_event", "reason": ""})
    case = Case.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/console/safety/cases/{case.number}/"
    page = client.get(done["Location"]).content.decode()
    assert case.number in page and 'data-status="open"' in page
    assert client.post(done["Location"], {"action": "assess", "serious": "no"}).status_code == 302
    assert client.post(done["Location"], {"action": "forward"}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.serious) == ("forwarded", False) and case.forwarded_at > case.forward_due_at
    assert "verspätet" in client.get(done["Location"]).content.decode()
    twice = client.post(done["Location"], {"action": "forward"})
    assert twice.status_code == 422 and "bereits weitergeleitet" in twice.content.decode()
    queue = client.get("/console/safety/").content.decode()  # off the queue, into the desk's recent work
    recent = queue.split('id="safety-recent"')[1]
    assert f"/console/safety/cases/{case.number}/" in recent and "verspätet" in recent


@pytest.mark.parametrize("who", ["nurse_de", "analyst"])
def test_other_roles_are_told_the_safety_pages_are_not_theirs(client, cast, intake, who):
    client.force_login(getattr(cast, who))
    assert client.get("/console/safety/").status_code == 403
    assert client.get(f"/console/safety/intakes/{intake.pk}/").status_code == 403
    assert client.post(f"/console/safety/intakes/{intake.pk}/", {"kind": "adverse_event"}).status_code == 403
    assert Intake.objects.get(pk=intake.pk).status == "open"


def test_a_case_of_another_market_is_not_found(client, cast, intake):
    officer_gb = make_staff("safety.gb@sponsor.example", Role.SAFETY_OFFICER, cast.program, ("GB",))
    client.force_login(officer_gb)
    assert client.get(f"/console/safety/intakes/{intake.pk}/").status_code == 404
    assert f"/console/safety/intakes/{intake.pk}/" not in client.get("/console/safety/").content.decode()
