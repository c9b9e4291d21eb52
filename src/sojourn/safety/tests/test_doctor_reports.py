"""A side effect reported by an enrolled doctor about a patient of theirs, who need not be in the program:
the doctor's portal form, an intake with its day zero, a case named by the age and sex the doctor gave,
assessed, forwarded and exported with the doctor as the primary source; bad input is named by field and
writes nothing; no one else reaches it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from sojourn.consent.hcp_views import SESSION_HCP, hcp_actor
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.models import Hcp
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.api import Api
from sojourn.people.tests.factories import make_staff
from sojourn.safety.e2b.check import check_icsr
from sojourn.safety.models import Case, Intake
from sojourn.safety.queries import safety_queue
from sojourn.safety.reconciliation import as_csv, reconcile
from sojourn.safety.services import (
    decide_intake,
    export_versions,
    forward_case,
    import_terms,
    read_intake_words,
    report_by_doctor,
    request_follow_up,
)
from sojourn.safety.tests.helpers import assessed

WORDS = "Generalised urticaria two days after the second injection; treated with cetirizine, resolved."
TOKEN = "a" * 32


@pytest.fixture
def officer(cast):
    return make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program)


def _form(**overrides: str) -> dict[str, str]:
    return {"text": WORDS, "product": "Demoxumab 150 mg pen", "onset": "", "age": "54", "sex": "female",
            "token": TOKEN, **overrides}


def test_a_doctor_reports_on_the_portal_and_it_reaches_drug_safety_as_a_case(client, signed_in_hcp, officer,
                                                                            program):
    page = client.get("/p/hcp/me/")
    assert 'id="side-effect-link"' in page.content.decode()
    assert client.get("/p/hcp/me/side-effects/").status_code == 200
    before = timezone.now()
    sent = client.post("/p/hcp/me/side-effects/", _form())
    assert sent.status_code == 302 and sent["Location"] == "/p/hcp/me/side-effects/sent/"
    assert 'id="report-sent"' in client.get(sent["Location"]).content.decode()
    assert client.post("/p/hcp/me/side-effects/", _form()).status_code == 302  # sent twice: one intake
    intake = Intake.objects.select_related("market", "hcp").get()
    assert (intake.patient, intake.hcp, intake.market.country, intake.source) == (
        None, signed_in_hcp, "US", "doctor's form")
    assert intake.day_zero >= before and intake.due_at > intake.day_zero
    assert intake.detail == {"terms": intake.detail["terms"], "product": "Demoxumab 150 mg pen", "age": 54,
                             "sex": "female", "onset": None}
    assert WORDS.encode() not in bytes(intake.words_sealed)  # sealed with the doctor's key
    safety = actor_for_user(officer)
    assert read_intake_words(actor=safety, intake=intake) == WORDS
    [item] = safety_queue(safety, program)
    assert (item.by_doctor, item.patient) == (True, signed_in_hcp.pseudonym)

    client.force_login(officer)
    shown = client.get(f"/console/safety/intakes/{intake.pk}/").content.decode()
    assert 'id="doctors-patient"' in shown and "54" in shown and WORDS in shown
    case = decide_intake(actor=safety, intake=intake, kind="adverse_event", reason="", at=timezone.now()).case
    assert (case.patient, case.hcp, case.patient_age, case.patient_sex) == (None, signed_in_hcp, 54, "2")
    assert 'id="follow-up-doctor"' in client.get(f"/console/safety/cases/{case.number}/").content.decode()
    with pytest.raises(InvalidInput) as refused:  # the doctor's patient is not the program's to call
        request_follow_up(actor=safety, case=case, question="Any rechallenge?", at=timezone.now(),
                          due_at=timezone.now() + timedelta(days=3))
    assert refused.value.field == "channel"
    import_terms(actor=safety, program=program, version="27.1", text="code,term\n10046735,Urticaria\n",
                 at=timezone.now())
    forward_case(actor=safety, case=assessed(safety, case, timezone.now(), verbatim="urticaria", code="10046735"),
                 at=timezone.now())
    [(_name, xml)] = export_versions(actor=safety, program=program, fmt="e2b", numbers=[case.number],
                                     at=timezone.now())
    assert check_icsr(xml) == []
    assert b'<code code="1" codeSystem="2.16.840.1.113883.3.989.2.1.1.6"' in xml  # C.2.r.4: physician
    assert b'value="54" unit="a"' in xml  # D.2.2
    assert b'administrativeGenderCode code="2"' in xml  # D.5
    assert AuditEntry.objects.filter(action="safety.intake_recorded", subject_type="hcp",
                                     subject_id=signed_in_hcp.pseudonym).exists()
    month = timezone.localdate().replace(day=1)
    lines = as_csv(reconcile(safety, program, month, timezone.now())).splitlines()
    assert lines[0].endswith(",reporter") and lines[1].endswith(",doctor")


def test_a_bad_doctors_report_is_named_by_field_and_writes_nothing(client, signed_in_hcp):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    refused = client.post("/p/hcp/me/side-effects/", _form(text=" ", product="", age="130", sex="x", onset=future))
    page = refused.content.decode()
    assert refused.status_code == 422
    for field in ("text", "product", "age", "sex", "onset"):
        assert f'id="{field}-error"' in page, field
    unnamed = client.post("/p/hcp/me/side-effects/", _form(age="", sex=""))
    assert unnamed.status_code == 422 and 'id="age-error"' in unnamed.content.decode()
    assert client.post("/p/hcp/me/side-effects/", _form(age="fifty")).status_code == 422
    assert not Intake.objects.exists()


def test_only_the_signed_in_doctor_reports_and_no_one_else_reads_it(client, signed_in_hcp, cast, program):
    other = Hcp.objects.get(pk=signed_in_hcp.pk)
    other.pk, other.pseudonym = None, "H-OTHER"
    with pytest.raises(AccessDenied):
        report_by_doctor(actor=hcp_actor(other), hcp=signed_in_hcp, text=WORDS, product="p", onset=None, age=50,
                         sex="", token=TOKEN, at=timezone.now())
    Hcp.objects.filter(pk=signed_in_hcp.pk).update(status=Hcp.Status.WITHDRAWN)
    assert client.get("/p/hcp/me/side-effects/")["Location"].startswith("/p/hcp/sign-in")
    Hcp.objects.filter(pk=signed_in_hcp.pk).update(status=Hcp.Status.ACTIVE)
    client.post("/p/hcp/me/side-effects/", _form())
    intake = Intake.objects.get()
    session = client.session
    session.pop(SESSION_HCP)
    session.save()
    assert client.get("/p/hcp/me/side-effects/")["Location"].startswith("/p/hcp/sign-in")
    for who in (cast.nurse_de, cast.analyst):
        client.force_login(who)
        assert client.get(f"/console/safety/intakes/{intake.pk}/").status_code in (403, 404)
        assert Api(client, who).get(f"/safety/intakes/{intake.pk}").status_code == 404


def test_the_api_and_cli_name_the_doctor_not_a_patient(client, signed_in_hcp, officer, program):
    client.post("/p/hcp/me/side-effects/", _form(sex="male", age=""))
    api = Api(client, officer)
    [item] = api.get(f"/programs/{program.slug}/safety/queue").json()
    assert (item["patient"], item["doctor"]) == (None, signed_in_hcp.pseudonym)
    intake = api.get(f"/safety/intakes/{item['reference']}").json()
    assert (intake["patient"], intake["doctor"], intake["words"]) == (None, signed_in_hcp.pseudonym, WORDS)
    case = api.post(f"/safety/intakes/{item['reference']}/decision", {"kind": "adverse_event"}).json()["case"]
    shown = api.get(f"/safety/cases/{case}").json()
    assert (shown["patient"], shown["doctor"], shown["patient_age"], shown["patient_sex"]) == (
        None, signed_in_hcp.pseudonym, None, "1")
    out = StringIO()
    call_command("safety", "list", "--program", program.slug, stdout=out)
    assert f"doctor {signed_in_hcp.pseudonym}" in out.getvalue()
    assert Case.objects.get().market.country == "US"
