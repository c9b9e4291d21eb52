"""A professional enrolls in a market whatever identifier its pack names: a built-in scheme with its
check digit, or the pack's own pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from sojourn.core.errors import InvalidInput
from sojourn.core.pack_template import market_pack_template
from sojourn.core.packs import read_pack_file, read_pack_text
from sojourn.core.services.markets import activate_market
from sojourn.core.tests.factories import PORTUGAL, SYSTEM, fill_in_template
from sojourn.people.services.hcps import HcpIdentity, read_hcp_field, register_hcp

FRANCE = Path(__file__).resolve().parents[4] / "docs" / "market-packs" / "fr.yaml"


def register(program, market: str, professional_id: str, locale: str, zone: str):
    email = f"dr.{professional_id.replace(' ', '')}@clinica.example"
    identity = HcpIdentity(given_name="Inês", family_name="Almeida", email=email, professional_id=professional_id)
    return register_hcp(actor=SYSTEM, program=program, market=market, identity=identity,
                        specialty="dermatology", locale=locale, time_zone=zone)


@pytest.fixture
def portugal(program):
    """Portugal, opened from `sojourn market new PT` filled in: a market no code of Sojourn names."""
    reading = read_pack_text(fill_in_template(market_pack_template("PT"), PORTUGAL), "pt.yaml")
    assert reading.ok, [str(p) for p in reading.problems]
    return activate_market(actor=SYSTEM, reading=reading, program=program).market


def test_a_professional_enrolls_with_the_identifier_the_new_markets_pattern_describes(program, portugal):
    hcp = register(program, "PT", "123 456", "pt-PT", "Atlantic/Azores")
    assert hcp.market == portugal and read_hcp_field(hcp, "professional_id") == "123456"


def test_an_identifier_off_the_pattern_is_refused_with_the_example(program, portugal):
    with pytest.raises(InvalidInput) as refused:
        register(program, "PT", "1234", "pt-PT", "Europe/Lisbon")
    detail = refused.value.details[0]
    assert detail.field == "professional_id"
    assert detail.message == "Cédula profissional: This is not in the expected form, for example 54321."


def test_a_french_professional_enrolls_with_an_rpps_number_and_a_typo_is_caught(program):
    activate_market(actor=SYSTEM, reading=read_pack_file(FRANCE), program=program)
    with pytest.raises(InvalidInput) as refused:
        register(program, "FR", "10003123452", "fr-FR", "Europe/Paris")
    assert refused.value.details[0].message == "RPPS: This RPPS number's check digit is wrong."
    hcp = register(program, "FR", "100 0312 3451", "fr-FR", "Europe/Paris")
    assert read_hcp_field(hcp, "professional_id") == "10003123451"
