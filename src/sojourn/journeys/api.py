"""API: journeys (the atlas, one journey exported whole, a new version) and personas. Reading needs
program.view; writing needs journeys.edit. Verdicts live at /hypotheses (insights/api.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.models import Program
from sojourn.core.queries import access_program
from sojourn.journeys import queries
from sojourn.journeys.models import Journey, Persona
from sojourn.journeys.services import (
    create_journey,
    link_journeys,
    save_journey_version,
    save_persona,
    set_journey_status,
)

router = Router(tags=["journeys"])
Kind = Literal["patient", "caregiver", "hcp"]


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class JourneyIn(Schema):
    code: str = Field(max_length=60)
    title: str = Field(max_length=200)
    kind: Kind
    persona: str | None = Field(default=None, description="A persona's code")
    markets: list[str] = Field(default_factory=list, max_length=20, description="Empty: every market")


class JourneySummary(Schema):
    code: str
    title: str
    kind: str
    status: str
    markets: list[str]
    persona: str | None
    versions: int
    created_at: datetime


class VersionIn(Schema):
    map: dict[str, Any] = Field(description="stages: code, name, program_stage, emotion, touchpoints, pain_points, "
                                            "opportunities (docs/journeys.md)")
    basis: Literal["hypothesis", "evidence"]
    note: str = Field(default="", max_length=2000)
    evidence: list[int] = Field(default_factory=list, max_length=50, description="Hypothesis ids")


class VersionOut(Schema):
    number: int
    basis: str
    note: str
    created_at: datetime


class PersonaIn(Schema):
    kind: Kind
    name: str = Field(max_length=120)
    summary: str = Field(default="", max_length=500)
    goals: list[str] = Field(default_factory=list, max_length=20)
    needs: dict[str, float] = Field(default_factory=dict, description="Need code → weight 0–1 (patient personas)")
    frustrations: list[str] = Field(default_factory=list, max_length=20)
    health_literacy: Literal["low", "medium", "high"] = "medium"
    support: str = Field(default="", max_length=300)
    digital_habits: str = Field(default="", max_length=300)


class PersonaOut(PersonaIn):
    code: str


class AtlasQuery(Schema):
    market: str = ""
    persona: str = ""
    status: Literal["", "draft", "in_use", "archived"] = ""
    kind: Literal["", "patient", "caregiver", "hcp"] = ""


def _summary(journey: Journey) -> dict[str, Any]:
    return {"code": journey.code, "title": journey.title, "kind": journey.kind, "status": journey.status,
            "markets": journey.markets, "persona": journey.persona.code if journey.persona else None,
            "versions": len(journey.versions.all()), "created_at": journey.created_at}


def _journey(program: Program, code: str) -> Journey:
    journey = Journey.objects.filter(program=program, code=code).select_related("program", "persona").first()
    if journey is None:
        raise NotFound()
    return journey


@router.get("/programs/{slug}/journeys", response=list[JourneySummary], summary="The atlas: the program's journeys")
def list_journeys(request: HttpRequest, slug: str, query: Query[AtlasQuery]) -> Any:
    program = access_program(_actor(request), slug)
    return [_summary(j) for j in queries.atlas(program, market=query.market, persona=query.persona,
                                               status=query.status, kind=query.kind)]


@router.post("/programs/{slug}/journeys", response={201: JourneySummary},
             summary="A new journey, its first version the template of its kind")
def new_journey(request: HttpRequest, slug: str, payload: JourneyIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    persona = None
    if payload.persona:
        persona = Persona.objects.filter(program=program, code=payload.persona).first()
        if persona is None:
            raise InvalidInput(_("The program has no persona %(code)s.") % {"code": payload.persona}, field="persona")
    journey = create_journey(actor=actor, program=program, code=payload.code, title=payload.title,
                             kind=payload.kind, persona=persona, markets=payload.markets)
    return Status(201, _summary(journey))


@router.get("/programs/{slug}/journeys/{code}", response=dict[str, Any],
            summary="One journey exported whole: persona, every version with its evidence, links")
def export_journey(request: HttpRequest, slug: str, code: str) -> Any:
    program = access_program(_actor(request), slug)
    return queries.journey_export(_journey(program, code))


@router.post("/programs/{slug}/journeys/{code}/versions", response={201: VersionOut},
             summary="Save the next version of a journey's map")
def new_version(request: HttpRequest, slug: str, code: str, payload: VersionIn) -> Any:
    actor = _actor(request)
    journey = _journey(access_program(actor, slug), code)
    version = save_journey_version(actor=actor, journey=journey, document=payload.map, basis=payload.basis,
                                   note=payload.note, evidence=payload.evidence)
    return Status(201, version)


class LinkIn(Schema):
    target: str = Field(max_length=60, description="The linked journey's code")
    relation: str = Field(max_length=120, description="e.g. 'cared for by', 'prescribed by'")


class StatusIn(Schema):
    status: Literal["draft", "in_use", "archived"]


@router.post("/programs/{slug}/journeys/{code}/links", response={201: dict[str, str]},
             summary="Link this journey to another in the atlas")
def link(request: HttpRequest, slug: str, code: str, payload: LinkIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    made = link_journeys(actor=actor, source=_journey(program, code), target=_journey(program, payload.target),
                         relation=payload.relation)
    return Status(201, {"source": made.source.code, "target": made.target.code, "relation": made.relation})


@router.put("/programs/{slug}/journeys/{code}/status", response=JourneySummary, summary="Draft, in use or archived")
def status(request: HttpRequest, slug: str, code: str, payload: StatusIn) -> Any:
    actor = _actor(request)
    journey = set_journey_status(actor=actor, journey=_journey(access_program(actor, slug), code),
                                 status=payload.status)
    return _summary(journey)


@router.get("/programs/{slug}/personas", response=list[PersonaOut], summary="The program's personas")
def list_personas(request: HttpRequest, slug: str) -> Any:
    return Persona.objects.filter(program=access_program(_actor(request), slug))


@router.put("/programs/{slug}/personas/{code}", response=PersonaOut, summary="Create or change a persona")
def put_persona(request: HttpRequest, slug: str, code: str, payload: PersonaIn) -> Any:
    actor = _actor(request)
    return save_persona(actor=actor, program=access_program(actor, slug), code=code, **payload.dict())
