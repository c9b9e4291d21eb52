"""Who may do what with drug safety, on each door: the console, the API and the command line. Nurses
report but never read a case; managers, analysts and the agency see counts per market, never a case;
a patient reaches none of it; the safety officer works it all, in their markets only."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sojourn.consent.portal import SESSION_PATIENT
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.api import Api
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import Case, Intake
from sojourn.safety.services import decide_intake, record_intake
from sojourn.tracking.tests.helpers import SYSTEM

DAY_ZERO = datetime(2026, 3, 2, 9, tzinfo=UTC)
ROLES = {"safety": Role.SAFETY_OFFICER, "nurse": Role.NURSE, "manager": Role.PROGRAM_MANAGER,
         "analyst": Role.INSIGHTS_ANALYST, "agency": Role.AGENCY_USER}


@pytest.fixture
def staff(program):
    return {name: make_staff(f"{name}@sponsor.example", role, program, ("DE",)) for name, role in ROLES.items()}


@pytest.fixture
def case(active_patient, staff):
    intake = record_intake(actor=SYSTEM, patient=active_patient, source="rule", reason="PHQ-9 item 9 above 0",
                           detail={}, idempotency_key="rule:1", day_zero=DAY_ZERO)
    return decide_intake(actor=actor_for_user(staff["safety"]), intake=intake, kind="adverse_event", reason="",
                         at=DAY_ZERO).case


def test_the_safety_officer_works_every_door(client, program, active_patient, staff, case):
    client.force_login(staff["safety"])
    assert client.get("/console/safety/").status_code == 200
    assert client.get(f"/console/safety/cases/{case.number}/").status_code == 200
    api = Api(client, staff["safety"])
    assert [i["reference"] for i in api.get(f"/programs/{program.slug}/safety/queue").json()] == [case.number]
    reported = api.post(f"/programs/{program.slug}/safety/intakes", {
        "patient": active_patient.pseudonym, "reason": "reported by the patient's pharmacist",
        "day_zero": "2026-03-03T10:00:00+01:00", "words": "Ausschlag am Arm", "idempotency_key": "ph-1"})
    assert reported.status_code == 201 and reported.json()["due_at"] > reported.json()["day_zero"]
    blank = api.post(f"/programs/{program.slug}/safety/intakes", {
        "patient": active_patient.pseudonym, "reason": "   ", "day_zero": "2026-03-03T10:00:00+01:00"})
    future = api.post(f"/programs/{program.slug}/safety/intakes", {
        "patient": active_patient.pseudonym, "reason": "told", "day_zero": "2099-03-03T10:00:00+01:00"})
    assert (blank.status_code, blank.json()["error"]["details"][0]["field"]) == (422, "reason")
    assert (future.status_code, future.json()["error"]["details"][0]["field"]) == (422, "day_zero")
    intake = reported.json()["id"]
    assert api.get(f"/safety/intakes/{intake}").json()["words"] == "Ausschlag am Arm"
    follow_up = api.post(f"/safety/intakes/{intake}/decision", {"kind": "adverse_event", "follow_up_of": case.number})
    assert follow_up.json()["case"] == case.number
    assert api.get(f"/safety/cases/{case.number}").json()["version"] == 2
    assessment = {"reactions": [{"verbatim": "fainted", "seriousness": ["hospitalisation"]}],
                  "suspect_product": "Demoxumab", "expectedness": "unknown", "narrative": "Fainted at home."}
    assert api.post(f"/safety/cases/{case.number}/assessment", assessment).json()["authority_due_at"]
    forwarded = api.post(f"/safety/cases/{case.number}/forwarding").json()
    assert (forwarded["status"], forwarded["forwarded_on_time"]) == ("forwarded", False)  # day zero was in March
    unsaid = api.post(f"/safety/cases/{case.number}/assessment", assessment)  # drug safety has it: say why
    assert (unsaid.status_code, unsaid.json()["error"]["details"][0]["field"]) == (422, "reason")
    amended = api.post(f"/safety/cases/{case.number}/assessment", {**assessment, "reason": "onset corrected"}).json()
    assert (amended["version"], amended["status"], amended["amendment_reason"]) == (3, "open", "onset corrected")
    sent = api.post(f"/safety/cases/{case.number}/forwarding").json()["forwardings"]
    assert [f["correction"] for f in sent] == ["", "amendment"]
    out = StringIO()
    call_command("safety", "nullify", case.number, "--reason", "a duplicate of another case",
                 "--by", "safety@sponsor.example", stdout=out)
    assert Case.objects.get().status == "nullified"
    assert "the nullification sent to drug safety as version 4" in out.getvalue()


@pytest.mark.parametrize("who", ["nurse", "manager", "analyst", "agency"])
def test_other_roles_see_counts_only_and_a_nurse_reports(client, program, active_patient, staff, case, who):
    user = staff[who]
    client.force_login(user)
    assert client.get("/console/safety/").status_code == 403
    assert client.get(f"/console/safety/cases/{case.number}/").status_code in (403, 404)
    api = Api(client, user)
    assert api.get(f"/programs/{program.slug}/safety/queue").status_code == 404
    assert api.get(f"/safety/cases/{case.number}").status_code == 404
    assert api.post(f"/safety/cases/{case.number}/forwarding").status_code == 404
    counts = api.get(f"/programs/{program.slug}/safety/counts")
    assert counts.json() == [{"market": "DE", "open": 1, "overdue": 1, "due_soon": 0}]
    assert active_patient.pseudonym not in counts.content.decode()
    reported = api.post(f"/programs/{program.slug}/safety/intakes", {
        "patient": active_patient.pseudonym, "reason": "told on a call", "day_zero": "2026-03-03T10:00:00Z"})
    assert reported.status_code == (201 if who == "nurse" else 404)
    if who == "nurse":
        assert api.get(f"/safety/intakes/{reported.json()['id']}").status_code == 404  # reports, never reads
    with pytest.raises(CommandError):
        call_command("safety", "forward", case.number, "--by", f"{who}@sponsor.example")
    assert Case.objects.get().status == "open" and Intake.objects.filter(status="case").count() == 1


def test_a_patient_reaches_none_of_it(client, active_patient, case):
    session = client.session
    session[SESSION_PATIENT] = active_patient.pseudonym
    session.save()
    assert client.get("/console/safety/")["Location"].startswith("/console/sign-in")
    assert client.get(f"/api/v1/safety/cases/{case.number}").status_code == 401
