"""Activate a market from its pack: all or nothing, and a no-op when nothing changed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import Market, Program, ProgramMarket
from sojourn.core.packs import PackReading, pack_json, read_pack_text
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit


class InvalidMarketPack(InvalidInput):
    code = "invalid_market_pack"


@dataclass(frozen=True)
class Activation:
    market: Market
    pack_changed: bool
    program_linked: bool


def check_market_pack(*, actor: Actor, text: str) -> PackReading:
    """Read a pack sent over the network for someone who may activate markets; writes nothing.

    Parsing a pack costs the server work that its author chooses, so only those who could act on the
    answer may ask (a nurse never activates a market).
    """
    if not actor.is_privileged and not actor.program_ids(Permission.MARKET_ACTIVATE):
        raise AccessDenied()
    return read_pack_text(text, path="<request>")


def activate_market(*, actor: Actor, reading: PackReading, program: Program | None = None) -> Activation:
    """Create or update a market from a validated pack and, if given, open it in a program."""
    if program is not None:
        actor.require(Permission.MARKET_ACTIVATE, program.pk)
    elif not actor.is_privileged:
        raise AccessDenied()
    if not reading.ok or reading.pack is None:
        raise InvalidMarketPack(
            f"{reading.path} has {len(reading.problems)} problem(s); nothing was activated.",
            details=[p.as_detail() for p in reading.problems],
        )
    with transaction.atomic(durable=True):
        return open_market(actor=actor, reading=reading, program=program)


def open_market(*, actor: Actor, reading: PackReading, program: Program | None) -> Activation:
    """What activate_market writes, inside the caller's transaction (a program definition's apply
    opens its markets with the rest of it); the caller has checked the actor and the pack."""
    pack = reading.pack
    if pack is None:
        raise ValueError("open_market takes a valid pack reading")
    now = timezone.now()
    market = Market.objects.select_for_update().filter(country=pack.country).first()
    before = None
    pack_changed = market is None or market.pack_sha256 != reading.sha256
    if market is None:
        market = Market(country=pack.country, activated_at=now)
    else:
        before = {"pack_sha256": market.pack_sha256}
    if pack_changed:
        market.name = pack.name
        market.default_locale = pack.default_locale
        market.locales = list(pack.locales)
        market.time_zones = list(pack.time_zones)
        market.minimum_age = pack.regulatory.minimum_age
        market.channels = list(pack.channels)
        market.pack = pack_json(pack)
        market.pack_sha256 = reading.sha256
        market.updated_at = now
        market.save()
        record_audit(actor=actor, action="market.pack_applied", subject_type="market",
                     subject_id=market.country, market=market.country, before=before,
                     after={"pack_sha256": reading.sha256, "source": reading.path})
    linked = False
    if program is not None:
        _, linked = ProgramMarket.objects.get_or_create(
            program=program, market=market, defaults={"activated_at": now}
        )
        if linked:
            record_audit(actor=actor, action="market.activated", subject_type="program_market",
                         subject_id=f"{program.slug}/{market.country}", program_id=program.pk,
                         market=market.country)
    return Activation(market=market, pack_changed=pack_changed, program_linked=linked)
