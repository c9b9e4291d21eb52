from __future__ import annotations

import re
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from sojourn.core.models import Market, ProgramMarket
from sojourn.core.pack_template import market_pack_template
from sojourn.core.packs import (
    PLACEHOLDER,
    AdverseEvents,
    AuthorityDays,
    CrisisHelp,
    DataRetention,
    MarketPack,
    ProfessionalId,
    Regulatory,
    read_pack_text,
)
from sojourn.core.tests.factories import PORTUGAL, fill_in_template


def new_pack(country: str) -> str:
    out = StringIO()
    call_command("market", "new", country, stdout=out)
    return out.getvalue()


def test_a_new_market_is_prefilled_from_maintained_data():
    pack = yaml.safe_load(new_pack("pt"))  # the code in either case
    assert pack["country"] == "PT" and pack["name"] == "Portugal"
    assert pack["locales"] == ["pt-PT"] and pack["default_locale"] == "pt-PT"
    assert pack["time_zones"][0] == "Europe/Lisbon" and set(pack["time_zones"]) == {
        "Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"}
    assert pack["regulatory"]["adverse_events"]["deadline_business_days"] == 1  # the holiday calendar knows PT
    belgium = yaml.safe_load(new_pack("BE"))
    assert belgium["locales"] == ["nl-BE", "fr-BE", "de-BE"] and belgium["time_zones"] == ["Europe/Brussels"]
    assert yaml.safe_load(new_pack("FR"))["professional_id"] == {"label": "RPPS", "scheme": "rpps"}


def test_every_field_of_the_template_is_explained():
    lines = new_pack("PT").splitlines()
    models = (MarketPack, Regulatory, AdverseEvents, AuthorityDays, DataRetention, CrisisHelp, ProfessionalId)
    for key in {name for model in models for name in model.model_fields}:
        # Optional fields are shown commented out, as what to write: that line explains itself.
        number = next((n for n, line in enumerate(lines) if re.match(rf"\s*(#\s*)?{key}:", line)
                       or re.search(rf"[{{ ]{key}:", line)), None)
        assert number is not None, f"{key} is not in the template"
        line, above = lines[number], lines[number - 1].strip()
        assert "#" in line or above.startswith("#") or PLACEHOLDER in line, f"{key} is not explained: {line}"


def test_the_template_never_validates_until_a_person_fills_it_in():
    reading = read_pack_text(new_pack("PT"), "pt.yaml")
    assert not reading.ok
    placeholders = {p.field: p for p in reading.problems if PLACEHOLDER in p.message}
    assert set(placeholders) == set(PORTUGAL)
    forward = placeholders["regulatory.adverse_events.forward_to"]
    assert forward.line and "write the real value" in forward.message
    # A placeholder is the one problem of its field: not also a wrong type or a bad email.
    assert len([p for p in reading.problems if p.field == "regulatory.minimum_age"]) == 1


@pytest.mark.django_db
def test_a_filled_in_template_validates_and_activates(program, tmp_path: Path):
    path = tmp_path / "pt.yaml"
    path.write_text(fill_in_template(new_pack("PT"), PORTUGAL), encoding="utf-8")
    out = StringIO()
    call_command("market", "validate", str(path), stdout=out)
    assert f"{path}: ok (PT" in out.getvalue()
    call_command("market", "activate", str(path), "--program", program.slug, stdout=out)
    assert "PT: updated; now open in psoriasis" in out.getvalue()
    market = Market.objects.get(country="PT")
    assert market.locales == ["pt-PT"] and market.minimum_age == 13
    assert market.pack["professional_id"]["pattern"] == "^[0-9]{5,6}$"
    assert ProgramMarket.objects.filter(program=program, market=market).exists()
    # A patient enrolls there with consent in the pack's language, with no code change for Portugal.
    from sojourn.consent.tests.factories import enroll

    enrollment = enroll(program, "PT", email="ana@example.pt", birth_date=date(1980, 5, 2))
    patient = enrollment.subject
    assert (patient.market.country, patient.locale, enrollment.record.status) == ("PT", "pt-PT", "active")
    assert patient.time_zone in market.time_zones


def test_output_writes_a_new_file_and_never_overwrites_one(tmp_path: Path):
    path = tmp_path / "be.yaml"
    call_command("market", "new", "BE", "--output", str(path), stdout=StringIO())
    assert path.read_text(encoding="utf-8") == new_pack("BE")
    path.write_text("mine", encoding="utf-8")
    with pytest.raises(CommandError, match="exists"):
        call_command("market", "new", "BE", "--output", str(path), stdout=StringIO())
    assert path.read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(("code", "why"), [
    ("XX", "not an ISO 3166-1 country code"), ("EU", "not an ISO 3166-1 country code"),
    ("P1", "not a country code"), ("PRT", "not a country code"), ("", "not a country code"),
])
def test_an_unknown_or_malformed_country_is_refused(code, why):
    with pytest.raises(CommandError, match=why):
        call_command("market", "new", code, stdout=StringIO())


def test_a_country_without_a_built_in_scheme_asks_for_a_pattern():
    text = market_pack_template("BE")
    assert "No built-in scheme is for this country yet" in text
    assert yaml.safe_load(text)["professional_id"]["pattern"].startswith(PLACEHOLDER)
