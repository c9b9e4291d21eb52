"""API: drug safety. Anyone who may report (nurses, safety officers) sends an intake; the safety officer
reads the queue, an intake (with the patient's words, audited) and a case, and decides, assesses,
forwards or nullifies; every role that sees the program gets the counts per market, never a case."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.queries import access_program
from sojourn.people.queries import access_patient
from sojourn.safety.models import Case, Intake
from sojourn.safety.queries import access_case, access_intake, cases_of_patient, safety_counts, safety_queue
from sojourn.safety.services import (
    assess_seriousness,
    decide_intake,
    forward_case,
    nullify_case,
    read_intake_words,
    record_intake,
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
    patient: str = Field(description="The patient's pseudonym")
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
    patient: str
    market: str
    source: str
    reason: str
    detail: dict[str, Any]
    day_zero: datetime
    due_at: datetime
    status: Literal["open", "case", "not_ae"]
    case: str | None
    decision_reason: str
    decided_at: datetime | None


class IntakeReadOut(IntakeOut):
    words: str | None = Field(description="The patient's words; null when there are none or they were erased")


class DecisionIn(Schema):
    kind: Literal["adverse_event", "special_situation", "product_complaint", "not_ae"]
    reason: str = Field("", max_length=500, description="Required for not_ae")
    follow_up_of: str = Field("", max_length=30, description="A case number of the same patient this adds to")


class CaseOut(Schema):
    number: str
    market: str
    patient: str
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
    intakes: list[int]


class AssessmentIn(Schema):
    serious: bool


class NullificationIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


def _intake(intake: Intake) -> dict[str, Any]:
    return {"id": intake.pk, "patient": intake.patient.pseudonym, "market": intake.patient.market.country,
            "source": intake.source, "reason": intake.reason, "detail": intake.detail, "day_zero": intake.day_zero,
            "due_at": intake.due_at, "status": intake.status, "case": intake.case.number if intake.case else None,
            "decision_reason": intake.decision_reason, "decided_at": intake.decided_at}


def _case(case: Case) -> dict[str, Any]:
    return {"number": case.number, "market": case.market.country, "patient": case.patient.pseudonym,
            "kind": case.kind, "version": case.version, "status": case.status, "day_zero": case.day_zero,
            "forward_due_at": case.forward_due_at, "forwarded_at": case.forwarded_at,
            "forwarded_on_time": case.forwarded_at <= case.forward_due_at if case.forwarded_at else None,
            "serious": case.serious, "authority_due_at": case.authority_due_at,
            "nullified_reason": case.nullified_reason,
            "intakes": list(case.intakes.order_by("pk").values_list("pk", flat=True))}


@router.get("/programs/{slug}/safety/queue", response=list[QueueItemOut],
            summary="Open intakes and cases not yet forwarded, soonest deadline first (safety officers)")
def queue(request: HttpRequest, slug: str, query: Query[QueueQuery]) -> Any:
    actor, now = _actor(request), timezone.now()
    program = access_program(actor, slug, Permission.SAFETY_MANAGE)
    return [{**item.__dict__, "state": item.state(now)}
            for item in safety_queue(actor, program, market=query.market.upper() or None)]


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
    decided = decide_intake(actor=actor, intake=intake, kind=None if payload.kind == "not_ae" else payload.kind,
                            reason=payload.reason, at=timezone.now(), follow_up_of=follow_up)
    return _intake(decided)


@router.get("/safety/cases/{number}", response=CaseOut, summary="One case (safety officers)")
def read_case(request: HttpRequest, number: str) -> Any:
    return _case(access_case(_actor(request), number))


@router.post("/safety/cases/{number}/assessment", response=CaseOut,
             summary="Record whether the case is serious: the authority clock starts from day zero")
def assessment(request: HttpRequest, number: str, payload: AssessmentIn) -> Any:
    actor = _actor(request)
    return _case(assess_seriousness(actor=actor, case=access_case(actor, number), serious=payload.serious,
                                    at=timezone.now()))


@router.post("/safety/cases/{number}/forwarding", response=CaseOut,
             summary="Drug safety has the case (on time or late, as the clock says)")
def forwarding(request: HttpRequest, number: str) -> Any:
    actor = _actor(request)
    return _case(forward_case(actor=actor, case=access_case(actor, number), at=timezone.now()))


@router.post("/safety/cases/{number}/nullification", response=CaseOut,
             summary="A case opened in error: kept, with the reason")
def nullification(request: HttpRequest, number: str, payload: NullificationIn) -> Any:
    actor = _actor(request)
    return _case(nullify_case(actor=actor, case=access_case(actor, number), reason=payload.reason,
                              at=timezone.now()))
