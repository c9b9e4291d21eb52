"""Read an ICH E2B(R3) acknowledgement (MCCI_IN200101UV01): did the authority take the batch and each ICSR?

An ACK comes from outside, so it is parsed only after elements.parse_xml has refused any DOCTYPE or
ENTITY declaration, and only up to MAX_BYTES. Anything that is not a well-formed ACK is refused with
AckUnreadable naming what is wrong, never half read.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element as XmlElement

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sojourn.core.errors import InvalidInput

from .elements import HL7, XmlRefused, parse_xml

MAX_BYTES = 20 * 1024 * 1024  # an ACK of thousands of reports stays far below
BATCH_CODES = ("AA", "AE", "AR")  # ACK.A.4: all accepted, some in error, batch rejected
REPORT_CODES = ("CA", "CR")  # ACK.B.r.6: ICSR accepted, ICSR rejected
NS = {"hl7": HL7}


class AckUnreadable(InvalidInput):
    code = "ack_unreadable"
    default_message = gettext_lazy("This is not an E2B(R3) acknowledgement Sojourn can read.")


@dataclass(frozen=True)
class ReportAck:
    """One ICSR message's acknowledgement (ACK.B.r)."""

    code: str  # ACK.B.r.6: CA or CR
    icsr_message_ids: tuple[str, ...]  # ACK.B.r.1: FDA sends "N.2.r.1 C.1.1", or C.1.1 alone
    local_report_number: str | None  # ACK.B.r.2, the authority's number for the report
    icsr_created: str | None  # ACK.B.r.5, the date of ICSR message creation as sent (HL7 TS)
    details: tuple[str, ...]  # ACK.B.r.7: errors, warnings or comment, split where FDA puts ";"

    @property
    def accepted(self) -> bool:
        return self.code == "CA"

    def refers_to(self, identifier: str) -> bool:
        """Tell whether this acknowledges the ICSR with this message number (N.2.r.1) or report id (C.1.1)."""
        return identifier in self.icsr_message_ids


@dataclass(frozen=True)
class Ack:
    """A batch acknowledgement (ACK.M and ACK.A) and the acknowledgement of each report in it."""

    number: str  # ACK.M.1, the acknowledgement's own batch number
    created: str | None  # ACK.M.4 (HL7 TS)
    sender: str | None  # ACK.M.2, e.g. ZZFDA
    receiver: str | None  # ACK.M.3, our batch sender id
    code: str  # ACK.A.4: AA, AE or AR
    icsr_batch_number: str | None  # ACK.A.1, our N.1.2
    local_message_number: str | None  # ACK.A.2
    details: tuple[str, ...]  # ACK.A.5, batch validation errors or comment
    reports: tuple[ReportAck, ...]

    @property
    def accepted(self) -> bool:
        return self.code == "AA"

    def report(self, identifier: str) -> ReportAck | None:
        """Return the acknowledgement of one ICSR, by message number or safety report id."""
        return next((report for report in self.reports if report.refers_to(identifier)), None)


def read_ack(data: bytes) -> Ack:
    """Return the acknowledgement in these bytes, or raise AckUnreadable saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise AckUnreadable(_("The acknowledgement is larger than %(limit)d MB.") % {"limit": MAX_BYTES >> 20})
    try:
        root = parse_xml(data)
    except XmlRefused as error:
        raise AckUnreadable(error.message) from error
    if root.tag != f"{{{HL7}}}MCCI_IN200101UV01":
        raise AckUnreadable(_("The root element is %(found)s, not MCCI_IN200101UV01.") % {
            "found": root.tag.replace(f"{{{HL7}}}", "")[:60]})
    acknowledgement = _required(root, "hl7:acknowledgement", "ACK.A.4")
    return Ack(
        number=_required_attribute(root, "hl7:id", "extension", "ACK.M.1"),
        created=_attribute(root, "hl7:creationTime", "value"),
        sender=_attribute(root, "hl7:sender/hl7:device/hl7:id", "extension"),
        receiver=_attribute(root, "hl7:receiver/hl7:device/hl7:id", "extension"),
        code=_code(acknowledgement, BATCH_CODES, "ACK.A.4"),
        icsr_batch_number=_attribute(acknowledgement, "hl7:targetBatch/hl7:id", "extension"),
        local_message_number=_attention(root, "2", "extension"),
        details=_details(acknowledgement),
        reports=tuple(_report(message) for message in root.findall("hl7:MCCI_IN000002UV01", NS)),
    )


def _report(message: XmlElement) -> ReportAck:
    acknowledgement = _required(message, "hl7:acknowledgement", "ACK.B.r.6")
    target = _required_attribute(acknowledgement, "hl7:targetMessage/hl7:id", "extension", "ACK.B.r.1")
    return ReportAck(
        code=_code(acknowledgement, REPORT_CODES, "ACK.B.r.6"),
        icsr_message_ids=tuple(target.split()),
        local_report_number=_attribute(message, "hl7:id", "extension"),
        icsr_created=_attention(message, "1", "value"),
        details=_details(acknowledgement),
    )


def _required(parent: XmlElement, path: str, number: str) -> XmlElement:
    found = parent.find(path, NS)
    if found is None:
        raise AckUnreadable(_("The acknowledgement has no %(element)s.") % {"element": number})
    return found


def _attribute(parent: XmlElement, path: str, name: str) -> str | None:
    found = parent.find(path, NS)
    value = (found.get(name) or "").strip() if found is not None else ""
    return value or None


def _required_attribute(parent: XmlElement, path: str, name: str, number: str) -> str:
    value = _attribute(parent, path, name)
    if value is None:
        raise AckUnreadable(_("The acknowledgement has no %(element)s.") % {"element": number})
    return value


def _code(acknowledgement: XmlElement, allowed: tuple[str, ...], number: str) -> str:
    code = acknowledgement.get("typeCode", "")
    if code not in allowed:
        raise AckUnreadable(_("%(element)s is %(found)r, not one of %(allowed)s.") % {
            "element": number, "found": code[:20], "allowed": ", ".join(allowed)})
    return code


def _attention(parent: XmlElement, keyword: str, name: str) -> str | None:
    """Return a value of the attentionLine whose keyWordText has this code (1 ICSR creation date, 2 local number)."""
    for line in parent.findall("hl7:attentionLine", NS):
        word = line.find("hl7:keyWordText", NS)
        if word is not None and word.get("code") == keyword:
            return _attribute(line, "hl7:value", name)
    return None


def _details(acknowledgement: XmlElement) -> tuple[str, ...]:
    texts = [node.text or "" for node in acknowledgement.findall("hl7:acknowledgementDetail/hl7:text", NS)]
    return tuple(part.strip() for text in texts for part in text.split(";") if part.strip())
