from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sojourn.core.errors import InvalidInput
from sojourn.core.models import AuditEntry, Market, ProgramMarket
from sojourn.core.packs import PACK_DIR, read_pack_file, read_pack_text, shipped_pack_paths
from sojourn.core.services.markets import activate_market
from sojourn.core.tests.factories import SYSTEM

BROKEN_PACK = """\
pack_format: 1
country: DE
name: Germany
locales: [de-DE, xx]
default_locale: fr-FR
time_zones: [Asia/Tokyo]
channels: [web, sms, fax]
regulatory:
  privacy_law: GDPR
  minimum_age: 16
  quiet_hours: {start: 20:00, end: "08:00"}
  consent_purposes:
    required: [contact_email]
    optional: [contact_email]
  sms_keywords:
    de-DE: {stop: [STOP], start: [STOP], help: [HILFE]}
  adverse_events:
    forward_to: not-an-address
    deadline_hours: 24
  data_retention:
    patient_record_years: 10
    audit_log_years: 10
    erasure_deadline_days: 30
  colour: blue
"""


def problems_by_field(text: str) -> dict[str, tuple[int | None, str]]:
    reading = read_pack_text(text, "de.yaml")
    assert not reading.ok
    return {p.field: (p.line, p.message) for p in reading.problems}


def test_every_shipped_pack_is_valid():
    countries = set()
    for path in shipped_pack_paths():
        reading = read_pack_file(path)
        assert reading.ok, [str(p) for p in reading.problems]
        countries.add(reading.pack.country)
        # Where a patient who answers that they think of self-harm is told to turn, in every market.
        assert reading.pack.crisis_help and reading.pack.crisis_help.emergency, path
    assert countries == {"DE", "US", "GB", "JP", "CA"}


def test_a_crisis_line_is_a_phone_number():
    text = (PACK_DIR / "gb.yaml").read_text().replace('phone: "116 123"', 'phone: "call the Samaritans"')
    found = problems_by_field(text)
    assert "crisis_help.line.phone" in found and found["crisis_help.line.phone"][0] is not None


def test_it_reports_every_structural_problem_with_its_line():
    found = problems_by_field(BROKEN_PACK)
    assert found["locales[1]"][0] == 4 and "not a locale" in found["locales[1]"][1]
    assert found["channels[2]"][0] == 7
    # An unquoted 20:00 is a YAML 1.1 number, not a time: the author must hear so.
    assert found["regulatory.quiet_hours.start"][0] == 11
    assert found["regulatory.adverse_events.forward_to"][0] == 18
    assert "not an email" in found["regulatory.adverse_events.forward_to"][1]
    assert found["regulatory.colour"] == (24, "is not a field of a market pack")
    assert "regulatory.consent_purposes" not in found  # valid types, checked semantically later


def test_it_reports_every_semantic_problem_once_types_are_right():
    text = (PACK_DIR / "de.yaml").read_text(encoding="utf-8")
    text = text.replace("time_zones: [Europe/Berlin]", "time_zones: [Asia/Tokyo]")
    text = text.replace("default_locale: de-DE", "default_locale: de-AT")
    text = text.replace("required: [program_participation]", "required: [contact_email]")
    text = text.replace("start: [START, ANMELDEN]", "start: [START, STOP]")
    found = problems_by_field(text)
    assert "Asia/Tokyo is not a time zone of DE" in found["time_zones[0]"][1]
    assert found["time_zones[0]"][0] == 7
    assert "not one of the pack's locales" in found["default_locale"][1]
    assert "must include program_participation" in found["regulatory.consent_purposes.required"][1]
    assert "contact_email is listed as both" in found["regulatory.consent_purposes.optional"][1]
    assert "STOP is both a stop and a start keyword" in found["regulatory.sms_keywords.de-DE.start"][1]


def test_it_reports_duplicate_keys_and_syntax_errors_by_line():
    text = (PACK_DIR / "gb.yaml").read_text(encoding="utf-8") + "country: FR\n"
    reading = read_pack_text(text, "gb.yaml")
    assert any(p.field == "country" and "appears twice" in p.message for p in reading.problems)
    broken = read_pack_text("country: DE\nlocales: [de-DE\n", "x.yaml")
    assert not broken.ok and broken.problems[0].line == 3 and "not valid YAML" in broken.problems[0].message


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path):
    reading = read_pack_file(tmp_path / "nope.yaml")
    assert not reading.ok and reading.problems[0].message == "no such file"


def test_activation_of_an_invalid_pack_writes_nothing(program):
    markets, links, audit = Market.objects.count(), ProgramMarket.objects.count(), AuditEntry.objects.count()
    reading = read_pack_text(BROKEN_PACK.replace("country: DE", "country: FR"), "fr.yaml")
    with pytest.raises(InvalidInput) as refused:
        activate_market(actor=SYSTEM, reading=reading, program=program)
    assert len(refused.value.details) >= 5
    after = (Market.objects.count(), ProgramMarket.objects.count(), AuditEntry.objects.count())
    assert after == (markets, links, audit)


