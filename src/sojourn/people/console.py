"""The console's current program and market, kept in the session and checked against the actor."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from sojourn.core.models import Market, Program
from sojourn.core.queries import markets_for, programs_for

SESSION_PROGRAM = "console_program"
SESSION_MARKET = "console_market"


@dataclass(frozen=True)
class ConsoleScope:
    programs: list[Program]
    program: Program | None
    markets: list[Market]
    market: Market | None  # None: every market the actor may see


def console_scope(request: HttpRequest) -> ConsoleScope:
    actor = request.actor  # type: ignore[attr-defined]
    programs = list(programs_for(actor))
    wanted = request.session.get(SESSION_PROGRAM)
    # Until they switch, staff work in the platform's first program among theirs (the switcher
    # lists them by name): a program added later does not move everyone's console.
    first = min(programs, key=lambda p: p.pk) if programs else None
    program = next((p for p in programs if p.slug == wanted), first)
    markets = list(markets_for(actor, program)) if program else []
    wanted_market = request.session.get(SESSION_MARKET)
    market = next((m for m in markets if m.country == wanted_market), None)
    return ConsoleScope(programs, program, markets, market)


def choose_scope(request: HttpRequest, program_slug: str, market: str) -> ConsoleScope:
    """Remember the program and market a staff member switched to, if they may see them."""
    request.session[SESSION_PROGRAM] = program_slug
    request.session[SESSION_MARKET] = market
    scope = console_scope(request)
    request.session[SESSION_PROGRAM] = scope.program.slug if scope.program else ""
    request.session[SESSION_MARKET] = scope.market.country if scope.market else ""
    return scope
