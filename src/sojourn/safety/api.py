"""API: drug safety. Anyone who may report (nurses, safety officers) sends an intake; the safety officer
reads the queue, an intake (with the patient's words, audited) and a case, and decides, assesses,
forwards or nullifies; every role that sees the program gets the counts per market, never a case."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.queries import access_program
from sojourn.people.queries import access_patient
from sojourn.safety.models import Case, CaseForwarding, Intake
from sojourn.safety.queries import (
    access_case,
    access_follow_up,
    access_intake,
    cases_of_patient,
    clock_state,
    safety_counts,
    safety_queue,
    screening_queue,
)
from sojourn.safety.services import (
    ReactionIn,
    assess_case,
    clear_screenings,
    close_follow_up,
    decide_intake,
    export_versions,
    forward_case,
    mark_duplicate,
    nullify_case,
    raise_intake,
    read_intake_words,
    read_narrative,
    read_screening_words,
    record_intake,
    request_follow_up,
)

router = Router(tags=["drug safety"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class QueueQuery(Schema):
    market: str = Field("", max_length=2, description="A country code; empty: every market the caller manages")


class QueueItemOut(Schema):
    kind: Literal["intake", "case"] = Field(description="intake: awaiting a decision; case: awaiting forwarding")
    reference: str = Field(description="The intake's id or the case's number")
    market: str
    patient: str | None = Field(description="The patient's pseudonym; null when a doctor reported")
    doctor: str | None = Field(description="The reporting doctor's pseudonym, for a doctor's report")
    what: str = Field(description="The intake's source or the case's kind")
    day_zero: datetime
    due_at: datetime
    state: Literal["on_time", "due_soon", "overdue"]
    serious: bool | None
    version: int


class CountsOut(Schema):
    market: str
    open: int
    overdue: int
    due_soon: int


class IntakeIn(Schema):
    patient: str = Field(max_length=40, description="The patient's pseudonym")
    reason: str = Field(min_length=1, max_length=300, description="What was noticed (not the patient's words)")
    day_zero: datetime = Field(description="When the program first received it; the clock starts here")
    words: str = Field("", max_length=4000, description="The patient's own words, sealed with their key")
    idempotency_key: str = Field("", max_length=80, description="The same key twice is one intake")


class IntakeOut(Schema):
    id: int
    patient: str | None = Field(description="The patient's pseudonym; null when a doctor reported")
    doctor: str | None = Field(description="The reporting doctor's pseudonym, for a doctor's report")
    market: str
    source: str
    reason: str
    detail: dict[str, Any]
    day_zero: datetime
    due_at: datetime
    status: Literal["open", "case", "not_ae", "duplicate"]
    case: str | None
    decision_reason: str
    decided_at: datetime | None


class IntakeReadOut(IntakeOut):
    words: str | None = Field(description="The patient's words; null when there are none or they were erased")


class DecisionIn(Schema):
    kind: Literal["adverse_event", "special_situation", "product_complaint", "duplicate", "not_ae"]
    reason: str = Field("", max_length=500, description="Required for not_ae")
    follow_up_of: str = Field("", max_length=30, description="A case number of the same patient this adds to; "
                                                             "for duplicate, the case that holds the same report")


class ReactionOut(Schema):
    verbatim: str
    language: str = Field(description="ISO 639-2")
    meddra_code: str
    meddra_version: str
    onset: date | None
    outcome: str
    seriousness: list[str]
    causality: str


class ForwardingOut(Schema):
    version: int
    due_at: datetime
    forwarded_at: datetime
    on_time: bool
    correction: Literal["", "amendment", "nullification"] = Field(
        description="E2B C.1.11: a correction of what was sent, or the notice that the case is void; empty: a "
                    "first report or a follow-up")
    ack: Literal["", "accepted", "rejected"] = Field(description="Drug safety's acknowledgement; empty: none yet")
    ack_details: list[str]


class FollowUpOut(Schema):
    id: int
    channel: Literal["call", "portal", "doctor"]
    question: str
    asked_at: datetime
    due_at: datetime
    status: Literal["open", "answered", "cancelled", "unanswered"]
    closed_reason: str = Field(description="Why it was closed unanswered (lost to follow-up)")
    answered_at: datetime | None
    intake: int | None = Field(description="The intake holding the patient's answer")


class FollowUpIn(Schema):
    question: str = Field(min_length=1, max_length=180, description="What drug safety needs to know")
    channel: Literal["call", "portal", "doctor"] = Field(
        "call", description="call: a nurse calls the patient; portal: asked on the patient's page (an approved "
                            "notice by email or text tells them); doctor: asked on the reporting doctor's page")
    due_at: datetime = Field(description="When the answer is due (within 30 days)")


class CaseOut(Schema):
    number: str
    market: str
    patient: str | None = Field(description="The patient's pseudonym; null when a doctor reported")
    doctor: str | None = Field(description="The reporting doctor's pseudonym, for a doctor's report")
    patient_age: int | None = Field(description="For a doctor's report: the age the doctor gave (E2B D.2.2)")
    patient_sex: Literal["", "1", "2"] = Field(description="For a doctor's report: E2B D.5, 1 male, 2 female")
    kind: str
    version: int
    status: Literal["open", "forwarded", "nullified"]
    day_zero: datetime
    forward_due_at: datetime
    forwarded_at: datetime | None
    forwarded_on_time: bool | None
    serious: bool | None
    authority_due_at: datetime | None
    nullified_reason: str
    amendment_reason: str = Field(description="Set while the next version is a correction drug safety has not had")
    intakes: list[int]
    suspect_product: str = Field(description="As the reporter named it (E2B G.k.2.2); empty until assessed")
    expectedness: Literal["", "expected", "unexpected", "unknown"]
    assessed_at: datetime | None
    reactions: list[ReactionOut]
    forwardings: list[ForwardingOut] = Field(description="Each version as drug safety received it")
    follow_ups: list[FollowUpOut] = Field(description="Questions a nurse asks the patient for drug safety")


class CaseReadOut(CaseOut):
    narrative: str | None = Field(description="The narrative; null before the assessment or after an erasure")


Criterion = Literal["death", "life_threatening", "hospitalisation", "disabling", "congenital_anomaly",
                    "other_medically_important"]
OutcomeName = Literal["unknown", "recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal"]
CausalityName = Literal["related", "not_related", "unknown"]


class EventIn(Schema):
    verbatim: str = Field(min_length=1, max_length=250, description="The event as the reporter described it")
    meddra_code: str = Field("", pattern=r"^(\d{8})?$", description="A code of the program's term list, or empty")
    onset: date | None = Field(None, description="The day it started, in the patient's calendar")
    outcome: OutcomeName = "unknown"
    seriousness: list[Criterion] = Field([], max_length=6, description="ICH E2A criteria met; none: not serious")
    causality: CausalityName = Field("unknown", description="The reporter's opinion")


class AssessmentIn(Schema):
    reactions: list[EventIn] = Field(min_length=1, max_length=20)
    suspect_product: str = Field(min_length=1, max_length=250)
    expectedness: Literal["expected", "unexpected", "unknown"]
    narrative: str = Field(min_length=1, max_length=20000)
    reason: str = Field("", max_length=300, description="Why a forwarded assessment is corrected: required then, "
                                                         "and drug safety receives the next version as an amendment")


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


def _intake(intake: Intake) -> dict[str, Any]:
    return {"id": intake.pk, "patient": intake.patient.pseudonym if intake.patient else None,
            "doctor": intake.hcp.pseudonym if intake.hcp else None, "market": intake.market.country,
            "source": intake.source, "reason": intake.reason, "detail": intake.detail, "day_zero": intake.day_zero,
            "due_at": intake.due_at, "status": intake.status, "case": intake.case.number if intake.case else None,
            "decision_reason": intake.decision_reason, "decided_at": intake.decided_at}


def _case(case: Case) -> dict[str, Any]:
    return {"number": case.number, "market": case.market.country,
            "patient": case.patient.pseudonym if case.patient else None,
            "doctor": case.hcp.pseudonym if case.hcp else None, "patient_age": case.patient_age,
            "patient_sex": case.patient_sex,
            "kind": case.kind, "version": case.version, "status": case.status, "day_zero": case.day_zero,
            "forward_due_at": case.forward_due_at, "forwarded_at": case.forwarded_at,
            "forwarded_on_time": case.forwarded_at <= case.forward_due_at if case.forwarded_at else None,
            "serious": case.serious, "authority_due_at": case.authority_due_at,
            "nullified_reason": case.nullified_reason, "amendment_reason": case.amendment_reason,
            "intakes": list(case.intakes.order_by("pk").values_list("pk", flat=True)),
            "suspect_product": case.suspect_product, "expectedness": case.expectedness,
            "assessed_at": case.assessed_at,
            "reactions": [{"verbatim": r.verbatim, "language": r.language, "meddra_code": r.meddra_code,
                           "meddra_version": r.meddra_version, "onset": r.onset, "outcome": r.get_outcome_display(),
                           "seriousness": r.seriousness, "causality": r.causality} for r in case.reactions.all()],
            "forwardings": [{"version": f.version, "due_at": f.due_at, "forwarded_at": f.forwarded_at,
                             "on_time": f.on_time, "correction": f.correction, "ack": f.ack,
                             "ack_details": f.ack_details}
                            for f in case.forwardings.order_by("version")],
            "follow_ups": [{"id": f.pk, "channel": f.channel, "question": f.question, "asked_at": f.asked_at,
                            "due_at": f.due_at,
                            "status": f.status, "closed_reason": f.closed_reason, "answered_at": f.answered_at,
                            "intake": f.intake_id}
                           for f in case.follow_ups.order_by("asked_at", "pk")]}


@router.get("/programs/{slug}/safety/queue", response=list[QueueItemOut],
            summary="Open intakes and cases not yet forwarded, soonest deadline first (safety officers)")
def queue(request: HttpRequest, slug: str, query: Query[QueueQuery]) -> Any:
    actor, now = _actor(request), timezone.now()
    program = access_program(actor, slug, Permission.SAFETY_MANAGE)
    return [{**item.__dict__, "state": item.state(now), "patient": None if item.by_doctor else item.patient,
             "doctor": item.patient if item.by_doctor else None}
            for item in safety_queue(actor, program, market=query.market.upper() or None)]


class ScreeningOut(Schema):
    id: int
    market: str
    patient: str
    source: str
    received_at: datetime = Field(description="When the program received it: day zero, should it hold an AE")
    due_at: datetime
    state: Literal["on_time", "due_soon", "overdue"]
    words: str | None = Field(description="The message (the reading is audited); null after an erasure")


class ScreenedIn(Schema):
    clear: list[int] = Field([], max_length=500, description="Messages read with no adverse event in them")
    raise_intake: list[int] = Field([], max_length=50, description="Messages that may hold one: each an intake")


class ScreenedOut(Schema):
    cleared: int
    intakes: list[int]


@router.get("/programs/{slug}/safety/screening", response=list[ScreeningOut],
            summary="Free-text messages the term lists did not flag, for a person to read, soonest due first")
def screening(request: HttpRequest, slug: str, query: Query[QueueQuery]) -> Any:
    actor, now = _actor(request), timezone.now()
    program = access_program(actor, slug, Permission.SAFETY_MANAGE)
    return [{"id": s.pk, "market": s.market.country, "patient": s.patient.pseudonym, "source": s.source,
             "received_at": s.received_at, "due_at": s.due_at, "state": clock_state(s.due_at, now),
             "words": read_screening_words(actor=actor, screening=s)}
            for s in screening_queue(actor, program, market=query.market.upper() or None)[:200]]


@router.post("/programs/{slug}/safety/screening", response=ScreenedOut,
             summary="Record what a person read: no adverse event (cleared, the words dropped) or an intake")
def screened(request: HttpRequest, slug: str, payload: ScreenedIn) -> Any:
    actor, now = _actor(request), timezone.now()
    program = access_program(actor, slug, Permission.SAFETY_MANAGE)
    waiting = {s.pk: s for s in screening_queue(actor, program)}
    unknown = [i for i in [*payload.clear, *payload.raise_intake] if i not in waiting]
    if unknown:
        raise InvalidInput(_("Message %(id)d is not waiting to be screened.") % {"id": unknown[0]},
                           field="clear" if unknown[0] in payload.clear else "raise_intake")
    if set(payload.clear) & set(payload.raise_intake):
        raise InvalidInput(_("A message is either cleared or raised, not both."), field="raise_intake")
    with transaction.atomic():
        cleared = clear_screenings(actor=actor, screenings=[waiting[i] for i in payload.clear], at=now)
        raised = [raise_intake(actor=actor, screening=waiting[i], at=now).pk for i in payload.raise_intake]
    return {"cleared": cleared, "intakes": raised}


@router.get("/programs/{slug}/safety/counts", response=list[CountsOut],
            summary="Per market: open, overdue and due-soon counts, for every role that sees the program")
def counts(request: HttpRequest, slug: str) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    return [{"market": market, "open": c["open"], "overdue": c["overdue"], "due_soon": c["due_soon"]}
            for market, c in sorted(safety_counts(actor, program, timezone.now()).items())]


@router.post("/programs/{slug}/safety/intakes", response={201: IntakeOut},
             summary="Report a possible adverse event (nurses, safety officers); the clock runs from day_zero")
def new_intake(request: HttpRequest, slug: str, payload: IntakeIn) -> Any:
    actor, now = _actor(request), timezone.now()
    program = access_program(actor, slug, Permission.SAFETY_REPORT)
    patient = access_patient(actor, payload.patient, Permission.SAFETY_REPORT)
    if patient.program_id != program.pk:
        raise NotFound()
    if not payload.reason.strip():
        raise InvalidInput(_("Say what was noticed."), field="reason")
    if payload.day_zero.tzinfo is None:
        raise InvalidInput(_("Give day zero with its time zone."), field="day_zero")
    if payload.day_zero > now:
        raise InvalidInput(_("Day zero cannot be in the future."), field="day_zero")
    key = payload.idempotency_key or uuid.uuid4().hex
    intake = record_intake(actor=actor, patient=patient, source="api", reason=payload.reason.strip(), detail={},
                           idempotency_key=f"api:{actor.label}:{key}", day_zero=payload.day_zero, at=now,
                           words=payload.words.strip())
    return Status(201, _intake(intake))


@router.get("/safety/intakes/{intake_id}", response=IntakeReadOut,
            summary="One intake with the patient's words (the reading is audited; safety officers)")
def read_intake(request: HttpRequest, intake_id: int) -> Any:
    actor = _actor(request)
    intake = access_intake(actor, intake_id)
    words = read_intake_words(actor=actor, intake=intake) if intake.words_sealed else None
    return {**_intake(intake), "words": words}


@router.post("/safety/intakes/{intake_id}/decision", response=IntakeOut,
             summary="Decide an intake: a new case, a follow-up of a case, or not an adverse event (with why)")
def decision(request: HttpRequest, intake_id: int, payload: DecisionIn) -> Any:
    actor = _actor(request)
    intake = access_intake(actor, intake_id)
    follow_up = None
    if payload.follow_up_of:
        follow_up = next((c for c in cases_of_patient(intake) if c.number == payload.follow_up_of), None)
        if follow_up is None:
            raise InvalidInput(_("This patient has no case %(number)s.") % {"number": payload.follow_up_of},
                               field="follow_up_of")
    if payload.kind == "duplicate":
        if follow_up is None:
            raise InvalidInput(_("Choose the case this report repeats."), field="follow_up_of")
        return _intake(mark_duplicate(actor=actor, intake=intake, case=follow_up, reason=payload.reason,
                                      at=timezone.now()))
    decided = decide_intake(actor=actor, intake=intake, kind=None if payload.kind == "not_ae" else payload.kind,
                            reason=payload.reason, at=timezone.now(), follow_up_of=follow_up)
    return _intake(decided)


@router.get("/safety/cases/{number}", response=CaseReadOut,
            summary="One case with its narrative (the reading is audited; safety officers)")
def read_case(request: HttpRequest, number: str) -> Any:
    actor = _actor(request)
    case = access_case(actor, number)
    return {**_case(case), "narrative": read_narrative(actor=actor, case=case)}


@router.post("/safety/cases/{number}/assessment", response=CaseOut,
             summary="The assessment: events (term, onset, outcome, seriousness, causality), suspect product, "
                     "expectedness, narrative; seriousness starts the authority clock from day zero")
def assessment(request: HttpRequest, number: str, payload: AssessmentIn) -> Any:
    actor = _actor(request)
    reactions = [ReactionIn(verbatim=r.verbatim, meddra_code=r.meddra_code, onset=r.onset, outcome=r.outcome,
                            seriousness=tuple(r.seriousness), causality=r.causality) for r in payload.reactions]
    return _case(assess_case(actor=actor, case=access_case(actor, number), reactions=reactions,
                             suspect_product=payload.suspect_product, expectedness=payload.expectedness,
                             narrative=payload.narrative, at=timezone.now(), reason=payload.reason))


@router.get("/safety/cases/{number}/versions/{version}/e2b", response={200: None},
            summary="A forwarded version as an E2B(R3) ICSR (XML), checked before it leaves (audited)",
            openapi_extra={"responses": {200: {"content": {"application/xml": {}},
                                               "description": "The ICSR batch (MCCI_IN200100UV01)"}}})
def e2b(request: HttpRequest, number: str, version: int) -> Any:
    actor = _actor(request)
    case = access_case(actor, number)
    if not CaseForwarding.objects.filter(case=case, version=version).exists():
        raise NotFound()
    [(name, content)] = export_versions(actor=actor, program=case.program, fmt="e2b", numbers=[case.number],
                                        version=version, at=timezone.now())
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.post("/safety/cases/{number}/follow-ups", response={201: CaseOut},
             summary="Ask for a follow-up by the due time: a nurse's call, the patient's page or the doctor's")
def follow_up(request: HttpRequest, number: str, payload: FollowUpIn) -> Any:
    actor = _actor(request)
    if payload.due_at.tzinfo is None:
        raise InvalidInput(_("Give the due time with its time zone."), field="due_at")
    case = access_case(actor, number)
    request_follow_up(actor=actor, case=case, question=payload.question, due_at=payload.due_at, at=timezone.now(),
                      channel=payload.channel)
    return Status(201, _case(case))


@router.post("/safety/follow-ups/{follow_up_id}/closing", response=CaseOut,
             summary="Close a follow-up question unanswered (lost to follow-up), with the reason; its call or "
                     "notice not yet made is withdrawn")
def close_question(request: HttpRequest, follow_up_id: int, payload: ReasonIn) -> Any:
    actor = _actor(request)
    follow_up = access_follow_up(actor, follow_up_id)
    close_follow_up(actor=actor, follow_up=follow_up, reason=payload.reason, at=timezone.now())
    return _case(follow_up.case)


@router.post("/safety/cases/{number}/forwarding", response=CaseOut,
             summary="Drug safety has the case (on time or late, as the clock says)")
def forwarding(request: HttpRequest, number: str) -> Any:
    actor = _actor(request)
    return _case(forward_case(actor=actor, case=access_case(actor, number), at=timezone.now()))


@router.post("/safety/cases/{number}/nullification", response=CaseOut,
             summary="A case opened in error: kept, with the reason; if drug safety has a version, the "
                     "nullification is sent as the next one")
def nullification(request: HttpRequest, number: str, payload: ReasonIn) -> Any:
    actor = _actor(request)
    return _case(nullify_case(actor=actor, case=access_case(actor, number), reason=payload.reason,
                              at=timezone.now()))
