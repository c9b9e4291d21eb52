"""The assessment of a case and what leaves for drug safety: events coded from the sponsor's term list,
seriousness that sets the authority clock, each forwarded version kept as sent, exported as an E2B(R3)
ICSR that passes the check (or refused naming the case and the data element), the PV line list, and
drug safety's acknowledgement read back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from sojourn.consent.services.dsr import complete_erasure_request, open_data_subject_request
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.safety.e2b.ack import AckUnreadable
from sojourn.safety.e2b.check import check_icsr
from sojourn.safety.export import message_number, safety_report_id
from sojourn.safety.models import Case, CaseForwarding, Reaction, Term
from sojourn.safety.services import (
    ReactionIn,
    assess_case,
    decide_intake,
    export_versions,
    forward_case,
    import_ack,
    import_terms,
    nullify_case,
    read_narrative,
    record_intake,
)
from sojourn.safety.tests.helpers import assessed
from sojourn.tracking.tests.helpers import SYSTEM

BERLIN = ZoneInfo("Europe/Berlin")
DAY_ZERO = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
LATER = DAY_ZERO + timedelta(hours=5)
DATA = Path(__file__).parent / "data"
TERMS = "code,term\n10019211,Headache\n10037844,Rash\n10013709,Drug ineffective\n"


@pytest.fixture
def officer(cast):
    return actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program))


@pytest.fixture
def case(active_patient, officer, program):
    import_terms(actor=officer, program=program, version="27.1", text=TERMS, at=DAY_ZERO)
    intake = record_intake(actor=SYSTEM, patient=active_patient, source="nurse call", reason="side effect on a call",
                           detail={}, idempotency_key="call:1", day_zero=DAY_ZERO)
    return decide_intake(actor=officer, intake=intake, kind="adverse_event", reason="", at=LATER).case


def _export(officer, program, fmt="e2b", numbers=None):
    return export_versions(actor=officer, program=program, fmt=fmt, numbers=numbers, at=LATER + timedelta(days=1))


def test_an_assessment_codes_its_events_and_seriousness_starts_the_authority_clock(case, officer):
    done = assessed(officer, case, LATER, serious=True, code="10037844")
    assert (done.serious, done.suspect_product, done.assessed_at) == (True, "Demoxumab 150 mg pen", LATER)
    assert done.authority_due_at == datetime(2026, 3, 18, tzinfo=BERLIN)  # the end of day 15 from day zero
    [event] = Reaction.objects.filter(case=case)
    assert (event.meddra_code, event.meddra_version, event.language, event.outcome, event.seriousness) == \
        ("10037844", "27.1", "deu", "2", ["hospitalisation"])
    assert read_narrative(actor=officer, case=done) == "The patient reported itchy rash on both arms on a call."
    audit = AuditEntry.objects.get(action="safety.case_assessed")
    assert "rash" not in json.dumps(audit.after) and audit.after["serious"] is True  # coded facts, no words
    again = assessed(officer, case, LATER, serious=False)
    assert again.serious is False and again.authority_due_at == datetime(2026, 6, 1, tzinfo=BERLIN)  # 90 days


def test_a_bad_assessment_names_every_field_and_writes_nothing(case, officer):
    with pytest.raises(InvalidInput) as refused:
        assess_case(actor=officer, case=case, at=LATER, suspect_product="", expectedness="maybe", narrative=" ",
                    reactions=[ReactionIn(verbatim="headache", meddra_code="10099999"),
                               ReactionIn(verbatim="", onset=(LATER + timedelta(days=3)).date(), outcome="cured",
                                          seriousness=("scary",), causality="perhaps")])
    fields = [d.field for d in refused.value.details]
    assert fields == ["reactions.0.meddra_code", "reactions.1.verbatim", "reactions.1.onset", "reactions.1.outcome",
                      "reactions.1.seriousness", "reactions.1.causality", "suspect_product", "expectedness",
                      "narrative"]
    assert "10099999 is not a term of the program's list (MedDRA 27.1)" in refused.value.details[0].message
    with pytest.raises(InvalidInput, match="at least one event"):
        assess_case(actor=officer, case=case, reactions=[], suspect_product="x", expectedness="unknown",
                    narrative="n", at=LATER)
    case.refresh_from_db()
    assert (case.assessed_at, case.serious, Reaction.objects.count()) == (None, None, 0)


def test_in_the_us_only_a_serious_unexpected_case_has_the_expedited_clock(program, officer, cast):
    from sojourn.consent.tests.factories import enroll

    patient = enroll(program, "US", email="sam@example.com").subject
    intake = record_intake(actor=SYSTEM, patient=patient, source="sms", reason="r", detail={},
                           idempotency_key="us:1", day_zero=DAY_ZERO)
    us_officer = actor_for_user(make_staff("safety.us@sponsor.example", Role.SAFETY_OFFICER, program))
    us_case = decide_intake(actor=us_officer, intake=intake, kind="adverse_event", reason="", at=LATER).case
    assert assessed(us_officer, us_case, LATER, serious=True, expectedness="expected").authority_due_at is None
    unexpected = assessed(us_officer, us_case, LATER, serious=True, expectedness="unexpected")
    assert unexpected.authority_due_at is not None and unexpected.authority_due_at.date() == \
        (DAY_ZERO + timedelta(days=16)).date()


def test_a_case_is_forwarded_only_once_assessed_and_each_version_keeps_what_was_sent(case, officer, program):
    with pytest.raises(InvalidInput) as refused:
        forward_case(actor=officer, case=case, at=LATER)
    assert refused.value.field == "assessment" and not CaseForwarding.objects.exists()
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10019211", verbatim="headache"), at=LATER)
    # The assessment changes after it went: an amendment, the case's next version.
    assessed(officer, case, LATER, code="10037844", verbatim="rash", reason="recoded after a call with the patient")
    [sent] = CaseForwarding.objects.all()
    assert [r["verbatim"] for r in sent.facts["reactions"]] == ["headache"]
    [(name, xml)] = _export(officer, program)
    assert name == f"{case.number}-v1.xml" and b"headache" in xml and b"rash" not in xml


def test_every_forwarded_version_exports_as_an_icsr_that_passes_the_check_and_in_the_line_list(
        case, officer, program, active_patient):
    forward_case(actor=officer, case=assessed(officer, case, LATER, serious=True, code="10019211"), at=LATER)
    follow_up = record_intake(actor=SYSTEM, patient=active_patient, source="sms", reason="r", detail={},
                              idempotency_key="sms:2", day_zero=DAY_ZERO + timedelta(days=3))
    decide_intake(actor=officer, intake=follow_up, kind="adverse_event", reason="", at=LATER + timedelta(days=3),
                  follow_up_of=case)
    case.refresh_from_db()
    forward_case(actor=officer, case=assessed(officer, case, LATER + timedelta(days=3), code="10019211"),
                 at=LATER + timedelta(days=3))
    files = dict(_export(officer, program))
    assert sorted(files) == [f"{case.number}-v1.xml", f"{case.number}-v2.xml"]
    for xml in files.values():
        assert check_icsr(xml, today=(LATER + timedelta(days=4)).date()) == []
    first = files[f"{case.number}-v1.xml"]
    assert f"DE-SOJOURN-{case.number}".encode() in first and b"<code code=\"10019211\"" not in first
    assert b'code="10019211"' in first and b"20260302" in first  # the code, and day zero as C.1.4
    assert b"20260305" in files[f"{case.number}-v2.xml"]  # C.1.5: the follow-up's own day
    [(name, line_list)] = _export(officer, program, fmt="csv")
    rows = line_list.decode().splitlines()
    assert name == f"safety-line-list-{program.slug}.csv" and len(rows) == 3 and "Headache" not in rows[1]
    assert rows[1].split(",")[:3] == [f"DE-SOJOURN-{case.number}", f"DE-SOJOURN-{case.number}-V1", "2026-03-02"]
    assert ",yes," in rows[1] and rows[2].split(",")[1] == f"DE-SOJOURN-{case.number}-V2"
    assert AuditEntry.objects.filter(action="safety.cases_exported").count() == 2
    # A download asks for one version, and only that one leaves (and is audited).
    [(name, xml)] = export_versions(actor=officer, program=program, fmt="e2b", numbers=[case.number], version=2,
                                    at=LATER + timedelta(days=4))
    assert name == f"{case.number}-v2.xml" and xml == files[name]
    assert AuditEntry.objects.filter(action="safety.cases_exported").latest("pk").after["versions"] == [
        f"{case.number} v2"]


def test_a_case_that_would_not_conform_is_refused_naming_case_and_data_element(case, officer, program, tmp_path):
    forward_case(actor=officer, case=assessed(officer, case, LATER), at=LATER)  # no MedDRA code
    with pytest.raises(InvalidInput) as refused:
        _export(officer, program)
    assert f"{case.number} v1: E.i.2.1b: Data value required" in [d.message for d in refused.value.details]
    assert "E.i.2.1b" in {d.field for d in refused.value.details}
    with pytest.raises(CommandError, match=r"E\.i\.2\.1"):
        call_command("safety", "export", "--program", program.slug, "--format", "e2b", "--all",
                     "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()  # nothing written half-way


def test_a_product_complaint_is_in_the_line_list_not_an_icsr(active_patient, officer, program):
    intake = record_intake(actor=SYSTEM, patient=active_patient, source="nurse call", reason="pen leaking",
                           detail={}, idempotency_key="pc:1", day_zero=DAY_ZERO)
    complaint = decide_intake(actor=officer, intake=intake, kind="product_complaint", reason="", at=LATER).case
    forward_case(actor=officer, case=assessed(officer, complaint, LATER, verbatim="pen leaking"), at=LATER)
    assert _export(officer, program) == []
    with pytest.raises(InvalidInput, match="product complaint"):
        _export(officer, program, numbers=[complaint.number])
    assert "pen leaking" in _export(officer, program, fmt="csv")[0][1].decode()


def test_the_term_list_names_each_bad_line_and_an_import_replaces_its_version(officer, program):
    with pytest.raises(InvalidInput) as refused:
        import_terms(actor=officer, program=program, version="27.1", at=LATER,
                     text="code,term\n1001921,Short\n10019211,Headache\n10019211,Again\n10037844,\n")
    assert [(d.field, d.message[:7]) for d in refused.value.details] == [
        ("code", "Line 2:"), ("code", "Line 4:"), ("term", "Line 5:")]
    assert not Term.objects.exists()
    with pytest.raises(InvalidInput) as version:
        import_terms(actor=officer, program=program, version="27", at=LATER, text=TERMS)
    assert version.value.field == "version"
    assert import_terms(actor=officer, program=program, version="27.1", at=LATER, text=TERMS) == 3
    assert import_terms(actor=officer, program=program, version="27.1", at=LATER, text="10019211,Headache\n") == 1
    assert Term.objects.count() == 1


def test_drug_safety_acknowledgement_marks_each_version_accepted_or_rejected(case, officer, program):
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10019211"), at=LATER)
    sent = CaseForwarding.objects.get()
    positive = (DATA / "R3ack-positive.ack").read_text(encoding="utf-8").replace(
        "21ec1492-3aea-4069-a2ab-08002b30309d US-APHARMA-8744554B", f"{message_number(sent)} {safety_report_id(sent)}")
    [acked] = import_ack(actor=officer, program=program, data=positive.encode(), at=LATER)
    assert (acked.ack, CaseForwarding.objects.get().ack) == ("accepted", "accepted")
    negative = (DATA / "R3ack-negative.ack").read_text(encoding="utf-8").replace(
        "US-APHARMA-7644554", safety_report_id(sent))  # C.1.1 alone: the latest version
    [rejected] = import_ack(actor=officer, program=program, data=negative.encode(), at=LATER)
    assert rejected.ack == "rejected" and "Patient Ethnicity Code (FDA.D.12) must be provided" in rejected.ack_details
    stranger = (DATA / "R3ack-positive.ack").read_bytes()
    with pytest.raises(InvalidInput) as refused:
        import_ack(actor=officer, program=program, data=stranger, at=LATER)
    assert refused.value.field == "ACK.B.r.1" and CaseForwarding.objects.get().ack == "rejected"
    with pytest.raises(AckUnreadable):
        import_ack(actor=officer, program=program, data=b"not xml", at=LATER)


def test_the_cli_imports_terms_exports_and_reads_an_acknowledgement(case, officer, program, tmp_path):
    (tmp_path / "terms.csv").write_text(TERMS + "10028813,Nausea\n")
    out = StringIO()
    call_command("safety", "import-terms", "--program", program.slug, "--meddra-version", "27.1",
                 str(tmp_path / "terms.csv"), stdout=out)
    assert "imported 4 terms of MedDRA 27.1" in out.getvalue()
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10028813"), at=LATER)
    call_command("safety", "export", "--program", program.slug, "--format", "e2b", "--case", case.number,
                 "--out", str(tmp_path / "e2b"), stdout=StringIO())
    call_command("safety", "export", "--program", program.slug, "--format", "csv", "--all",
                 "--out", str(tmp_path / "e2b"), stdout=StringIO())
    assert sorted(p.name for p in (tmp_path / "e2b").iterdir()) == [
        f"{case.number}-v1.xml", f"safety-line-list-{program.slug}.csv"]
    sent = CaseForwarding.objects.get()
    (tmp_path / "ack.xml").write_text((DATA / "R3ack-positive.ack").read_text(encoding="utf-8").replace(
        "US-APHARMA-8744554B", safety_report_id(sent)))
    said = StringIO()
    call_command("safety", "import-ack", "--program", program.slug, str(tmp_path / "ack.xml"), stdout=said)
    assert said.getvalue().startswith(f"case {case.number} version 1: accepted")
    with pytest.raises(CommandError, match="no program"):
        call_command("safety", "export", "--program", "nope", "--format", "csv", "--all", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="not JSON"):
        (tmp_path / "bad.json").write_text("{")
        call_command("safety", "assess", case.number, "--file", str(tmp_path / "bad.json"),
                     "--by", "safety@sponsor.example")


def test_a_nurse_may_not_assess_export_or_import(case, cast, program):
    nurse = actor_for_user(cast.nurse_de)
    with pytest.raises(AccessDenied):
        assess_case(actor=nurse, case=case, reactions=[ReactionIn(verbatim="x")], suspect_product="p",
                    expectedness="unknown", narrative="n", at=LATER)
    with pytest.raises(AccessDenied):
        export_versions(actor=nurse, program=program, fmt="csv", numbers=None, at=LATER)
    with pytest.raises(AccessDenied):
        import_terms(actor=nurse, program=program, version="27.1", text=TERMS, at=LATER)


def test_after_an_erasure_the_case_keeps_its_coded_facts_and_loses_the_narrative(case, officer, program, cast,
                                                                                 active_patient):
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10019211"), at=LATER)
    request = open_data_subject_request(actor=actor_for_user(cast.nurse_de), patient=active_patient, kind="erasure",
                                        via="phone")
    complete_erasure_request(actor=actor_for_user(cast.admin), request=request)
    case = Case.objects.select_related("patient", "market").get(pk=case.pk)
    assert read_narrative(actor=officer, case=case) is None
    assert [r.meddra_code for r in case.reactions.all()] == ["10019211"]
    [(_name, xml)] = _export(officer, program)
    assert b"narrative was erased" in xml and check_icsr(xml, today=(LATER + timedelta(days=1)).date()) == []


def test_a_correction_of_a_forwarded_assessment_reaches_drug_safety_as_an_amendment(case, officer, program):
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10019211", verbatim="headache"), at=LATER)
    recoded = LATER + timedelta(days=2)
    with pytest.raises(InvalidInput) as refused:  # drug safety has v1: a change needs its reason
        assessed(officer, case, recoded, code="10037844", verbatim="rash")
    case.refresh_from_db()
    assert refused.value.field == "reason" and (case.version, case.status) == (1, "forwarded")
    assert [r.verbatim for r in case.reactions.all()] == ["headache"]  # nothing written

    amended = assessed(officer, case, recoded, code="10037844", verbatim="rash", reason="miscoded: a rash, no headache")
    assert (amended.version, amended.status, amended.amendment_reason) == (2, "open", "miscoded: a rash, no headache")
    # No new information, so no day zero of its own: the market's forward deadline runs from the correction.
    assert amended.forward_due_at > recoded and amended.day_zero == DAY_ZERO
    forward_case(actor=officer, case=amended, at=recoded + timedelta(hours=1))
    assert Case.objects.get(pk=case.pk).amendment_reason == ""
    files = dict(_export(officer, program))
    first, second = files[f"{case.number}-v1.xml"], files[f"{case.number}-v2.xml"]
    assert b"nullificationAmendmentCode" not in first and b"headache" in first  # v1 as it was sent
    assert b'code="2" codeSystem="2.16.840.1.113883.3.989.2.1.1.5"' in second
    assert b"miscoded: a rash, no headache" in second and b"rash" in second
    assert check_icsr(second, today=(recoded + timedelta(days=1)).date()) == []
    [(_name, line_list)] = _export(officer, program, fmt="csv")
    assert [row.split(",")[-1] for row in line_list.decode().splitlines()[1:]] == ["", "amendment"]
    assert [f.correction for f in CaseForwarding.objects.order_by("version")] == ["", "amendment"]


def test_new_information_after_a_correction_makes_an_ordinary_follow_up(case, officer, program, active_patient):
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10019211"), at=LATER)
    assessed(officer, case, LATER + timedelta(hours=1), code="10037844", reason="recoded")
    more = record_intake(actor=SYSTEM, patient=active_patient, source="sms", reason="r", detail={},
                         idempotency_key="sms:more", day_zero=LATER + timedelta(hours=2))
    case = decide_intake(actor=officer, intake=more, kind="adverse_event", reason="", at=LATER + timedelta(hours=3),
                         follow_up_of=case).case
    assert (case.version, case.amendment_reason) == (3, "")
    forward_case(actor=officer, case=case, at=LATER + timedelta(hours=4))
    assert CaseForwarding.objects.get(version=3).correction == ""


def test_a_nullified_case_drug_safety_has_is_sent_as_a_nullification(case, officer, program):
    forward_case(actor=officer, case=assessed(officer, case, LATER, code="10019211", serious=True), at=LATER)
    voided = LATER + timedelta(days=1)
    case = nullify_case(actor=officer, case=case, reason="the patient meant another product", at=voided)
    assert (case.status, case.version, case.forwarded_at) == ("nullified", 2, voided)
    sent = CaseForwarding.objects.get(version=2)
    assert (sent.correction, sent.forwarded_at, sent.due_at) == ("nullification", voided, voided)
    assert sent.facts["reactions"] == CaseForwarding.objects.get(version=1).facts["reactions"]
    files = dict(_export(officer, program))
    nullification = files[f"{case.number}-v2.xml"]
    assert b'code="1" codeSystem="2.16.840.1.113883.3.989.2.1.1.5"' in nullification
    assert b"the patient meant another product" in nullification
    assert check_icsr(nullification, today=voided.date()) == []
    assert AuditEntry.objects.filter(action="safety.case_nullified").latest("pk").after["version"] == 2
    with pytest.raises(InvalidInput) as long:
        nullify_case(actor=officer, case=case, reason="x" * 301, at=voided)
    assert long.value.field == "reason"


def test_a_case_drug_safety_never_had_is_nullified_without_a_report(case, officer, program, active_patient):
    nullify_case(actor=officer, case=case, reason="opened in error", at=LATER)
    assert not CaseForwarding.objects.exists() and Case.objects.get(pk=case.pk).version == 1
    # A version drug safety never received gives its number to the nullification.
    other = decide_intake(actor=officer, kind="adverse_event", reason="", at=LATER, intake=record_intake(
        actor=SYSTEM, patient=active_patient, source="sms", reason="r", detail={}, idempotency_key="sms:o",
        day_zero=DAY_ZERO)).case
    forward_case(actor=officer, case=assessed(officer, other, LATER, code="10019211"), at=LATER)
    decide_intake(actor=officer, kind="adverse_event", reason="", at=LATER, follow_up_of=other, intake=record_intake(
        actor=SYSTEM, patient=active_patient, source="sms", reason="r", detail={}, idempotency_key="sms:o2",
        day_zero=LATER))
    voided = nullify_case(actor=officer, case=other, reason="a duplicate of another sponsor's case", at=LATER)
    assert voided.version == 2
    assert [(f.version, f.correction) for f in voided.forwardings.order_by("version")] == [
        (1, ""), (2, "nullification")]
