"""One case version as an ICH E2B(R3) ICSR: plain values in, HL7 v3 XML out.

`IcsrCase` knows nothing of Django models; whoever exports a case maps it onto these dataclasses.
`build_icsr` writes the batch (MCCI_IN200100UV01) holding one ICSR message (PORR_IN049016UV), laid out
as the FDA example instance FAERS2022Scenario1.xml is, with the ICH OIDs and code systems. It writes
what it is given: whether the result conforms is check.check_icsr's question, asked before sending.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from xml.etree import ElementTree as ET

from .elements import HL7, XSI

# ICH OIDs (E2B(R3) implementation guide, appendix I), as in the FAERS example instance.
ICH = "2.16.840.1.113883.3.989.2.1"
OID_BATCH_NUMBER = f"{ICH}.3.22"  # N.1.2
OID_BATCH_SENDER = f"{ICH}.3.13"  # N.1.3
OID_BATCH_RECEIVER = f"{ICH}.3.14"  # N.1.4
OID_MESSAGE_NUMBER = f"{ICH}.3.1"  # N.2.r.1, and C.1.1
OID_MESSAGE_SENDER = f"{ICH}.3.11"  # N.2.r.2
OID_MESSAGE_RECEIVER = f"{ICH}.3.12"  # N.2.r.3
OID_WORLDWIDE_ID = f"{ICH}.3.2"  # C.1.8.1
OID_MESSAGE_TYPE = f"{ICH}.1.1"  # N.1.1
OID_REPORT_TYPE = f"{ICH}.1.2"  # C.1.3
OID_FIRST_SENDER = f"{ICH}.1.3"  # C.1.8.2
OID_NULLIFICATION = f"{ICH}.1.5"  # C.1.11.1
OID_QUALIFICATION = f"{ICH}.1.6"  # C.2.r.4
OID_SENDER_TYPE = f"{ICH}.1.7"  # C.3.1
OID_OUTCOME = f"{ICH}.1.11"  # E.i.7
OID_DRUG_ROLE = f"{ICH}.1.13"  # G.k.1
OID_OBSERVATION = f"{ICH}.1.19"  # the ICH observation codes (reaction, outcome, seriousness…)
OID_CATEGORY = f"{ICH}.1.20"  # organizer categories (drug information)
OID_AUTHOR = f"{ICH}.1.21"  # who wrote a comment (sender, reporter)
OID_REPORT_RELATION = f"{ICH}.1.22"  # initial report, source report
OID_CHARACTERISTIC = f"{ICH}.1.23"  # report characteristics (report type, other ids, nullification)
OID_HL7_INTERACTION = "2.16.840.1.113883.1.6"
OID_HL7_TRIGGER = "2.16.840.1.113883.1.18"
OID_HL7_ACT_CODE = "2.16.840.1.113883.5.4"
OID_MEDDRA = "2.16.840.1.113883.6.163"
OID_COUNTRY = "1.0.3166.1.2.2"
OID_SEX = "1.0.5218"


class NullFlavor(StrEnum):
    """HL7 reasons for a missing value; each element allows only some (elements.csv)."""

    NI = "NI"  # no information
    MSK = "MSK"  # masked: known but not sent (data privacy)
    UNK = "UNK"  # unknown
    NA = "NA"  # not applicable
    ASKU = "ASKU"  # asked, but unknown
    NASK = "NASK"  # not asked


class Coded(StrEnum):
    """An ICH code list: the value is the code, the name says what it means."""

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


class ReportType(Coded):  # C.1.3
    SPONTANEOUS = "1"
    STUDY = "2"
    OTHER = "3"
    NOT_AVAILABLE_TO_SENDER = "4"


class FirstSender(Coded):  # C.1.8.2
    REGULATOR = "1"
    OTHER = "2"


class NullificationKind(Coded):  # C.1.11.1
    NULLIFICATION = "1"
    AMENDMENT = "2"


class Qualification(Coded):  # C.2.r.4
    PHYSICIAN = "1"
    PHARMACIST = "2"
    OTHER_HEALTH_PROFESSIONAL = "3"
    LAWYER = "4"
    CONSUMER = "5"  # or other non health professional


class SenderType(Coded):  # C.3.1
    PHARMACEUTICAL_COMPANY = "1"
    REGULATORY_AUTHORITY = "2"
    HEALTH_PROFESSIONAL = "3"
    REGIONAL_PHARMACOVIGILANCE_CENTRE = "4"
    WHO_COLLABORATING_CENTRE = "5"
    OTHER = "6"
    PATIENT_OR_CONSUMER = "7"


class Sex(Coded):  # D.5 (ISO 5218)
    MALE = "1"
    FEMALE = "2"


class Outcome(Coded):  # E.i.7
    UNKNOWN = "0"
    RECOVERED = "1"
    RECOVERING = "2"
    NOT_RECOVERED = "3"
    RECOVERED_WITH_SEQUELAE = "4"
    FATAL = "5"


class Seriousness(Coded):
    """E.i.3.2a–f; the value is the ICH observation code each criterion is sent under."""

    DEATH = "34"  # E.i.3.2a results in death
    LIFE_THREATENING = "21"  # E.i.3.2b
    HOSPITALISATION = "33"  # E.i.3.2c caused or prolonged
    DISABLING = "35"  # E.i.3.2d disabling / incapacitating
    CONGENITAL_ANOMALY = "12"  # E.i.3.2e
    OTHER_MEDICALLY_IMPORTANT = "26"  # E.i.3.2f


SERIOUSNESS_DISPLAY = {
    Seriousness.DEATH: "resultsInDeath",
    Seriousness.LIFE_THREATENING: "isLifeThreatening",
    Seriousness.HOSPITALISATION: "requiresInpatientHospitalization",
    Seriousness.DISABLING: "resultsInPersistentOrSignificantDisability",
    Seriousness.CONGENITAL_ANOMALY: "congenitalAnomalyBirthDefect",
    Seriousness.OTHER_MEDICALLY_IMPORTANT: "otherMedicallyImportantCondition",
}


class DrugRole(Coded):  # G.k.1
    SUSPECT = "1"
    CONCOMITANT = "2"
    INTERACTING = "3"
    DRUG_NOT_ADMINISTERED = "4"


@dataclass(frozen=True)
class PartialDate:
    """A date known only to the year or the month; a whole day is a `date`, a moment an aware `datetime`."""

    year: int
    month: int | None = None

    def __post_init__(self) -> None:
        date(self.year, self.month or 1, 1)  # refuses month 13 as date() does


# A point in time at the precision it was given: year or year-month (PartialDate), day (date), or
# date and time (aware datetime). HL7 TS keeps that precision: 2024, 202405, 20240517, 20240517143000+0200.
Moment = date | datetime | PartialDate


def ts(moment: Moment) -> str:
    """Return the HL7 TS text of a moment, at the precision it was given."""
    if isinstance(moment, PartialDate):
        return f"{moment.year:04d}" + (f"{moment.month:02d}" if moment.month else "")
    if isinstance(moment, datetime):
        if moment.utcoffset() is None:
            raise ValueError(f"{moment!r} has no time zone; an ICSR date and time carries its UTC offset")
        return moment.strftime("%Y%m%d%H%M%S%z")
    return moment.strftime("%Y%m%d")


@dataclass(frozen=True)
class Nullification:  # C.1.11.1 and C.1.11.2
    kind: NullificationKind
    reason: str


@dataclass(frozen=True)
class Reporter:
    """The primary source (C.2.r), sent as the one primary source for regulatory purposes (C.2.r.5 = 1)."""

    qualification: Qualification | None  # C.2.r.4; None is sent as nullFlavor UNK
    country: str | NullFlavor  # C.2.r.3, ISO 3166-1 alpha-2
    given_name: str | None = None  # C.2.r.1.2
    family_name: str | None = None  # C.2.r.1.4
    organisation: str | None = None  # C.2.r.2.1
    telephone: str | None = None  # C.2.r.2.7


@dataclass(frozen=True)
class Sender:  # C.3
    type: SenderType
    organisation: str | None  # C.3.2, required unless the sender is a patient or consumer


@dataclass(frozen=True)
class Age:  # D.2.2a and D.2.2b
    value: int | Decimal
    unit: str = "a"  # UCUM: a (years), mo, wk, d, h, 10.a (decades)


@dataclass(frozen=True)
class Patient:
    initials: str | NullFlavor = NullFlavor.MSK  # D.1; masked unless the program may send initials
    age: Age | None = None  # D.2.2, at onset
    birth_date: Moment | NullFlavor | None = None  # D.2.1
    sex: Sex | NullFlavor | None = None  # D.5


@dataclass(frozen=True)
class Reaction:
    verbatim: str  # E.i.1.1a, as the primary source said it
    outcome: Outcome  # E.i.7
    language: str = "eng"  # E.i.1.1b, ISO 639-2
    meddra_code: str | None = None  # E.i.2.1b; without it only the verbatim goes out
    meddra_version: str | None = None  # E.i.2.1a, e.g. "27.1"
    onset: Moment | None = None  # E.i.4
    seriousness: frozenset[Seriousness] = frozenset()  # E.i.3.2a–f; none: not serious
    country: str | None = None  # E.i.9

    @property
    def serious(self) -> bool:
        return bool(self.seriousness)


@dataclass(frozen=True)
class Dose:  # G.k.4.r.1a and G.k.4.r.1b
    value: int | Decimal
    unit: str  # UCUM, e.g. mg, {DF}


@dataclass(frozen=True)
class Relatedness:
    """One assessment of whether a drug caused a reaction (G.k.9.i.2.r)."""

    reaction: int  # index into IcsrCase.reactions
    result: str  # G.k.9.i.2.r.3, e.g. "related", "Suspected"
    source: str  # G.k.9.i.2.r.1, e.g. "Primary source reporter", "Sponsor"
    method: str  # G.k.9.i.2.r.2, e.g. "Global introspection"


@dataclass(frozen=True)
class Drug:
    role: DrugRole  # G.k.1
    name: str  # G.k.2.2, as reported by the primary source
    substance: str | None = None  # G.k.2.3.r.1
    dose: Dose | None = None  # G.k.4.r.1
    relatedness: tuple[Relatedness, ...] = ()  # G.k.9.i.2.r


@dataclass(frozen=True)
class IcsrCase:
    """One version of one case, with everything its ICSR carries."""

    sender_id: str  # N.1.3 batch sender and N.2.r.2 message sender
    receiver_id: str  # N.2.r.3 message receiver, e.g. CDER
    batch_receiver_id: str  # N.1.4, e.g. ZZFDA
    batch_number: str  # N.1.2
    message_number: str  # N.2.r.1
    created_at: datetime  # N.1.5, N.2.r.4 and C.1.2; aware
    safety_report_id: str  # C.1.1, country-sender-number, the same across versions
    worldwide_unique_id: str  # C.1.8.1
    report_type: ReportType  # C.1.3
    first_received: Moment  # C.1.4, day zero
    most_recent_info: Moment  # C.1.5
    primary_source: Reporter  # C.2.r
    sender: Sender  # C.3
    patient: Patient  # D
    reactions: tuple[Reaction, ...]  # E.i
    drugs: tuple[Drug, ...]  # G.k
    narrative: str  # H.1
    sender_comment: str | None = None  # H.4
    nullification: Nullification | None = None  # C.1.11
    expedited: bool | None = None  # C.1.7, local criteria for an expedited report; None: no information
    first_sender: FirstSender = FirstSender.OTHER  # C.1.8.2

    def reaction_id(self, index: int) -> str:
        return _stable_id(self, f"reaction/{index}")

    def drug_id(self, index: int) -> str:
        return _stable_id(self, f"drug/{index}")


def _stable_id(case: IcsrCase, what: str) -> str:
    """Return the UUID the ICSR links a reaction or drug by: the same for every build of one version."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:sojourn:icsr:{case.safety_report_id}:{case.message_number}:{what}"))


