"""API: a program's definition, exported, checked, drafted and moved through review (four eyes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import ProgramMarket
from sojourn.core.permissions import Permission
from sojourn.core.queries import access_program
from sojourn.core.review_api import CommentIn, ReviewedVersionOut, reviewed
from sojourn.programs import services
from sojourn.programs.activation import go_live, readiness
from sojourn.programs.definition import read_definition_text
from sojourn.programs.models import DefinitionVersion
from sojourn.programs.services import WORKFLOW

router = Router(tags=["programs"])
MAX_TEXT = 200_000  # as a market pack; the request guard bounds bodies at 2.5 MB


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class DefinitionIn(Schema):
    text: str = Field(max_length=MAX_TEXT, description="The definition as YAML (docs/programs.md)")


class DefinitionOut(Schema):
    program: str
    version: int | None = Field(description="The approved version the program follows, if any")
    text: str = Field(description="What the program is now, as a definition (YAML)")


class ProblemOut(Schema):
    field: str
    line: int | None
    message: str


class CheckOut(Schema):
    ok: bool
    problems: list[ProblemOut]
    changes: list[str] = Field(description="What applying it would change, one line each: + added, - removed, "
                                           "~ changed")


class DraftOut(ReviewedVersionOut):
    changes: list[str]


class VersionOut(ReviewedVersionOut):
    author_id: int | None
    reviewer_id: int | None
    review_comment: str


@router.get("/programs/{slug}/definition", response=DefinitionOut, summary="The program as a definition (YAML)")
def definition_yaml(request: HttpRequest, slug: str) -> Any:
    program = access_program(_actor(request), slug)
    current = services.current_version(program)
    return {"program": program.slug, "version": current.number if current else None,
            "text": services.export_yaml(program)}


@router.post("/programs/{slug}/definition/check", response=CheckOut,
             summary="Check a definition and say what it would change; writes nothing")
def check(request: HttpRequest, slug: str, payload: DefinitionIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    reading = read_definition_text(payload.text)
    if not reading.ok or reading.document is None:
        return {"ok": False, "changes": [],
                "problems": [{"field": p.field, "line": p.line, "message": p.message} for p in reading.problems]}
    try:
        services.check_against(program, reading.document)
    except InvalidInput as refused:
        return {"ok": False, "changes": services.diff(program, reading.document),
                "problems": [{"field": d.field or "", "line": None, "message": d.message} for d in refused.details]}
    return {"ok": True, "problems": [], "changes": services.diff(program, reading.document)}


@router.get("/programs/{slug}/definitions", response=list[VersionOut],
            summary="The definition's versions, newest first")
def versions(request: HttpRequest, slug: str) -> Any:
    program = access_program(_actor(request), slug)
    return [{**reviewed(WORKFLOW, v), "author_id": v.author_id, "reviewer_id": v.reviewer_id,
             "review_comment": v.review_comment} for v in DefinitionVersion.objects.filter(program=program)]


@router.post("/programs/{slug}/definitions", response={201: DraftOut},
             summary="Save the draft definition (one per program; saving again replaces it)")
def draft(request: HttpRequest, slug: str, payload: DefinitionIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    version = services.save_draft(actor=actor, program=program, text=payload.text)
    return Status(201, {**reviewed(WORKFLOW, version),
                        "changes": services.differences(services.export_document(program), version.document)})


@router.post("/program-definitions/{version_id}/submission", response=ReviewedVersionOut,
             summary="Submit a draft definition for review (checked again)")
def submission(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, services.submit(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/program-definitions/{version_id}/approval", response=ReviewedVersionOut,
             summary="Approve a definition in review (not by its author): it is applied to the program")
def approval(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, services.approve(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/program-definitions/{version_id}/return", response=ReviewedVersionOut,
             summary="Return a definition in review to its author with a comment")
def send_back(request: HttpRequest, version_id: int, payload: CommentIn) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, services.return_to_draft(actor=actor, version=WORKFLOW.access(actor, version_id),
                                                       comment=payload.comment))


class CheckItemOut(Schema):
    code: str = Field(description="patient_consent, hcp_consent, content, nurses, safety, print_house, sms_sender, "
                                  "quiet_hours")
    label: str
    ok: bool
    missing: list[str]
    note: str


class MarketReadinessOut(Schema):
    country: str
    live_at: datetime | None = Field(description="When the market went live in the program; null: in set-up")
    checks: list[CheckItemOut]


def _readiness(link: ProgramMarket) -> dict[str, Any]:
    return {"country": link.market.country, "live_at": link.live_at,
            "checks": [{"code": c.code, "label": c.label, "ok": c.ok, "missing": c.missing, "note": c.note}
                       for c in readiness(link.program, link.market)]}


@router.get("/programs/{slug}/markets/readiness", response=list[MarketReadinessOut],
            summary="Each market's go-live checklist: what is in place and what is missing")
def market_readiness(request: HttpRequest, slug: str) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    return [_readiness(link) for link in program.program_markets.select_related("program", "market")
            .order_by("market__country")]


@router.post("/programs/{slug}/markets/{country}/go-live", response=MarketReadinessOut,
             summary="Take a market live once its checklist is complete (422 naming each open check otherwise)")
def market_go_live(request: HttpRequest, slug: str, country: str) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    return _readiness(go_live(actor=actor, program=program, country=country.upper()))