def test_activation_is_idempotent_and_audits_changes(program):
    path = PACK_DIR / "de.yaml"
    before = AuditEntry.objects.count()
    again = activate_market(actor=SYSTEM, reading=read_pack_file(path), program=program)
    assert not again.pack_changed and not again.program_linked
    assert AuditEntry.objects.count() == before

    changed = path.read_text(encoding="utf-8").replace("minimum_age: 16", "minimum_age: 18")
    result = activate_market(actor=SYSTEM, reading=read_pack_text(changed, "de.yaml"), program=program)
    assert result.pack_changed
    assert Market.objects.get(country="DE").minimum_age == 18
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == "market.pack_applied" and entry.before["pack_sha256"] != entry.after["pack_sha256"]


def test_cli_validate_lists_problems_and_fails(tmp_path: Path):
    bad = tmp_path / "fr.yaml"
    bad.write_text(BROKEN_PACK, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("market", "validate", str(bad), str(PACK_DIR / "de.yaml"), stderr=err, stdout=StringIO())
    assert f"{bad}:4: locales[1]:" in err.getvalue()


@pytest.mark.django_db
def test_cli_activate_opens_markets_in_a_program(program, tmp_path: Path):
    from sojourn.core.tests.factories import make_program

    fresh = make_program("fresh", markets=())
    out = StringIO()
    call_command("market", "activate", str(PACK_DIR / "jp.yaml"), "--program", "fresh", stdout=out)
    assert "JP: unchanged; now open in fresh" in out.getvalue()
    assert ProgramMarket.objects.filter(program=fresh, market__country="JP").exists()


FRANCE = Path(__file__).resolve().parents[4] / "docs" / "market-packs" / "fr.yaml"


def test_the_france_pack_validates_with_rpps_and_its_crisis_lines():
    reading = read_pack_file(FRANCE)
    assert reading.ok, [str(p) for p in reading.problems]
    pack = reading.pack
    assert pack.professional_id.scheme == "rpps" and pack.regulatory.privacy_law == "GDPR"
    assert pack.regulatory.minimum_age == 15  # loi Informatique et Libertés, art. 45
    assert pack.crisis_help.emergency == "112" and pack.crisis_help.line.phone == "3114"
    assert {"STOP", "ARRET"} <= set(pack.regulatory.sms_keywords["fr-FR"].stop)


def with_professional_id(rule: str) -> str:
    text = (PACK_DIR / "de.yaml").read_text(encoding="utf-8")
    return text.replace("professional_id: {label: LANR, scheme: lanr}", f"professional_id: {rule}")


def test_a_pack_may_declare_its_own_identifier_pattern():
    reading = read_pack_text(with_professional_id(
        '{label: Colegiado, pattern: "^[0-9]{9}$", example: "28 28 12345"}'), "de.yaml")
    assert reading.ok, [str(p) for p in reading.problems]
    assert reading.pack.professional_id.pattern == "^[0-9]{9}$"


@pytest.mark.parametrize(("rule", "field", "message"), [
    ("{label: RPPS, scheme: rpps-fr}", "professional_id.scheme", "'rpps-fr' is not a built-in scheme (one of: adeli,"),
    ('{label: Colegiado, pattern: "[0-9", example: "1"}', "professional_id.pattern", "is not a regular expression"),
    ('{label: Colegiado, pattern: "(\\\\d+)+$", example: "1"}', "professional_id.pattern", "repeats a group"),
    ('{label: Colegiado, pattern: "^[0-9]{9}$"}', "professional_id", "a pattern needs an example"),
    ('{label: Colegiado, pattern: "^[0-9]{9}$", example: "2828123"}', "professional_id.example",
     "2828123 does not match the pattern"),
    ('{label: LANR, scheme: lanr, example: "123456701"}', "professional_id.example", "check digit is wrong"),
    ('{label: LANR, scheme: lanr, pattern: "[0-9]{9}", example: "123456601"}', "professional_id", "one of them"),
    ("{label: LANR}", "professional_id", "one of them"),
])
def test_an_unknown_scheme_or_a_bad_pattern_is_reported_with_its_line(rule, field, message):
    found = problems_by_field(with_professional_id(rule))
    assert found[field][0] == 10 and message in found[field][1], found


def test_the_emergency_number_is_one_of_the_country():
    text = (PACK_DIR / "de.yaml").read_text(encoding="utf-8").replace('emergency: "112"', 'emergency: "911"')
    found = problems_by_field(text)
    assert found["crisis_help.emergency"] == (14, "911 is not an emergency number of DE in libphonenumber's data "
                                                  "(110, 112)")


def test_business_days_need_a_holiday_calendar_that_knows_the_country(monkeypatch):
    import holidays

    def unknown(country: str, **kwargs):
        raise NotImplementedError(country)

    # No country with clocks lacks a calendar in holidays today: stand in for one that would.
    monkeypatch.setattr(holidays, "country_holidays", unknown)
    text = (PACK_DIR / "de.yaml").read_text(encoding="utf-8")
    found = problems_by_field(text)
    refused = found["regulatory.adverse_events.deadline_business_days"]
    assert refused[0] == 32 and "does not know DE; give deadline_hours instead" in refused[1]
    hours = text.replace("deadline_business_days: 1", "deadline_hours: 24")
    assert read_pack_text(hours, "de.yaml").ok  # a clock in hours never asks the calendar


def test_a_grouping_of_countries_is_not_a_market():
    text = (PACK_DIR / "de.yaml").read_text(encoding="utf-8").replace("country: DE", "country: EU")
    assert "'EU' is not an ISO 3166 country code" in problems_by_field(text)["country"][1]
