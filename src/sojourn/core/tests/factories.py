"""Test data made through the product's own services."""

from __future__ import annotations

from sojourn.core.actors import Actor, Grant
from sojourn.core.models import Program
from sojourn.core.packs import PACK_DIR, read_pack_file
from sojourn.core.permissions import Role
from sojourn.core.services.markets import activate_market
from sojourn.core.services.programs import create_program, create_sponsor

SYSTEM = Actor.system("tests")


def make_program(slug: str = "psoriasis", markets: tuple[str, ...] = ("DE", "GB", "JP", "US", "CA")) -> Program:
    sponsor = create_sponsor(actor=SYSTEM, slug=f"{slug}-sponsor", name=f"{slug.title()} Sponsor")
    program = create_program(actor=SYSTEM, sponsor=sponsor, slug=slug, name=f"{slug.title()} companion",
                             indication="Plaque psoriasis")
    for country in markets:
        activate_market(actor=SYSTEM, reading=read_pack_file(PACK_DIR / f"{country.lower()}.yaml"), program=program)
    return program


def actor_with(role: Role, program: Program, markets: tuple[str, ...] | None = None, label: str = "") -> Actor:
    """An actor holding one role, without a user account (for service-level permission tests)."""
    grant = Grant(program_id=program.pk, role=role, markets=frozenset(markets) if markets is not None else None)
    return Actor(kind="staff", label=label or f"{role.value}@{','.join(markets or ('*',))}", user_id=None,
                 grants=(grant,))
