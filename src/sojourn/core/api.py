"""API for programs, markets and market packs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from sojourn.core.actors import Actor
from sojourn.core.errors import NotFound
from sojourn.core.models import Market, Program
from sojourn.core.queries import access_program, markets_for, programs_for
from sojourn.core.services.markets import check_market_pack

router = Router(tags=["programs and markets"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class MarketOut(Schema):
    country: str
    name: str
    default_locale: str
    locales: list[str]
    time_zones: list[str]
    minimum_age: int
    channels: list[str]
    pack_sha256: str


class MarketDetailOut(MarketOut):
    pack: dict[str, Any]


class ProgramOut(Schema):
    slug: str
    name: str
    indication: str
    status: str
    sponsor: str

    @staticmethod
    def resolve_sponsor(program: Program) -> str:
        return program.sponsor.name


class ProgramDetailOut(ProgramOut):
    markets: list[MarketOut]

    @staticmethod
    def resolve_markets(program: Program, context: dict[str, Any]) -> list[Market]:
        return list(markets_for(context["request"].actor, program))


class PackText(Schema):
    text: str = Field(max_length=200_000, description="The market pack's YAML text")


class PackProblemOut(Schema):
    line: int | None
    field: str
    message: str


class PackValidationOut(Schema):
    ok: bool
    sha256: str
    problems: list[PackProblemOut]


@router.get("/programs", response=list[ProgramOut], summary="Programs you may see")
def list_programs(request: HttpRequest) -> Any:
    return list(programs_for(_actor(request)))


@router.get("/programs/{slug}", response=ProgramDetailOut, summary="One program with the markets you may see")
def get_program(request: HttpRequest, slug: str) -> Any:
    return access_program(_actor(request), slug)


@router.get("/markets/{country}", response=MarketDetailOut, summary="A market and its regulatory profile")
def get_market(request: HttpRequest, country: str) -> Any:
    actor = _actor(request)
    market = Market.objects.filter(country=country.upper()).first()
    # A market is visible to whoever may see a program that runs in it.
    visible = market is not None and any(
        markets_for(actor, p).filter(pk=market.pk).exists() for p in programs_for(actor)
    )
    if not visible:
        raise NotFound()
    return market


@router.post("/market-packs/validate", response=PackValidationOut,
             summary="Check a market pack and report every problem; writes nothing (roles that activate markets)")
def validate_market_pack(request: HttpRequest, payload: PackText) -> Any:
    reading = check_market_pack(actor=_actor(request), text=payload.text)
    return {"ok": reading.ok, "sha256": reading.sha256,
            "problems": [{"line": p.line, "field": p.field, "message": p.message} for p in reading.problems]}
