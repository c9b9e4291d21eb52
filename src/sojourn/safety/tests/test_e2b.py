"""The E2B(R3) export: case versions become ICSR XML that passes the conformance check, broken ones are
caught by data element number, the FDA example instance and acknowledgements are read as published."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sojourn.safety.e2b.ack import AckUnreadable, read_ack
from sojourn.safety.e2b.check import IcsrNotConformant, Problem, check_icsr, raise_unless_valid
from sojourn.safety.e2b.csv_line import line_list
from sojourn.safety.e2b.elements import ELEMENTS, HL7
from sojourn.safety.e2b.icsr import (
    Age,
    Dose,
    Drug,
    DrugRole,
    IcsrCase,
    NullFlavor,
    Nullification,
    NullificationKind,
    Outcome,
    PartialDate,
    Patient,
    Qualification,
    Reaction,
    Relatedness,
    Reporter,
    ReportType,
    Sender,
    SenderType,
    Seriousness,
    Sex,
    build_icsr,
    ts,
)

DATA = Path(__file__).parent / "data"
TODAY = date(2025, 6, 30)
BERLIN = timezone(timedelta(hours=2))
NEW_YORK = timezone(timedelta(hours=-4))


def injection_site_case(**changes) -> IcsrCase:
    """A German patient on a psoriasis biologic, a non-serious injection-site reaction, told to the PSP nurse."""
    case = IcsrCase(
        sender_id="SOJOURN-PSP",
        receiver_id="EVHUMAN",
        batch_receiver_id="EVHUMAN",
        batch_number="SOJ-B-2025-000117",
        message_number="SOJ-M-2025-000117",
        created_at=datetime(2025, 6, 12, 9, 30, 0, tzinfo=BERLIN),
        safety_report_id="DE-SOJOURN-2025-000117",
        worldwide_unique_id="DE-SOJOURN-2025-000117",
        report_type=ReportType.SPONTANEOUS,
        first_received=date(2025, 6, 10),
        most_recent_info=date(2025, 6, 10),
        primary_source=Reporter(qualification=Qualification.OTHER_HEALTH_PROFESSIONAL, country="DE",
                                given_name="Anna", family_name="Keller", organisation="Psoriasis support program",
                                telephone="+4930123456"),
        sender=Sender(type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Example Pharma GmbH"),
        patient=Patient(initials=NullFlavor.MSK, age=Age(42), birth_date=NullFlavor.MSK, sex=Sex.FEMALE),
        reactions=(Reaction(
            verbatim="Rötung und Schwellung an der Einstichstelle, 4 cm, juckend",
            language="deu",
            meddra_code="10022095",  # injection site reaction
            meddra_version="27.1",
            onset=date(2025, 6, 8),
            outcome=Outcome.RECOVERED,
            country="DE",
        ),),
        drugs=(
            Drug(role=DrugRole.SUSPECT, name="Skyrizi 150 mg Injektionslösung im Fertigpen",
                 substance="risankizumab", dose=Dose(150, "mg"),
                 relatedness=(Relatedness(reaction=0, result="related", source="Primary source reporter",
                                          method="Global introspection"),)),
            Drug(role=DrugRole.CONCOMITANT, name="Methotrexat 15 mg", substance="methotrexate"),
        ),
        narrative=("A 42-year-old woman on risankizumab for plaque psoriasis told the program nurse of redness "
                   "and swelling at the injection site two days after her dose; it resolved within three days."),
    )
    return replace(case, **changes)


def hospitalisation_case(**changes) -> IcsrCase:
    """A US patient on the same biologic, hospitalised for pneumonia: serious, expedited to FDA."""
    case = injection_site_case(
        receiver_id="CDER",
        batch_receiver_id="ZZFDA",
        batch_number="SOJ-B-2025-000342",
        message_number="SOJ-M-2025-000342",
        created_at=datetime(2025, 5, 3, 16, 5, 41, tzinfo=NEW_YORK),
        safety_report_id="US-SOJOURN-2025-000342",
        worldwide_unique_id="US-SOJOURN-2025-000342",
        first_received=datetime(2025, 4, 28, 14, 12, 0, tzinfo=NEW_YORK),
        most_recent_info=date(2025, 5, 2),
        primary_source=Reporter(qualification=Qualification.PHYSICIAN, country="US"),
        sender=Sender(type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Example Pharma Inc."),
        patient=Patient(initials="JD", age=Age(58), sex=Sex.MALE),
        reactions=(Reaction(
            verbatim="pneumonia, admitted to hospital",
            meddra_code="10035664",  # pneumonia
            meddra_version="27.1",
            onset=PartialDate(2025, 4),
            seriousness=frozenset({Seriousness.HOSPITALISATION}),
            outcome=Outcome.RECOVERING,
            country="US",
        ),),
        drugs=(Drug(role=DrugRole.SUSPECT, name="SKYRIZI 150 mg/mL pen", substance="risankizumab",
                    relatedness=(Relatedness(reaction=0, result="Suspected", source="Sponsor",
                                             method="Global introspection"),)),),
        narrative="A 58-year-old man on risankizumab was admitted with community-acquired pneumonia.",
        sender_comment="Serious infections are a known risk of IL-23 inhibitors.",
        expedited=True,
    )
    return replace(case, **changes)


def values(xml: bytes, number: str) -> list[str]:
    return ELEMENTS[number].xpath.select(ET.fromstring(xml))


def messages(problems: list[Problem]) -> list[str]:
    return [problem.message for problem in problems]


@pytest.mark.parametrize("case", [injection_site_case(), hospitalisation_case()], ids=["non-serious", "serious"])
def test_a_realistic_case_builds_an_icsr_that_conforms(case):
    xml = build_icsr(case)

    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert check_icsr(xml, today=TODAY) == []
    raise_unless_valid(xml, today=TODAY)
    assert ET.fromstring(xml).tag == f"{{{HL7}}}MCCI_IN200100UV01"
    assert values(xml, "C.1.1") == [case.safety_report_id]
    assert values(xml, "E.i.1.1a") == [case.reactions[0].verbatim]
    assert values(xml, "G.k.1") == [drug.role.value for drug in case.drugs]
    assert values(xml, "N.2.r.4") == values(xml, "C.1.2") == values(xml, "N.1.5")


def test_the_icsr_carries_the_case_as_the_example_instance_does():
    xml = build_icsr(hospitalisation_case())

    assert values(xml, "N.1.4") == ["ZZFDA"]
    assert values(xml, "N.2.r.3") == ["CDER"]
    assert values(xml, "C.1.4") == ["20250428141200-0400"]
    assert values(xml, "C.1.5") == ["20250502"]
    assert values(xml, "E.i.4") == ["202504"]  # a month stays a month
    assert values(xml, "E.i.3.2c") == ["true"]
    assert ELEMENTS["E.i.3.2a"].null_xpath.select(ET.fromstring(xml)) == ["NI"]
    assert values(xml, "E.i.7") == ["2"]
    assert values(xml, "C.1.7") == ["true"]
    assert values(xml, "H.4") == ["Serious infections are a known risk of IL-23 inhibitors."]
    assert values(xml, "G.k.9.i.2.r.3") == ["Suspected"]
    assert values(xml, "D.1") == ["JD"]
    masked = build_icsr(injection_site_case())
    assert ELEMENTS["D.1"].null_xpath.select(ET.fromstring(masked)) == ["MSK"]
    assert values(masked, "G.k.4.r.1a") == ["150"]
    assert values(masked, "G.k.4.r.1b") == ["mg"]
    assert values(masked, "C.2.r.2.7") == ["+4930123456"]
    assert build_icsr(injection_site_case()) == masked  # the linking ids are stable across builds


def test_every_element_of_the_table_is_where_its_xpath_looks_in_a_full_case():
    """elements.csv and build_icsr agree: a case with every optional part set fills every element."""
    full = injection_site_case(
        patient=Patient(initials="AK", age=Age(42), birth_date=date(1983, 2, 1), sex=Sex.FEMALE),
        sender_comment="Expected reaction per the product information.",
        nullification=Nullification(NullificationKind.AMENDMENT, "Outcome corrected after the follow-up call."),
        expedited=False,
    )
    root = ET.fromstring(build_icsr(full))

    empty = [number for number, element in ELEMENTS.items()
             if not element.xpath.select(root) and not (element.null_xpath and element.null_xpath.select(root))]
    assert empty == []
    assert check_icsr(build_icsr(full), today=TODAY) == []


def test_dates_keep_the_precision_they_were_given():
    assert ts(PartialDate(2024)) == "2024"
    assert ts(PartialDate(2024, 5)) == "202405"
    assert ts(date(2024, 5, 17)) == "20240517"
    assert ts(datetime(2024, 5, 17, 14, 30, 0, tzinfo=BERLIN)) == "20240517143000+0200"
    with pytest.raises(ValueError, match="time zone"):
        ts(datetime(2024, 5, 17, 14, 30))
    with pytest.raises(ValueError):
        PartialDate(2024, 13)


def _without_meddra() -> IcsrCase:
    reaction = replace(injection_site_case().reactions[0], meddra_code=None, meddra_version=None)
    return injection_site_case(reactions=(reaction,))


def _reaction(**changes) -> tuple[Reaction, ...]:
    return (replace(injection_site_case().reactions[0], **changes),)


BROKEN = {
    # The check, not the type, must catch it: data mapped from elsewhere is not type-checked.
    "no day zero": (injection_site_case(first_received=None), "C.1.4", "C.1.4: Data value required"),
    "verbatim too long": (injection_site_case(reactions=_reaction(verbatim="Juckreiz " * 30)),
                          "E.i.1.1a", "E.i.1.1a: Maximum length exceeded (250)"),
    "onset in the future": (injection_site_case(reactions=_reaction(onset=date(2025, 7, 2))),
                            "E.i.4", "E.i.4: contains a future date"),
    "day zero is only a year": (injection_site_case(first_received=PartialDate(2025)),
                                "C.1.4", "C.1.4: does not contain minimum precision of CCYYMMDD"),
    "birth date is only a year": (injection_site_case(patient=Patient(birth_date=PartialDate(1983))),
                                  "D.2.1", "D.2.1: does not contain minimum precision of CCYYMMDD"),
    "outcome code unknown": (injection_site_case(reactions=_reaction(outcome="9")),
                             "E.i.7", "E.i.7: contains invalid value 9"),
    "no suspect drug": (injection_site_case(drugs=(Drug(role=DrugRole.CONCOMITANT, name="Methotrexat 15 mg"),)),
                        "G.k.1", "G.k.1: at least one drug must be suspect (1) or interacting (3)"),
    "no reaction": (injection_site_case(reactions=(), drugs=(Drug(role=DrugRole.SUSPECT, name="Skyrizi"),)),
                    "E.i", "E.i: at least one reaction / event is required"),
    "no drug": (injection_site_case(drugs=()), "G.k", "G.k: at least one drug is required"),
    "MedDRA not coded": (_without_meddra(), "E.i.2.1b", "E.i.2.1b: Data value required"),
    "most recent before first": (injection_site_case(most_recent_info=date(2025, 6, 1)),
                                 "C.1.5", "C.1.5: must not be earlier than C.1.4"),
    "onset after the most recent information": (injection_site_case(reactions=_reaction(onset=date(2025, 6, 11))),
                                                "E.i.4", "E.i.4: must not be later than C.1.5"),
    "FDA batch to the wrong centre": (hospitalisation_case(receiver_id="CBER"),
                                      "N.2.r.3", "N.2.r.3: must be one of CDER when N.1.4 = ZZFDA"),
    "company without organisation": (injection_site_case(sender=Sender(SenderType.PHARMACEUTICAL_COMPANY, None)),
                                     "C.3.2", "C.3.2: must be provided when C.3.1 is not 7"),
    "nullified without a reason": (
        injection_site_case(nullification=Nullification(NullificationKind.NULLIFICATION, "")),
        "C.1.11.2", "C.1.11.2: must be provided when C.1.11.1 is provided"),
    "two MedDRA versions": (
        injection_site_case(reactions=(*_reaction(), *_reaction(meddra_code="10022061", meddra_version="26.0"))),
        "E.i.2.1a", "E.i.2.1a: only one MedDRA version is allowed per ICSR (26.0, 27.1)"),
    "creation time without seconds": (injection_site_case(created_at=PartialDate(2025, 6)),
                                      "N.1.5", "N.1.5: does not contain full precision date (CCYYMMDDhhmmss)"),
    "country is not a code": (injection_site_case(reactions=_reaction(country="D1")),
                              "E.i.9", "E.i.9: contains invalid value D1"),
}


@pytest.mark.parametrize(("case", "element", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_case_fails_naming_its_data_element(case, element, message):
    problems = check_icsr(build_icsr(case), today=TODAY)

    assert message in messages(problems)
    assert Problem(element, message) in problems
    with pytest.raises(IcsrNotConformant) as refused:
        raise_unless_valid(build_icsr(case), today=TODAY)
    assert element in {detail.field for detail in refused.value.details}
    assert message in str(refused.value)


def test_without_a_meddra_code_only_the_verbatim_goes_out():
    xml = build_icsr(_without_meddra())

    assert values(xml, "E.i.1.1a") == [_without_meddra().reactions[0].verbatim]
    assert values(xml, "E.i.2.1b") == values(xml, "E.i.2.1a") == []


def test_the_fda_example_instance_passes_the_check():
    assert check_icsr((DATA / "FAERS2022Scenario1.xml").read_bytes(), today=TODAY) == []


def test_the_check_finds_an_element_removed_from_the_fda_example():
    example = (DATA / "FAERS2022Scenario1.xml").read_text(encoding="utf-8")
    without_outcome = example.replace('code="3" displayName="not recovered/not resolved/ongoing"', 'code="7"')

    assert messages(check_icsr(without_outcome.encode(), today=TODAY)) == ["E.i.7: contains invalid value 7"]


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>',
    b"%PDF-1.7 not an ICSR",
    b'<PORR_IN049016UV xmlns="urn:hl7-org:v3"/>',
    b'<MCCI_IN200100UV01 xmlns="urn:hl7-org:v3"/>',
])
def test_the_check_reports_what_it_cannot_read(document):
    problems = check_icsr(document, today=TODAY)

    assert len(problems) == 1
    assert problems[0].element in ("N.1", "N.2.r")


def test_the_positive_acknowledgement_is_read():
    ack = read_ack((DATA / "R3ack-positive.ack").read_bytes())

    assert (ack.code, ack.accepted) == ("AA", True)
    assert ack.number == "33439257"
    assert ack.sender == "ZZFDA"
    assert ack.receiver == "4567AB89012"
    assert ack.icsr_batch_number == "FAERS2022Scenario1-4069-a2dd-08002b30309d"
    assert ack.local_message_number == "427032"
    assert ack.details == ("message successfully processed, no further action",)
    report = ack.report("US-APHARMA-8744554B")
    assert report is not None
    assert (report.code, report.accepted) == ("CA", True)
    assert report.refers_to("21ec1492-3aea-4069-a2ab-08002b30309d")  # N.2.r.1 as well as C.1.1
    assert report.local_report_number == "19426648"
    assert report.icsr_created == "20141214151617-0500"
    assert report.details == ("Report Loaded Successfully",)


def test_the_negative_acknowledgement_is_read_with_its_errors():
    ack = read_ack((DATA / "R3ack-negative.ack").read_bytes())

    assert (ack.code, ack.accepted) == ("AE", False)
    assert ack.details == ("some ICSR message(s) need further action",)
    [report] = ack.reports
    assert (report.code, report.accepted) == ("CR", False)
    assert report.icsr_message_ids == ("US-APHARMA-7644554",)
    assert ack.report("US-APHARMA-7644554") is report
    assert ack.report("US-APHARMA-8744554B") is None
    assert len(report.details) == 4
    assert report.details[0].startswith("Element value for SafetyCasePriority With Tag Id FDA.C.1.7.1")
    assert "Patient Ethnicity Code (FDA.D.12) must be provided" in report.details


def _ack_with(old: str, new: str) -> bytes:
    return (DATA / "R3ack-positive.ack").read_text(encoding="utf-8").replace(old, new, 1).encode()


@pytest.mark.parametrize(("document", "says"), [
    (b'<?xml version="1.0"?>\n<!DOCTYPE MCCI_IN200101UV01 [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
     b'<MCCI_IN200101UV01 xmlns="urn:hl7-org:v3">&x;</MCCI_IN200101UV01>', "DOCTYPE"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'.encode("utf-16"),
     "DOCTYPE"),
    (b"ACK OK 33439257", "not well-formed XML"),
    (b"", "not well-formed XML"),
    ((DATA / "FAERS2022Scenario1.xml").read_bytes(), "MCCI_IN200100UV01, not MCCI_IN200101UV01"),
    (_ack_with('<acknowledgement typeCode="AA">', '<acknowledgement typeCode="OK">'), "ACK.A.4"),
    (_ack_with('<acknowledgement typeCode="CA">', '<acknowledgement typeCode="maybe">'), "ACK.B.r.6"),
    (_ack_with('<id extension="33439257" root="2.16.840.1.113883.3.989.2.1.3.20"/>', ""), "ACK.M.1"),
    (_ack_with('extension="21ec1492-3aea-4069-a2ab-08002b30309d US-APHARMA-8744554B"', ""), "ACK.B.r.1"),
], ids=["doctype", "utf-16 doctype", "not xml", "empty", "wrong root", "batch code", "report code",
        "no ack number", "no target message"])
def test_a_malformed_acknowledgement_is_refused_saying_why(document, says):
    with pytest.raises(AckUnreadable) as refused:
        read_ack(document)
    assert says in refused.value.message


def test_the_line_list_has_a_row_per_case_and_reaction():
    second = Reaction(verbatim="=HYPERLINK(\"https://evil.example\")", outcome=Outcome.UNKNOWN,
                      meddra_code="10037087", meddra_version="27.1", onset=PartialDate(2025, 6))
    serious = hospitalisation_case()
    cases = [injection_site_case(reactions=(*injection_site_case().reactions, second)), serious]

    rows = list(csv.DictReader(io.StringIO(line_list(cases))))

    assert [(row["safety_report_id"], row["meddra_code"]) for row in rows] == [
        ("DE-SOJOURN-2025-000117", "10022095"),
        ("DE-SOJOURN-2025-000117", "10037087"),
        ("US-SOJOURN-2025-000342", "10035664"),
    ]
    assert rows[0] == {
        "safety_report_id": "DE-SOJOURN-2025-000117",
        "message_number": "SOJ-M-2025-000117",
        "day_zero": "2025-06-10",
        "country": "DE",
        "reporter_qualification": "other health professional",
        "verbatim_term": "Rötung und Schwellung an der Einstichstelle, 4 cm, juckend",
        "meddra_code": "10022095",
        "serious": "no",
        "seriousness_criteria": "",
        "outcome": "recovered",
        "suspect_products": "Skyrizi 150 mg Injektionslösung im Fertigpen",
        "nullification_amendment": "",
    }
    assert rows[1]["verbatim_term"] == "'=HYPERLINK(\"https://evil.example\")"  # text, not a formula
    assert rows[1]["country"] == "DE"  # the reporter's, as the reaction names none
    assert (rows[2]["day_zero"], rows[2]["serious"], rows[2]["seriousness_criteria"]) == (
        "2025-04-28T14:12:00-04:00", "yes", "hospitalisation")
    assert (rows[2]["outcome"], rows[2]["reporter_qualification"]) == ("recovering", "physician")


# Free text as people type it: any printable character XML can carry, not only blanks.
def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Co")),
                   min_size=1, max_size=max_size).filter(str.strip)


def _moment(day: date) -> st.SearchStrategy:
    """The day itself, or a moment that day in some time zone: at least CCYYMMDD, as C.1.4 and C.1.5 need."""
    zones = st.sampled_from([UTC, BERLIN, NEW_YORK, timezone(timedelta(hours=9)),
                             timezone(timedelta(hours=5, minutes=30))])
    at_time = st.builds(lambda hour, zone: datetime(day.year, day.month, day.day, hour, 0, 0, tzinfo=zone),
                        st.integers(0, 23), zones)
    return st.one_of(st.just(day), at_time)


def _onset(latest: date) -> st.SearchStrategy:
    """A day up to a year before the latest information, sent as the day, its month or its year."""
    return st.integers(0, 365).map(lambda back: latest - timedelta(days=back)).flatmap(lambda day: st.sampled_from(
        [day, PartialDate(day.year, day.month), PartialDate(day.year)]))


@st.composite
def icsr_cases(draw) -> IcsrCase:
    first_day = draw(st.dates(date(2000, 1, 1), date(2025, 1, 1)))
    latest_day = first_day + timedelta(days=draw(st.integers(0, 120)))
    version = draw(st.sampled_from(["26.1", "27.0", "27.1"]))  # one MedDRA version per ICSR
    reactions = tuple(draw(st.lists(st.builds(
        Reaction,
        verbatim=_text(250),
        outcome=st.sampled_from(Outcome),
        language=st.sampled_from(["eng", "deu", "fra", "jpn"]),
        meddra_code=st.integers(10000000, 10099999).map(str),
        meddra_version=st.just(version),
        onset=st.none() | _onset(latest_day),
        seriousness=st.frozensets(st.sampled_from(Seriousness)),
        country=st.none() | st.sampled_from(["DE", "GB", "US", "FR", "JP", "CA"]),
    ), min_size=1, max_size=3)))
    relatedness = st.lists(st.builds(Relatedness, reaction=st.integers(0, len(reactions) - 1),
                                     result=_text(60), source=_text(60), method=_text(60)), max_size=2)
    dose = st.builds(Dose, value=st.integers(1, 9_999_999).map(lambda n: Decimal(n) / 10),
                     unit=st.sampled_from(["mg", "mL", "{DF}", "ug/kg"]))
    drug = st.builds(Drug, role=st.sampled_from(DrugRole), name=_text(250), substance=st.none() | _text(250),
                     dose=st.none() | dose, relatedness=relatedness.map(tuple))
    # At least one suspect or interacting drug, first as FDA's W0005 would have it.
    suspect = replace(draw(drug), role=draw(st.sampled_from([DrugRole.SUSPECT, DrugRole.INTERACTING])))
    sender_type = draw(st.sampled_from(SenderType))
    receivers = draw(st.sampled_from([("ZZFDA", "CDER"), ("EVHUMAN", "EVHUMAN"), ("ZZFDA_PREMKT", "CDER_IND")]))
    return IcsrCase(
        sender_id=draw(st.from_regex(r"[A-Z0-9]{3,20}", fullmatch=True)),
        receiver_id=receivers[1],
        batch_receiver_id=receivers[0],
        batch_number=draw(st.from_regex(r"B-[0-9]{1,12}", fullmatch=True)),
        message_number=draw(st.uuids().map(str)),
        created_at=datetime(latest_day.year, latest_day.month, latest_day.day, 12, tzinfo=BERLIN)
        + timedelta(days=1),
        safety_report_id=(report_id := draw(st.from_regex(r"[A-Z]{2}-[A-Z0-9]{2,20}-[0-9]{1,12}", fullmatch=True))),
        worldwide_unique_id=report_id,
        report_type=draw(st.sampled_from(ReportType)),
        first_received=draw(_moment(first_day)),
        most_recent_info=draw(_moment(latest_day)),
        primary_source=Reporter(
            qualification=draw(st.none() | st.sampled_from(Qualification)),
            country=draw(st.sampled_from(["DE", "GB", "US", "JP", NullFlavor.MSK, NullFlavor.UNK])),
            given_name=draw(st.none() | _text(60)),
            family_name=draw(st.none() | _text(60)),
            organisation=draw(st.none() | _text(60)),
            telephone=draw(st.none() | st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True)),
        ),
        sender=Sender(type=sender_type, organisation=draw(_text(100)) if sender_type != SenderType.PATIENT_OR_CONSUMER
                      else draw(st.none() | _text(100))),
        patient=Patient(
            initials=draw(_text(60) | st.sampled_from([NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU])),
            age=draw(st.none() | st.builds(Age, st.integers(0, 120), st.sampled_from(["a", "mo", "wk", "d"]))),
            birth_date=draw(st.none() | st.just(NullFlavor.MSK) | st.dates(date(1905, 1, 1), first_day)),
            sex=draw(st.none() | st.sampled_from([Sex.MALE, Sex.FEMALE, NullFlavor.MSK, NullFlavor.UNK])),
        ),
        reactions=reactions,
        drugs=(suspect, *draw(st.lists(drug, max_size=2))),
        narrative=draw(_text(2000)),
        sender_comment=draw(st.none() | _text(500)),
        nullification=draw(st.none() | st.builds(Nullification, st.sampled_from(NullificationKind), _text(2000))),
        expedited=draw(st.none() | st.booleans()),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=icsr_cases())
def test_any_valid_case_builds_an_icsr_the_check_accepts(case):
    assert check_icsr(build_icsr(case), today=date(2026, 1, 1)) == []
