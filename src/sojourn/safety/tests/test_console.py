"""The safety officer's console pages: the queue, an intake's decision and a case's page with its
assessment and each forwarded version's E2B file; other roles are told the pages are not theirs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.safety.e2b.check import check_icsr
from sojourn.safety.export import safety_report_id
from sojourn.safety.models import Case, Intake
from sojourn.safety.services import decide_intake, import_ack, import_terms, record_intake
from sojourn.tracking.tests.helpers import SYSTEM

DATA = Path(__file__).parent / "data"
TERMS = "code,term\n10037087,Rash\n10019211,Headache\n10028813,Nausea\n"


def _assessment(*events: dict[str, object], suspect_product: str = "Dermavance 150 mg pen",
                expectedness: str = "unexpected", narrative: str = "Rash on both arms two days after the dose; "
                "better with cream.") -> dict[str, object]:
    """The assessment form as posted: five event rows (those not given left blank)."""
    data: dict[str, object] = {"action": "assess", "rows": "5", "suspect_product": suspect_product,
                               "expectedness": expectedness, "narrative": narrative}
    for i in range(5):
        event = events[i] if i < len(events) else {}
        data |= {f"reactions.{i}.{name}": event.get(name, default) for name, default in (
            ("verbatim", ""), ("meddra_code", ""), ("onset", ""), ("outcome", "unknown"), ("causality", "unknown"))}
        if event.get("seriousness"):
            data[f"reactions.{i}.seriousness"] = event["seriousness"]
    return data


@pytest.fixture
def case(officer, intake):
    return decide_intake(actor=actor_for_user(officer), intake=intake, kind="adverse_event", reason="",
                         at=timezone.now()).case


@pytest.fixture
def terms(officer, cast):
    import_terms(actor=actor_for_user(officer), program=cast.program, version="27.1", text=TERMS, at=timezone.now())


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
    assert 'id="forward-needs-assessment"' in page
    assert client.post(done["Location"], {"action": "forward"}).status_code == 422  # not assessed: refused
    assert client.post(done["Location"], _assessment({"verbatim": "rash"})).status_code == 302
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
    assert client.get("/console/safety/line-list/").status_code == 403


@pytest.mark.parametrize("who", ["nurse_de", "analyst"])
def test_other_roles_cannot_open_a_case_nor_download_its_versions(client, cast, officer, case, who):
    client.force_login(officer)
    assert client.post(f"/console/safety/cases/{case.number}/", _assessment({"verbatim": "rash"})).status_code == 302
    assert client.post(f"/console/safety/cases/{case.number}/", {"action": "forward"}).status_code == 302
    client.force_login(getattr(cast, who))
    assert client.get(f"/console/safety/cases/{case.number}/").status_code == 403
    assert client.get(f"/console/safety/cases/{case.number}/versions/1/e2b/").status_code == 403
    refused = client.post(f"/console/safety/cases/{case.number}/", _assessment({"verbatim": "nothing"}))
    assert refused.status_code == 403 and Case.objects.get().reactions.get().verbatim == "rash"


def test_a_case_of_another_market_is_not_found(client, cast, intake):
    officer_gb = make_staff("safety.gb@sponsor.example", Role.SAFETY_OFFICER, cast.program, ("GB",))
    client.force_login(officer_gb)
    assert client.get(f"/console/safety/intakes/{intake.pk}/").status_code == 404
    assert f"/console/safety/intakes/{intake.pk}/" not in client.get("/console/safety/").content.decode()


def test_the_assessment_form_records_each_event_with_its_term_and_criteria_and_shows_them(client, officer, case, terms):
    client.force_login(officer)
    url = f"/console/safety/cases/{case.number}/"
    page = client.get(url).content.decode()
    assert '<option value="10037087">10037087 — Rash</option>' in page and page.count('class="event"') == 5
    onset = (timezone.localdate() - timedelta(days=3)).isoformat()
    done = client.post(url, _assessment(
        {"verbatim": "itchy rash on both arms", "meddra_code": "10037087", "onset": onset, "outcome": "recovering",
         "seriousness": ["hospitalisation", "other_medically_important"], "causality": "related"},
        {},  # a blank row is ignored
        {"verbatim": "headache", "meddra_code": "10019211 — Headache", "outcome": "recovered"}))
    assert done.status_code == 302
    case.refresh_from_db()
    reactions = list(case.reactions.order_by("position"))
    assert [(r.verbatim, r.meddra_code, r.meddra_version, r.get_outcome_display(), r.causality) for r in reactions] == [
        ("itchy rash on both arms", "10037087", "27.1", "recovering", "related"),
        ("headache", "10019211", "27.1", "recovered", "unknown")]
    assert reactions[0].seriousness == ["hospitalisation", "other_medically_important"]
    assert reactions[0].onset.isoformat() == onset and reactions[1].seriousness == []
    assert (case.serious, case.expectedness, case.suspect_product) == (True, "unexpected", "Dermavance 150 mg pen")
    assert case.authority_due_at is not None
    shown = client.get(url).content.decode()
    events = shown.split('id="case-events"')[1].split("</table>")[0]
    assert "10037087 — Rash" in events and "itchy rash on both arms" in events
    assert "Krankenhausaufenthalt" in events  # the officer reads German
    assert "Dermavance 150 mg pen" in shown and "better with cream.</textarea>" in shown  # the narrative, prefilled
    assert 'value="itchy rash on both arms"' in shown and 'value="hospitalisation" checked' in shown
    assert AuditEntry.objects.filter(action="safety.narrative_read").exists()  # reading it is audited
    assert AuditEntry.objects.get(action="safety.case_assessed").after["serious"] is True


def test_a_bad_code_and_an_empty_narrative_are_refused_by_field_and_nothing_is_written(
        client, officer, case, terms):
    client.force_login(officer)
    url = f"/console/safety/cases/{case.number}/"
    refused = client.post(url, _assessment({"verbatim": "rash", "meddra_code": "10037087"}, {},
                                           {"verbatim": "dizzy spells", "meddra_code": "99999999"}, narrative="  "))
    assert refused.status_code == 422
    page = refused.content.decode()
    assert 'id="r2-code-error"' in page and 'id="narrative-error"' in page  # the third row, as typed
    assert 'id="r0-code-error"' not in page and 'id="suspect_product-error"' not in page
    assert "99999999" in page and 'value="dizzy spells"' in page  # what was typed is kept
    case.refresh_from_db()
    assert case.assessed_at is None and case.serious is None and not case.reactions.exists()
    assert not AuditEntry.objects.filter(action="safety.case_assessed").exists()
    no_event = client.post(url, _assessment())
    assert no_event.status_code == 422 and 'id="reactions-error"' in no_event.content.decode()


def test_each_forwarded_version_downloads_as_an_e2b_file_that_passes_the_check(client, officer, case, terms):
    client.force_login(officer)
    url = f"/console/safety/cases/{case.number}/"
    assert client.post(url, _assessment({"verbatim": "rash", "meddra_code": "10037087",
                                         "seriousness": ["hospitalisation"]})).status_code == 302
    assert client.post(url, {"action": "forward"}).status_code == 302
    page = client.get(url).content.decode()
    link = f"/console/safety/cases/{case.number}/versions/1/e2b/"
    assert link in page and 'data-ack="none"' in page
    download = client.get(link)
    assert download.status_code == 200 and download["Content-Type"] == "application/xml"
    assert download["Content-Disposition"] == f'attachment; filename="{case.number}-v1.xml"'
    assert check_icsr(download.content) == []
    assert b"10037087" in download.content
    assert client.get(f"/console/safety/cases/{case.number}/versions/2/e2b/").status_code == 404
    line_list = client.get("/console/safety/line-list/")
    assert line_list.status_code == 200 and line_list["Content-Type"].startswith("text/csv")
    assert case.number in line_list.content.decode()
    forwarding = case.forwardings.get()
    rejected = (DATA / "R3ack-negative.ack").read_text(encoding="utf-8").replace(
        "US-APHARMA-7644554", safety_report_id(forwarding))
    import_ack(actor=actor_for_user(officer), program=case.program, data=rejected.encode(), at=timezone.now())
    acked = client.get(url).content.decode()
    assert 'data-ack="rejected"' in acked and "Patient Ethnicity Code (FDA.D.12) must be provided" in acked


def test_a_version_that_fails_the_e2b_check_is_not_downloaded_but_named_on_the_case_page(
        client, officer, case, terms):
    client.force_login(officer)
    url = f"/console/safety/cases/{case.number}/"
    assert client.post(url, _assessment({"verbatim": "rash", "meddra_code": "10037087"})).status_code == 302
    assert client.post(url, {"action": "forward"}).status_code == 302
    forwarding = case.forwardings.get()
    forwarding.facts["reactions"][0]["meddra_version"] = "27"  # E.i.2.1a is two numbers
    forwarding.save(update_fields=["facts"])
    refused = client.get(f"/console/safety/cases/{case.number}/versions/1/e2b/")
    assert refused.status_code == 422 and refused["Content-Type"].startswith("text/html")
    assert f"{case.number} v1: E.i.2.1a" in refused.content.decode()


def test_a_forwarded_case_is_corrected_as_an_amendment_and_nullified_with_a_report(client, officer, case, terms):
    client.force_login(officer)
    url = f"/console/safety/cases/{case.number}/"
    rash = {"verbatim": "rash", "meddra_code": "10037087"}
    assert client.post(url, _assessment(rash)).status_code == 302
    assert client.post(url, {"action": "forward"}).status_code == 302
    assert 'id="amendment"' in client.get(url).content.decode()  # drug safety has it: a change says why
    refused = client.post(url, _assessment({"verbatim": "headache", "meddra_code": "10019211"}))
    page = refused.content.decode()
    assert refused.status_code == 422 and 'id="amendment-error"' in page and 'id="reason-error"' not in page
    assert Case.objects.get(pk=case.pk).version == 1
    corrected = _assessment({"verbatim": "headache", "meddra_code": "10019211"}) | {"amendment": "recoded"}
    assert client.post(url, corrected).status_code == 302
    assert client.post(url, {"action": "forward"}).status_code == 302
    assert client.post(url, {"action": "nullify", "reason": "reported for another product"}).status_code == 302
    page = client.get(url).content.decode()
    assert 'data-correction="amendment"' in page and 'data-correction="nullification"' in page
    assert "reported for another product" in page
    for version in (2, 3):
        download = client.get(f"/console/safety/cases/{case.number}/versions/{version}/e2b/")
        assert download.status_code == 200 and check_icsr(download.content) == []
