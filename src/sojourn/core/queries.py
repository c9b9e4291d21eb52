"""Reads of programs and markets, scoped to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.db.models import QuerySet

from sojourn.core.actors import Actor
from sojourn.core.db import as_json, json_part, select_rows
from sojourn.core.errors import NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission


def programs_for(actor: Actor) -> QuerySet[Program]:
    programs = Program.objects.select_related("sponsor").order_by("name")
    ids = actor.program_ids(Permission.PROGRAM_VIEW)
    return programs if ids is None else programs.filter(pk__in=ids)


def access_program(actor: Actor, slug: str, permission: Permission = Permission.PROGRAM_VIEW) -> Program:
    """Return the program if the actor holds the permission in it; missing and forbidden look alike."""
    program = Program.objects.select_related("sponsor").filter(slug=slug).first()
    if program is None or actor.markets_in(permission, program.pk) == frozenset():
        raise NotFound()
    return program


def markets_for(actor: Actor, program: Program, permission: Permission = Permission.PROGRAM_VIEW) -> QuerySet[Market]:
    markets = Market.objects.filter(program_markets__program=program).order_by("country")
    allowed = actor.markets_in(permission, program.pk)
    return markets if allowed is None else markets.filter(country__in=allowed)


@dataclass(frozen=True)
class MarketFacts:
    """What contacting a patient needs to know of their market."""

    pk: int
    country: str
    channels: list[str]
    quiet_hours: tuple[time, time]


def market_facts() -> dict[int, MarketFacts]:
    """Every market by id, in one plain query (read by each batch of events and deliveries)."""
    out = {}
    # Only the quiet hours of the pack: decoding each whole pack cost more than the query, every batch.
    for pk, country, channels, quiet in select_rows(
            f"SELECT id, country, channels, {json_part('pack', 'regulatory', 'quiet_hours')} "
            f"FROM {Market._meta.db_table}"):
        quiet = as_json(quiet)
        out[pk] = MarketFacts(pk, country, list(as_json(channels)),
                              (time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"])))
    return out
