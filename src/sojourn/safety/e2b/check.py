"""Check an ICSR against the ICH E2B(R3) element table and the business rules, before it leaves.

Per element Sojourn emits (elements.csv): present when ICH requires it, within its maximum length, a
value of its type and code list, an allowed null flavor, dates well formed, as precise as the rules
demand and not in the future. Then the cross-element rules of FDA's rejection list and of the ICH
guide that apply to what Sojourn sends (`_message_rules`). Each problem names its data element first,
worded like the regulators' generic messages ("C.1.4: Data value required"), so PV can set it beside
an acknowledgement's; for that reason the texts are not translated.

The XML is parsed with ElementTree after elements.parse_xml has refused any DTD. That suits our own
output and the published example instances; a document from outside is read only through a reader
built for its shape and size (ack.read_ack), never handed to this check straight from an upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from xml.etree.ElementTree import Element as XmlElement

from django.utils.translation import gettext_lazy as _

from sojourn.core.errors import ErrorDetail, InvalidInput

from .elements import ELEMENTS, HL7, DataElement, XmlRefused, find, parse_xml, relative

MEDDRA = "2.16.840.1.113883.6.163"
NUMERIC = re.compile(r"[+-]?\d+(?:\.\d+)?")
ALPHA = re.compile(r"[A-Za-z]+")
MEDDRA_VERSION = re.compile(r"\d{1,2}\.\d{1,2}")
# HL7 TS: CCYY[MM[DD[hh[mm[ss[.s]]]]]][+/-ZZzz]
TS = re.compile(r"(?P<digits>\d{4}(?:\d{2}){0,5})(?:\.\d{1,4})?(?P<offset>[+-]\d{4})?")
TS_FORMATS = {4: "%Y", 6: "%Y%m", 8: "%Y%m%d", 10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
PRECISION_NAMES = {4: "CCYY", 6: "CCYYMM", 8: "CCYYMMDD", 14: "CCYYMMDDhhmmss"}

# Where the ids the ICSR links drugs and reactions by sit, from the element's repetition (its context).
DRUG_ID = relative("substanceAdministration/id/@root")
REACTION_ID = relative("observation/id/@root")
ASSESSED_REACTION = relative("causalityAssessment/subject1/adverseEffectReference/id/@root")
ASSESSED_DRUG = relative("causalityAssessment/subject2/productUseReference/id/@root")

# R0006, R0007: the message receivers each FDA batch receiver takes.
FDA_RECEIVERS = {"ZZFDA": ("CDER",), "ZZFDA_PREMKT": ("CDER_IND", "CBER_IND", "CDER_IND_EXEMPT_BA_BE")}


@dataclass(frozen=True)
class Problem:
    element: str  # the data element number, e.g. C.1.4
    message: str  # starts with the number: "C.1.4: Data value required"

    def __str__(self) -> str:
        return self.message


class IcsrNotConformant(InvalidInput):
    code = "icsr_not_conformant"
    default_message = _("The ICSR does not conform to ICH E2B(R3).")

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{self.default_message} " + "; ".join(p.message for p in problems),
                         details=[ErrorDetail(message=p.message, field=p.element, code="e2b") for p in problems])


def raise_unless_valid(xml: bytes, *, today: date | None = None) -> None:
    """Raise IcsrNotConformant listing every problem, unless there is none."""
    if problems := check_icsr(xml, today=today):
        raise IcsrNotConformant(problems)


def latest_date_on_earth() -> date:
    """Return today's date where it is latest (UTC+14).

    ICSR dates are local to where things happened, with no zone; a date is certainly in the future only
    once it is after today everywhere, so a Tokyo day zero sent from a UTC server is not refused.
    """
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def check_icsr(xml: bytes, *, today: date | None = None) -> list[Problem]:
    """Return every problem found in an ICSR batch, element by element then rule by rule."""
    today = today or latest_date_on_earth()
    try:
        root = parse_xml(xml)
    except XmlRefused as error:
        return [Problem("N.1", f"N.1: {error.message}")]
    if root.tag != f"{{{HL7}}}MCCI_IN200100UV01":
        return [Problem("N.1", "N.1: the root element is not MCCI_IN200100UV01")]
    messages = ELEMENTS["N.2.r.1"].xpath.contexts(root)
    if not messages:
        return [Problem("N.2.r", "N.2.r: the batch holds no ICSR message (PORR_IN049016UV)")]
    problems: list[Problem] = []
    for element in ELEMENTS.values():
        problems += _element_problems(element, root, today)
    for message in messages:
        problems += _message_rules(root, message)
    return problems


def _element_problems(element: DataElement, root: XmlElement, today: date) -> list[Problem]:
    problems = []
    if element.xpath.variables == {"k"}:
        # G.k.1 finds its drug by the drug's id: required once per drug, not once per message.
        for drug in ELEMENTS["G.k.2.2"].xpath.contexts(root):
            ids = find(drug, DRUG_ID)
            values = element.xpath.select(root, {"k": ids[0]}) if ids else []
            problems += _value_problems(element, values, [], today)
        return problems
    for context in element.xpath.contexts(root):
        values = element.xpath.values(context)
        nulls = element.null_xpath.values(context) if element.null_xpath else []
        problems += _value_problems(element, values, nulls, today)
    return problems


def _value_problems(element: DataElement, values: list[str], nulls: list[str], today: date) -> list[Problem]:
    number = element.number
    if not values and not nulls:
        return [Problem(number, f"{number}: Data value required")] if element.required else []
    problems = [Problem(number, f"{number}: nullFlavor {flavor[:20]} is not allowed")
                for flavor in nulls if flavor not in element.null_flavors]
    for value in values:
        if element.max_length and len(value) > element.max_length:
            problems.append(Problem(number, f"{number}: Maximum length exceeded ({element.max_length})"))
        if element.data_type == "TS":
            problems += _date_problems(element, value, today)
        elif not _valid(element, value):
            problems.append(Problem(number, f"{number}: contains invalid value {value[:40]}"))
    return problems


def _valid(element: DataElement, value: str) -> bool:
    if element.values == ("N.N",):
        return bool(MEDDRA_VERSION.fullmatch(value))
    if element.values and value not in element.values:
        return False
    if element.data_type == "N":
        return bool(NUMERIC.fullmatch(value))
    if element.data_type == "A":
        return bool(ALPHA.fullmatch(value))
    return True


def _date_problems(element: DataElement, value: str, today: date) -> list[Problem]:
    number = element.number
    digits = _ts_digits(value)
    if digits is None:
        return [Problem(number, f"{number}: contains invalid value {value[:40]}")]
    problems = []
    if element.min_precision and len(digits) < element.min_precision:
        if element.min_precision == 14:
            problems.append(Problem(number, f"{number}: does not contain full precision date (CCYYMMDDhhmmss)"))
        else:
            name = PRECISION_NAMES[element.min_precision]
            problems.append(Problem(number, f"{number}: does not contain minimum precision of {name}"))
    if element.no_future and digits[:8] > today.strftime("%Y%m%d")[:len(digits[:8])]:
        problems.append(Problem(number, f"{number}: contains a future date"))
    return problems


def _ts_digits(value: str) -> str | None:
    """Return the date and time digits of an HL7 TS (CCYY… without fraction or zone), or None if malformed."""
    found = TS.fullmatch(value)
    if not found:
        return None
    digits = found["digits"]
    try:
        datetime.strptime(digits, TS_FORMATS[len(digits)])  # only the calendar is checked
    except ValueError:
        return None
    offset = found["offset"]
    if offset and (int(offset[1:3]) > 14 or int(offset[3:]) > 59):
        return None
    return digits


def _before(first: str, second: str) -> bool:
    """Tell whether one TS is earlier than another, at the date precision both have."""
    a, b = _ts_digits(first), _ts_digits(second)
    if a is None or b is None:
        return False  # a malformed date is reported as such, not twice
    common = min(len(a), len(b), 8)
    return a[:common] < b[:common]


def _message_rules(root: XmlElement, message: XmlElement) -> list[Problem]:
    """Return the cross-element problems of one ICSR message."""

    def values(number: str, context: XmlElement = message) -> list[str]:
        path = ELEMENTS[number].xpath
        return path.values(context if path.repeat else root)

    def nulls(number: str, context: XmlElement) -> list[str]:
        path = ELEMENTS[number].null_xpath
        return path.values(context) if path else []

    def first(number: str, context: XmlElement = message) -> str | None:
        found = values(number, context)
        return found[0] if found else None

    def within(number: str) -> list[XmlElement]:
        return ELEMENTS[number].xpath.contexts_in(message)

    problems: list[Problem] = []

    def problem(number: str, text: str) -> None:
        problems.append(Problem(number, f"{number}: {text}"))

    # The ICH guide: the most recent information cannot predate the first receipt, and nothing reported
    # can have started after the most recent information (a follow-up may add a reaction that began after
    # day zero, so onset is held to C.1.5, not C.1.4).
    received, latest = first("C.1.4"), first("C.1.5")
    if received and latest and _before(latest, received):
        problem("C.1.5", "must not be earlier than C.1.4")
    # The ICH table: the message's creation date is the report's (C.1.2).
    created, message_created = first("C.1.2"), first("N.2.r.4")
    if created and message_created and created != message_created:
        problem("N.2.r.4", "must be the same as C.1.2")
    # R0100: every message comes from the batch's sender.
    batch_sender, message_sender = first("N.1.3"), first("N.2.r.2")
    if batch_sender and message_sender and batch_sender != message_sender:
        problem("N.2.r.2", "must be the same as N.1.3")
    # R0006, R0007: an FDA batch receiver takes only its own centres as message receivers.
    batch_receiver, receiver = first("N.1.4"), first("N.2.r.3")
    if batch_receiver in FDA_RECEIVERS and receiver and receiver not in FDA_RECEIVERS[batch_receiver]:
        problem("N.2.r.3", f"must be one of {', '.join(FDA_RECEIVERS[batch_receiver])} when N.1.4 = {batch_receiver}")
    # C.1.11.2 is required once C.1.11.1 is given.
    if first("C.1.11.1") and not first("C.1.11.2"):
        problem("C.1.11.2", "must be provided when C.1.11.1 is provided")

    # R0021, R0019, R0020: one primary source for regulatory purposes, with its country and qualification.
    primaries = [source for source in within("C.2.r.5") if "1" in values("C.2.r.5", source)]
    if not primaries:
        problem("C.2.r.5", "at least one reporter must be the primary source (1)")
    for source in primaries:
        for number in ("C.2.r.3", "C.2.r.4"):
            if not values(number, source) and not nulls(number, source):
                problem(number, "must be provided when C.2.r.5 = 1")
    # R0022: a sender other than a patient or consumer names its organisation.
    sender_type = first("C.3.1")
    if sender_type and sender_type != "7" and not first("C.3.2"):
        problem("C.3.2", "must be provided when C.3.1 is not 7")
    # R0029, R0030: the age comes with its unit, the unit with an age.
    if first("D.2.2a") and not first("D.2.2b"):
        problem("D.2.2b", "must be provided when D.2.2a is provided")
    if first("D.2.2b") and not first("D.2.2a"):
        problem("D.2.2a", "must be provided when D.2.2b is provided")

    reactions = within("E.i.2.1b")
    if not reactions:  # E.i.2.1b is required: no ICSR without a reaction / event
        problem("E.i", "at least one reaction / event is required")
    for reaction in reactions:
        if values("E.i.1.1a", reaction) and not values("E.i.1.1b", reaction):  # R0058
            problem("E.i.1.1b", "must be provided when E.i.1.1a is provided")
        onset = first("E.i.4", reaction)
        if onset and latest and _before(latest, onset):
            problem("E.i.4", "must not be later than C.1.5")
    # The rules of every MedDRA element: only one MedDRA version per ICSR.
    versions = sorted({node.get("codeSystemVersion", "") for node in message.iter()
                       if node.get("codeSystem") == MEDDRA and node.get("codeSystemVersion")})
    if len(versions) > 1:
        problem("E.i.2.1a", f"only one MedDRA version is allowed per ICSR ({', '.join(versions)})")

    drugs = within("G.k.2.2")
    if not drugs:
        problem("G.k", "at least one drug is required")
    roles = [role for drug in drugs for ids in [find(drug, DRUG_ID)] if ids
             for role in ELEMENTS["G.k.1"].xpath.select(root, {"k": ids[0]})]
    # The ICH guide, and FDA's R0069/R0070: at least one drug is suspect or interacting.
    if drugs and not {"1", "3"} & set(roles):
        problem("G.k.1", "at least one drug must be suspect (1) or interacting (3)")
    for dose in within("G.k.4.r.1a"):  # R0075
        if values("G.k.4.r.1a", dose) and not values("G.k.4.r.1b", dose):
            problem("G.k.4.r.1b", "must be provided when G.k.4.r.1a is provided")
    # Each causality assessment links a reaction and a drug of this report.
    reaction_ids = {found for reaction in reactions for found in find(reaction, REACTION_ID)}
    drug_ids = {found for drug in drugs for found in find(drug, DRUG_ID)}
    for assessment in within("G.k.9.i.2.r.3"):
        if not set(find(assessment, ASSESSED_REACTION)) <= reaction_ids or not find(assessment, ASSESSED_REACTION):
            problem("G.k.9.i.1", "the assessment refers to no reaction of this report")
        if not set(find(assessment, ASSESSED_DRUG)) <= drug_ids or not find(assessment, ASSESSED_DRUG):
            problem("G.k.9.i.1", "the assessment refers to no drug of this report")
    return problems
