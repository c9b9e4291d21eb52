"""A forwarded case version as drug safety receives it: the coded facts kept at forwarding (`facts`),
mapped onto the E2B(R3) ICSR (e2b.icsr.IcsrCase) and the PV line list.

The facts are taken once, when the version is forwarded, so a file exported later is exactly what was
sent, whatever the assessment became since. The narrative is kept beside them as sent, sealed with the
patient's key: after an erasure the file says the narrative was erased (drug safety received it with
the version).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from sojourn.safety.e2b.icsr import (
    Age,
    Drug,
    DrugRole,
    FirstSender,
    IcsrCase,
    NullFlavor,
    Nullification,
    NullificationKind,
    Outcome,
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
)
from sojourn.safety.models import Case, CaseForwarding

# ICH E2A seriousness criteria, as the assessment names them, and the E2B element each is sent as.
CRITERIA: dict[str, Seriousness] = {
    "death": Seriousness.DEATH,
    "life_threatening": Seriousness.LIFE_THREATENING,
    "hospitalisation": Seriousness.HOSPITALISATION,
    "disabling": Seriousness.DISABLING,
    "congenital_anomaly": Seriousness.CONGENITAL_ANOMALY,
    "other_medically_important": Seriousness.OTHER_MEDICALLY_IMPORTANT,
}
# The reporter's opinion of causality, as E2B G.k.9.i.2.r.3 carries it (free text in E2B).
CAUSALITY = {"related": "related", "not_related": "not related", "unknown": "unassessable"}
# ISO 639-2 (terminology codes) for the languages patients write in.
LANGUAGES = {"de": "deu", "en": "eng", "fr": "fra", "ja": "jpn"}
ERASED_NARRATIVE = ("The narrative was erased with the patient's personal data after this version reached "
                    "drug safety; its coded facts are unchanged.")


def language_of(locale: str) -> str:
    return LANGUAGES.get(locale.split("-")[0].lower(), "und")


def snapshot(case: Case, *, most_recent: datetime) -> dict[str, Any]:
    """The coded facts of the case as they stand: what this version carries to drug safety."""
    zone = ZoneInfo(case.subject.time_zone)
    return {
        "number": case.number,
        "kind": case.kind,
        "country": case.market.country,
        "sponsor": case.program.sponsor.name,
        "sponsor_id": case.program.sponsor.slug.upper(),
        "day_zero": case.day_zero.astimezone(zone).date().isoformat(),
        "most_recent": most_recent.astimezone(zone).date().isoformat(),
        "suspect_product": case.suspect_product,
        "expectedness": case.expectedness,
        "serious": bool(case.serious),
        # Who told the program: the patient (a consumer), or a doctor about a patient of theirs, who is
        # then known by the age and sex the doctor gave.
        "reporter": "consumer" if case.patient_id else "physician",
        "patient_age": case.patient_age,
        "patient_sex": case.patient_sex,
        "reactions": [{"verbatim": r.verbatim, "language": r.language, "meddra_code": r.meddra_code,
                       "meddra_version": r.meddra_version, "onset": r.onset.isoformat() if r.onset else None,
                       "outcome": r.outcome, "seriousness": list(r.seriousness), "causality": r.causality}
                      for r in case.reactions.order_by("position")],
    }


def safety_report_id(forwarding: CaseForwarding) -> str:
    """C.1.1: country, sender, case number; the same for every version of the case."""
    facts = forwarding.facts
    return f"{facts['country']}-{settings.SOJOURN_E2B_SENDER}-{facts['number']}"


def message_number(forwarding: CaseForwarding) -> str:
    """N.2.r.1: one per version, which an acknowledgement names."""
    return f"{safety_report_id(forwarding)}-V{forwarding.version}"


REPORTERS = {"consumer": Qualification.CONSUMER, "physician": Qualification.PHYSICIAN}
CORRECTIONS = {"amendment": NullificationKind.AMENDMENT, "nullification": NullificationKind.NULLIFICATION}


def icsr_case(forwarding: CaseForwarding, narrative: str | None) -> IcsrCase:
    """The ICSR of one forwarded version, from its facts. Built twice, it is the same file."""
    facts = forwarding.facts
    correction = facts.get("correction")
    reactions = tuple(
        Reaction(verbatim=r["verbatim"], language=r["language"], outcome=Outcome(r["outcome"]),
                 meddra_code=r["meddra_code"] or None, meddra_version=r["meddra_version"] or None,
                 onset=date.fromisoformat(r["onset"]) if r["onset"] else None,
                 seriousness=frozenset(CRITERIA[c] for c in r["seriousness"]), country=facts["country"])
        for r in facts["reactions"])
    relatedness = tuple(Relatedness(reaction=i, result=CAUSALITY[r["causality"]], source="Primary source reporter",
                                    method="Global introspection")
                        for i, r in enumerate(facts["reactions"]))
    report_id = safety_report_id(forwarding)
    serious_unexpected = facts["serious"] and facts["expectedness"] != "expected"
    return IcsrCase(
        sender_id=settings.SOJOURN_E2B_SENDER, receiver_id=facts["sponsor_id"], batch_receiver_id=facts["sponsor_id"],
        batch_number=f"{message_number(forwarding)}-B", message_number=message_number(forwarding),
        created_at=forwarding.forwarded_at, safety_report_id=report_id, worldwide_unique_id=report_id,
        # A support program solicits what it hears: ICH E2D counts it as "other", not spontaneous.
        report_type=ReportType.OTHER,
        first_received=date.fromisoformat(facts["day_zero"]),
        most_recent_info=date.fromisoformat(facts["most_recent"]),
        # The patient told the program (in a call, a message, a form), or a doctor did.
        primary_source=Reporter(qualification=REPORTERS[facts.get("reporter", "consumer")], country=facts["country"]),
        sender=Sender(type=SenderType.PHARMACEUTICAL_COMPANY, organisation=facts["sponsor"][:100]),
        patient=Patient(initials=NullFlavor.MSK,
                        age=Age(facts["patient_age"]) if facts.get("patient_age") is not None else None,
                        sex=Sex(facts["patient_sex"]) if facts.get("patient_sex") else None),
        reactions=reactions,
        drugs=(Drug(role=DrugRole.SUSPECT, name=facts["suspect_product"], relatedness=relatedness),),
        narrative=narrative if narrative is not None else ERASED_NARRATIVE,
        nullification=Nullification(CORRECTIONS[correction["kind"]], correction["reason"]) if correction else None,
        expedited=serious_unexpected,
        first_sender=FirstSender.OTHER,
    )


def file_name(forwarding: CaseForwarding, fmt: str) -> str:
    return f"{forwarding.facts['number']}-v{forwarding.version}.{'xml' if fmt == 'e2b' else fmt}"
