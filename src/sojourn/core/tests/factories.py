"""Test data made through the product's own services."""

from __future__ import annotations

import re
from typing import Any

import yaml

from sojourn.core.actors import Actor, Grant
from sojourn.core.models import Program
from sojourn.core.packs import PACK_DIR, PLACEHOLDER, read_pack_file, read_pack_text
from sojourn.core.permissions import Role
from sojourn.core.services.markets import activate_market
from sojourn.core.services.programs import create_program, create_sponsor

SYSTEM = Actor.system("tests")

# What a person finishing Portugal's template writes: a country no code of Sojourn names.
PORTUGAL = {
    "sms_sender": "Companheiro",
    "professional_id.label": "Cédula profissional",
    "professional_id.pattern": "^[0-9]{5,6}$",
    "professional_id.example": "54321",
    "crisis_help.emergency": "112",
    "crisis_help.line.name": "SNS 24",
    "crisis_help.line.phone": "808 24 24 24",
    "crisis_help.line.hours": "24/7",
    "regulatory.privacy_law": "GDPR",
    "regulatory.minimum_age": 13,
    "regulatory.sms_keywords.pt-PT.stop[1]": "PARAR",
    "regulatory.sms_keywords.pt-PT.start[0]": "INICIAR",
    "regulatory.sms_keywords.pt-PT.help[0]": "AJUDA",
    "regulatory.adverse_events.forward_to": "drug-safety-pt@sponsor.example",
    "regulatory.data_retention.patient_record_years": 10,
    "regulatory.data_retention.audit_log_years": 10,
}


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


def fill_in_template(text: str, answers: dict[str, Any]) -> str:
    """Answer a `sojourn market new` template's placeholders, by the field each is reported at
    (`regulatory.sms_keywords.pt-PT.stop[1]`), as the person finishing it would; every placeholder the
    validator names must have an answer."""
    reported = {p.field for p in read_pack_text(text).problems if PLACEHOLDER in p.message}
    assert reported == set(answers), f"unanswered: {reported - set(answers)}; not asked: {set(answers) - reported}"
    data = yaml.safe_load(text)
    for field, value in answers.items():
        *parents, last = [int(part) if part.isdigit() else part
                          for part in re.findall(r"[^.\[\]]+", field)]
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