def build_icsr(case: IcsrCase) -> bytes:
    """Return the ICSR batch holding this case version, as UTF-8 XML with its declaration."""
    # The namespaces are declared as the example instance does, by name: ElementTree would otherwise
    # need its process-wide prefix registry changed to write HL7 as the default namespace.
    root = _el("MCCI_IN200100UV01", {"xmlns": HL7, "xmlns:xsi": XSI, "ITSVersion": "XML_1.0",
                                     "xsi:schemaLocation": f"{HL7} MCCI_IN200100UV01.xsd"})
    _sub(root, "id", root=OID_BATCH_NUMBER, extension=case.batch_number)
    _sub(root, "creationTime", value=ts(case.created_at))
    _sub(root, "responseModeCode", code="D")
    _sub(root, "interactionId", root=OID_HL7_INTERACTION, extension="MCCI_IN200100UV01")
    _sub(root, "name", code="1", displayName="ichicsr", codeSystem=OID_MESSAGE_TYPE)
    root.append(_message(case))
    _device(root, "receiver", "RCV", OID_BATCH_RECEIVER, case.batch_receiver_id)
    _device(root, "sender", "SND", OID_BATCH_SENDER, case.sender_id)
    ET.indent(root, space="\t")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _message(case: IcsrCase) -> ET.Element:
    message = _el("PORR_IN049016UV")
    _sub(message, "id", root=OID_MESSAGE_NUMBER, extension=case.message_number)
    _sub(message, "creationTime", value=ts(case.created_at))
    _sub(message, "interactionId", root=OID_HL7_INTERACTION, extension="PORR_IN049016UV")
    _sub(message, "processingCode", code="P")
    _sub(message, "processingModeCode", code="I")  # as in FDA's example instance
    _sub(message, "acceptAckCode", code="AL")
    _device(message, "receiver", "RCV", OID_MESSAGE_RECEIVER, case.receiver_id)
    _device(message, "sender", "SND", OID_MESSAGE_SENDER, case.sender_id)
    control = _sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    _sub(control, "code", code="PORR_TE049016UV", codeSystem=OID_HL7_TRIGGER)
    _sub(control, "effectiveTime", value=ts(case.created_at))
    event = _sub(_sub(control, "subject", typeCode="SUBJ"), "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _sub(event, "id", root=OID_MESSAGE_NUMBER, extension=case.safety_report_id)
    _sub(event, "id", root=OID_WORLDWIDE_ID, extension=case.worldwide_unique_id)
    _sub(event, "code", code="PAT_ADV_EVNT", codeSystem=OID_HL7_ACT_CODE)
    _sub(event, "text").text = case.narrative
    _sub(event, "statusCode", code="active")
    # Both are required, but a case mapped from incomplete data may lack them: the check says so, by number.
    if case.first_received is not None:
        _sub(_sub(event, "effectiveTime"), "low", value=ts(case.first_received))
    if case.most_recent_info is not None:
        _sub(event, "availabilityTime", value=ts(case.most_recent_info))
    event.append(_assessment(case))
    _observation_event(event, "1", "additionalDocumentsAvailable", _boolean(False))  # Sojourn attaches none
    _observation_event(event, "23", "localCriteriaForExpedited", _boolean(case.expedited))
    _initial_report(event, case.first_sender)
    _primary_source(event, case.primary_source)
    _sender(event, case.sender)
    _characteristic(event, "1", "ICH ReportType",
                    _coded(case.report_type, OID_REPORT_TYPE, type_="CE"))
    # C.1.9.1: Sojourn sends no case identifiers of earlier transmissions.
    _characteristic(event, "2", "otherCaseIds", _boolean(None))
    if case.nullification:
        _characteristic(event, "3", "nullificationAmendmentCode",
                        _coded(case.nullification.kind, OID_NULLIFICATION, type_="CE"))
        reason = _el("value", {"xsi:type": "CE"})
        _sub(reason, "originalText").text = case.nullification.reason
        _characteristic(event, "4", "nullificationAmendmentReason", reason)
    return message


def _assessment(case: IcsrCase) -> ET.Element:
    component = _el("component", typeCode="COMP")
    assessment = _sub(component, "adverseEventAssessment", classCode="INVSTG", moodCode="EVN")
    role = _sub(_sub(assessment, "subject1", typeCode="SBJ"), "primaryRole", classCode="INVSBJ")
    _patient(role, case.patient)
    for index, reaction in enumerate(case.reactions):
        _reaction(role, reaction, case.reaction_id(index))
    if case.drugs:
        organizer = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN")
        _sub(organizer, "code", code="4", codeSystem=OID_CATEGORY, displayName="drugInformation")
        for index, drug in enumerate(case.drugs):
            _drug(organizer, drug, case.drug_id(index))
    for index, drug in enumerate(case.drugs):  # G.k.1, linked to the drug by its id
        causality = _causality(assessment, "20", "interventionCharacterization")
        causality.append(_coded(drug.role, OID_DRUG_ROLE, type_="CE"))
        _product_reference(causality, case.drug_id(index))
    for index, drug in enumerate(case.drugs):  # G.k.9.i.2.r
        for relatedness in drug.relatedness:
            causality = _causality(assessment, "39", "causality")
            _sub(causality, "value", {"xsi:type": "ST"}).text = relatedness.result
            _sub(_sub(causality, "methodCode"), "originalText").text = relatedness.method
            author = _sub(_sub(causality, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
            _sub(_sub(author, "code"), "originalText").text = relatedness.source
            reference = _sub(_sub(causality, "subject1", typeCode="SUBJ"), "adverseEffectReference",
                             classCode="OBS", moodCode="EVN")
            _sub(reference, "id", root=case.reaction_id(relatedness.reaction))
            _product_reference(causality, case.drug_id(index))
    if case.sender_comment:
        comment = _sub(_sub(assessment, "component1", typeCode="COMP"), "observationEvent",
                       classCode="OBS", moodCode="EVN")
        _sub(comment, "code", code="10", codeSystem=OID_OBSERVATION, displayName="comment")
        _sub(comment, "value", {"xsi:type": "ED"}).text = case.sender_comment
        author = _sub(_sub(comment, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
        _sub(author, "code", code="1", codeSystem=OID_AUTHOR, displayName="sender")
    return component


def _patient(role: ET.Element, patient: Patient) -> None:
    person = _sub(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    if isinstance(patient.initials, NullFlavor):
        _sub(person, "name", nullFlavor=patient.initials)
    else:
        _sub(person, "name").text = patient.initials
    if isinstance(patient.sex, NullFlavor):
        _sub(person, "administrativeGenderCode", nullFlavor=patient.sex)
    elif patient.sex:
        _sub(person, "administrativeGenderCode", code=patient.sex, codeSystem=OID_SEX)
    if isinstance(patient.birth_date, NullFlavor):
        _sub(person, "birthTime", nullFlavor=patient.birth_date)
    elif patient.birth_date is not None:
        _sub(person, "birthTime", value=ts(patient.birth_date))
    if patient.age:
        observation = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "observation", classCode="OBS", moodCode="EVN")
        _sub(observation, "code", code="3", codeSystem=OID_OBSERVATION, displayName="age")
        _sub(observation, "value", {"xsi:type": "PQ"}, value=str(patient.age.value), unit=patient.age.unit)


def _reaction(role: ET.Element, reaction: Reaction, reaction_id: str) -> None:
    observation = _sub(_sub(role, "subjectOf2", typeCode="SBJ"), "observation", classCode="OBS", moodCode="EVN")
    _sub(observation, "id", root=reaction_id)
    _sub(observation, "code", code="29", codeSystem=OID_OBSERVATION, displayName="reaction")
    if reaction.onset is not None:
        _sub(_sub(observation, "effectiveTime", {"xsi:type": "IVL_TS"}), "low", value=ts(reaction.onset))
    # The MedDRA term and the verbatim share one CE: the code when coded, the verbatim as its original text.
    term = _sub(observation, "value", {"xsi:type": "CE"})
    if reaction.meddra_code:
        term.set("code", reaction.meddra_code)
    term.set("codeSystem", OID_MEDDRA)
    if reaction.meddra_version:
        term.set("codeSystemVersion", reaction.meddra_version)
    _sub(term, "originalText", language=reaction.language).text = reaction.verbatim
    if reaction.country:
        place = _sub(_sub(_sub(observation, "location", typeCode="LOC"), "locatedEntity", classCode="LOCE"),
                     "locatedPlace", classCode="COUNTRY", determinerCode="INSTANCE")
        _sub(place, "code", code=reaction.country, codeSystem=OID_COUNTRY)
    for criterion in Seriousness:  # each criterion is sent: true, or nullFlavor NI when it does not apply
        _pertaining(observation, criterion.value, SERIOUSNESS_DISPLAY[criterion],
                    _boolean(True if criterion in reaction.seriousness else None))
    _pertaining(observation, "27", "outcome", _coded(reaction.outcome, OID_OUTCOME, type_="CE"))


def _drug(organizer: ET.Element, drug: Drug, drug_id: str) -> None:
    administration = _sub(_sub(organizer, "component", typeCode="COMP"), "substanceAdministration",
                          classCode="SBADM", moodCode="EVN")
    _sub(administration, "id", root=drug_id)
    product = _sub(_sub(_sub(administration, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST"),
                   "kindOfProduct", classCode="MMAT", determinerCode="KIND")
    _sub(product, "name").text = drug.name
    if drug.substance:
        ingredient = _sub(product, "ingredient", classCode="ACTI")
        _sub(_sub(ingredient, "ingredientSubstance", classCode="MMAT", determinerCode="KIND"), "name").text = (
            drug.substance)
    if drug.dose:
        dosage = _sub(_sub(administration, "outboundRelationship2", typeCode="COMP"), "substanceAdministration",
                      classCode="SBADM", moodCode="EVN")
        _sub(dosage, "doseQuantity", value=str(drug.dose.value), unit=drug.dose.unit)


def _primary_source(event: ET.Element, reporter: Reporter) -> None:
    relation = _sub(event, "outboundRelationship", typeCode="SPRT")
    _sub(relation, "priorityNumber", value="1")  # C.2.r.5: the primary source for regulatory purposes
    investigation = _sub(relation, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    _sub(investigation, "code", code="2", codeSystem=OID_REPORT_RELATION, displayName="sourceReport")
    entity = _author_entity(investigation)
    if reporter.telephone:
        _sub(entity, "telecom", value=f"tel:{reporter.telephone}")
    person = _sub(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    if reporter.given_name or reporter.family_name:
        name = _sub(person, "name")
        if reporter.given_name:
            _sub(name, "given").text = reporter.given_name
        if reporter.family_name:
            _sub(name, "family").text = reporter.family_name
    qualified = _sub(person, "asQualifiedEntity", classCode="QUAL")
    if reporter.qualification:
        qualified.append(_coded(reporter.qualification, OID_QUALIFICATION, tag="code"))
    else:
        _sub(qualified, "code", nullFlavor=NullFlavor.UNK)
    location = _sub(_sub(person, "asLocatedEntity", classCode="LOCE"), "location", classCode="COUNTRY",
                    determinerCode="INSTANCE")
    if isinstance(reporter.country, NullFlavor):
        _sub(location, "code", nullFlavor=reporter.country)
    else:
        _sub(location, "code", code=reporter.country, codeSystem=OID_COUNTRY)
    if reporter.organisation:  # C.2.r.2.1 sits inside the (unnamed) department, C.2.r.2.2
        department = _sub(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        organisation = _sub(_sub(department, "assignedEntity", classCode="ASSIGNED"), "representedOrganization",
                            classCode="ORG", determinerCode="INSTANCE")
        _sub(organisation, "name").text = reporter.organisation


def _sender(event: ET.Element, sender: Sender) -> None:
    control = _sub(_sub(event, "subjectOf1", typeCode="SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN")
    entity = _sub(_sub(control, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
    _sub(entity, "code", code=sender.type, codeSystem=OID_SENDER_TYPE)
    if sender.organisation:  # C.3.2 sits inside the (unnamed) department, C.3.3.1
        department = _sub(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        organisation = _sub(_sub(department, "assignedEntity", classCode="ASSIGNED"), "representedOrganization",
                            classCode="ORG", determinerCode="INSTANCE")
        _sub(organisation, "name").text = sender.organisation


def _initial_report(event: ET.Element, first_sender: FirstSender) -> None:
    relation = _sub(event, "outboundRelationship", typeCode="SPRT")
    investigation = _sub(relation, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    _sub(investigation, "code", code="1", codeSystem=OID_REPORT_RELATION, displayName="initialReport")
    entity = _author_entity(investigation)
    entity.append(_coded(first_sender, OID_FIRST_SENDER, tag="code"))


def _author_entity(investigation: ET.Element) -> ET.Element:
    control = _sub(_sub(investigation, "subjectOf2", typeCode="SUBJ"), "controlActEvent", classCode="CACT",
                   moodCode="EVN")
    return _sub(_sub(control, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")


def _observation_event(event: ET.Element, code: str, display: str, value: ET.Element) -> None:
    observation = _sub(_sub(event, "component", typeCode="COMP"), "observationEvent", classCode="OBS", moodCode="EVN")
    _sub(observation, "code", code=code, codeSystem=OID_OBSERVATION, displayName=display)
    observation.append(value)


def _characteristic(event: ET.Element, code: str, display: str, value: ET.Element) -> None:
    characteristic = _sub(_sub(event, "subjectOf2", typeCode="SUBJ"), "investigationCharacteristic",
                          classCode="OBS", moodCode="EVN")
    _sub(characteristic, "code", code=code, codeSystem=OID_CHARACTERISTIC, displayName=display)
    characteristic.append(value)


def _pertaining(observation: ET.Element, code: str, display: str, value: ET.Element) -> None:
    inner = _sub(_sub(observation, "outboundRelationship2", typeCode="PERT"), "observation", classCode="OBS",
                 moodCode="EVN")
    _sub(inner, "code", code=code, codeSystem=OID_OBSERVATION, displayName=display)
    inner.append(value)


def _causality(assessment: ET.Element, code: str, display: str) -> ET.Element:
    causality = _sub(_sub(assessment, "component", typeCode="COMP"), "causalityAssessment", classCode="OBS",
                     moodCode="EVN")
    _sub(causality, "code", code=code, codeSystem=OID_OBSERVATION, displayName=display)
    return causality


def _product_reference(causality: ET.Element, drug_id: str) -> None:
    reference = _sub(_sub(causality, "subject2", typeCode="SUBJ"), "productUseReference", classCode="SBADM",
                     moodCode="EVN")
    _sub(reference, "id", root=drug_id)


def _device(parent: ET.Element, tag: str, type_code: str, oid: str, identifier: str) -> None:
    device = _sub(_sub(parent, tag, typeCode=type_code), "device", classCode="DEV", determinerCode="INSTANCE")
    _sub(device, "id", root=oid, extension=identifier)


def _boolean(value: bool | None) -> ET.Element:
    """Return a BL value; None is nullFlavor NI, as ICH wants for a criterion that does not apply."""
    if value is None:
        return _el("value", {"xsi:type": "BL"}, nullFlavor=NullFlavor.NI)
    return _el("value", {"xsi:type": "BL"}, value="true" if value else "false")


def _coded(code: str, system: str, *, type_: str | None = None, tag: str = "value") -> ET.Element:
    """Return a coded value, with its display name when the code is one of ours.

    A code mapped from elsewhere may be a plain string: it goes out as given, for the check to judge.
    """
    coded = _el(tag, {"xsi:type": type_} if type_ else {}, code=str(code), codeSystem=system)
    if isinstance(code, Coded):
        coded.set("displayName", code.label)
    return coded


def _el(tag: str, attributes: dict[str, str] | None = None, **more: str) -> ET.Element:
    """Return an element named as written (HL7's by the root's xmlns; `xsi:` attributes by prefix)."""
    return ET.Element(tag, {**(attributes or {}), **{k: str(v) for k, v in more.items()}})


def _sub(parent: ET.Element, tag: str, attributes: dict[str, str] | None = None, **more: str) -> ET.Element:
    child = _el(tag, attributes, **more)
    parent.append(child)
    return child
