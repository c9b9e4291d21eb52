"""A new market's pack, written for a person to finish: `sojourn market new PT`.

What maintained data knows is filled in (the country's name and official languages from CLDR through
Babel, its time zones from the system's tz database, its built-in identifier scheme, whether the
holiday calendar knows it, its emergency numbers from libphonenumber as a hint); what only a person
can know (the drug safety mailbox, the crisis line, the age the law sets, the words for STOP) is a
`<FILL IN …>` placeholder, which `sojourn market validate` refuses by name until it is replaced. Every
field carries a comment saying what it means, so the file is its own form.
"""

from __future__ import annotations

import json
import re
import textwrap
import zoneinfo
from importlib import resources
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from sojourn.core.errors import InvalidInput
from sojourn.core.packs import (
    PLACEHOLDER,
    emergency_numbers,
    holiday_calendar_knows,
    holiday_subdivisions,
    is_country,
)
from sojourn.core.professional_ids import SCHEMES, schemes_for


def _q(value: str) -> str:
    """Quote a YAML scalar (JSON's string syntax is YAML's double-quoted style)."""
    return json.dumps(value, ensure_ascii=False)


def fill_in(what: str) -> str:
    return _q(f"{PLACEHOLDER}: {what}>")


def country_time_zones(country: str) -> list[str]:
    """List the country's IANA zones, most populous first where the system's zone.tab says so (its rows
    are ordered that way), among those CLDR gives the country (what pack validation accepts)."""
    known = [zone for zone in get_global("territory_zones").get(country, ())
             if zone in zoneinfo.available_timezones()]
    table = _zone_table()
    if table is None:
        return known
    rows = [line.split("\t") for line in table.splitlines() if line and not line.startswith("#")]
    ordered = [row[2] for row in rows if len(row) > 2 and row[0] == country and row[2] in known]
    return ordered + [zone for zone in known if zone not in ordered]


def _zone_table() -> str | None:
    """Read zone.tab where zoneinfo reads its zones: the system's tz database, else the tzdata package."""
    for directory in zoneinfo.TZPATH:
        table = Path(directory) / "zone.tab"
        if table.is_file():
            return table.read_text(encoding="utf-8")
    try:
        return (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return None


def official_locales(country: str) -> list[str]:
    """List tags of the country's official languages (CLDR; de facto official where none is official, as
    in the United States), most spoken first, that Babel has locale data for."""
    languages = get_global("territory_languages").get(country, {})

    def tags(statuses: set[str]) -> list[str]:
        chosen = sorted(((info.get("population_percent", 0), code) for code, info in languages.items()
                         if info.get("official_status") in statuses and "_" not in code), reverse=True)
        found = []
        for _share, code in chosen:
            try:
                Locale.parse(f"{code}_{country}")
            except (ValueError, UnknownLocaleError):
                continue
            found.append(f"{code}-{country}")
        return found

    return tags({"official"}) or tags({"de_facto_official"})


def _language_name(tag: str) -> str:
    return Locale("en").languages.get(tag.split("-")[0], tag)


def market_pack_template(country: str) -> str:
    """Write the text of a new market's pack for the country; refuse what is not a country code."""
    code = country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise InvalidInput(f"{country!r} is not a country code: give two letters (ISO 3166-1 alpha-2), such as PT")
    if not is_country(code):
        raise InvalidInput(f"{code} is not an ISO 3166-1 country code that CLDR knows (such as PT or BE)")
    name = Locale("en").territories[code]
    locales = official_locales(code)
    zones = country_time_zones(code)
    schemes = schemes_for(code)
    emergency = ', '.join(emergency_numbers(code))
    knows_holidays = holiday_calendar_knows(code)
    lines = [
        f"# Market pack: {name}. Written by `sojourn market new {code}`: finish it, then run",
        f"# `sojourn market validate {code.lower()}.yaml` until it reports no problem, and",
        f"# `sojourn market activate {code.lower()}.yaml --program SLUG`. Every {PLACEHOLDER} …> is",
        "# refused until a person writes the real value; the rest was derived from maintained data",
        "# (CLDR through Babel, the tz database, libphonenumber, holidays): check it all the same.",
        "# docs/market-packs.md explains every field.",
        "",
        "pack_format: 1                 # the format of this file; always 1",
        f"country: {code}                    # ISO 3166-1 alpha-2",
        f"name: {_q(name)}" + "  # how staff see the market named (English, CLDR)",
        "",
        "# The languages the program speaks here, as BCP 47 tags of this country (CLDR's official",
        "# languages). Keep those you will have consent texts and content in; each needs SMS keywords.",
    ]
    if locales:
        lines.append(f"locales: [{', '.join(locales)}]")
        lines.append(f"default_locale: {locales[0]}          # one of the locales: used when a person's is unknown")
    else:
        lines.append(f"locales: [{fill_in(f'the tags of the languages spoken, such as xx-{code}')}]")
        lines.append(f"default_locale: {fill_in('one of the locales')}")
    lines += [
        "",
        "# The IANA time zones people of this market live in; the first is the market's clock for the",
        "# safety deadlines. Keep those where you will have patients.",
    ]
    if zones:
        lines.append("time_zones:")
        lines += [f"  - {zone}" for zone in zones]
    else:
        lines.append(f"time_zones: [{fill_in('IANA time zones, such as Europe/Lisbon')}]")
    lines += [
        "",
        "# The ways the program may reach people; each contact channel needs its consent purpose below.",
        "channels: [web, email, sms, print, phone]",
        "# The sender name or short code text messages come from (at most 15 characters); needed with sms.",
        f"sms_sender: {fill_in('the registered sender name or short code')}",
        "",
        "# How the market's healthcare professionals are identified when they enroll, one of two ways:",
        "# a built-in scheme, checked with its check digit where the issuer publishes one",
        "#   professional_id: {label: RPPS, scheme: rpps}",
        *textwrap.wrap(f"(built-in: {', '.join(sorted(SCHEMES))}), or your own pattern and an example",
                       width=98, initial_indent="# ", subsequent_indent="# "),
        "#   professional_id: {label: Colegiado, pattern: \"^[0-9]{9}$\", example: \"282812345\"}",
        "# A pattern is a regular expression the whole identifier must match, compared without spaces",
        "# and hyphens, in capitals; the example must match it and is shown to whoever types it wrong.",
    ]
    if schemes:
        first = schemes[0]
        lines.append(f"# The built-in schemes of {name}:")
        for scheme in schemes:
            lines.append(f"#   {scheme.name}: {scheme.rule}")
        lines.append(f"professional_id: {{label: {_q(first.label)}, scheme: {first.name}}}")
    else:
        lines.append("# No built-in scheme is for this country yet: give the identifier's label, pattern and example.")
        lines.append("professional_id:")
        lines.append(f"  label: {fill_in('what professionals call their number')}")
        lines.append(f"  pattern: {fill_in('a regular expression, such as ^[0-9]{9}$')}")
        lines.append(f"  example: {fill_in('an identifier that matches the pattern')}")
    hint = f" (libphonenumber knows {emergency})" if emergency else ""
    lines += [
        "",
        "# Told at once to a patient who answers that they think of self-harm (PHQ-9 item 9). Check the",
        "# numbers with the local team before launch; they change.",
        "crisis_help:",
        f"  emergency: {fill_in('the emergency number' + hint)}",
        "  # A crisis or suicide prevention line, optional: delete the line entry if there is none.",
        "  line:",
        f"    name: {fill_in('the line name, as people know it')}",
        f"    phone: {fill_in('its number, digits and spaces')}",
        f"    hours: {fill_in('when it answers, such as 24/7')}",
        "",
        "# What the market's law and the sponsor's agreements require.",
        "regulatory:",
        "  # The data protection law the program answers to: GDPR, UK-GDPR, HIPAA, APPI, PIPEDA, LGPD or other.",
        f"  privacy_law: {fill_in('GDPR, UK-GDPR, HIPAA, APPI, PIPEDA, LGPD or other')}",
        "  # Below this age a guardian consents for the patient (under the GDPR, Art. 8 lets each member",
        "  # state set 13 to 16 for information-society services).",
        f"  minimum_age: {fill_in('the age, a whole number')}",
        "  # No calls or messages between start and end, in the person's time zone; quote the times.",
        "  quiet_hours: {start: \"20:00\", end: \"08:00\"}",
        "  # What patients consent to; program_participation is always required. Each contact channel",
        "  # needs its purpose (email: contact_email, sms: contact_sms, print: contact_post, phone: contact_phone).",
        "  consent_purposes:",
        "    required: [program_participation]",
        "    optional: [contact_email, contact_sms, contact_phone, contact_post, nurse_calls, research_use, "
        "share_with_hcp]",
        "  # The words a patient texts to stop, restart or get help, per locale (one word each, at most 20",
        "  # characters; matched without case). Carriers may impose some (STOP is common).",
        "  sms_keywords:",
    ]
    for tag in locales or ["<locale>"]:
        if tag.startswith("en-"):
            lines += [f"    {tag}:", "      stop: [STOP, UNSUBSCRIBE, END]", "      start: [START]",
                      "      help: [HELP, INFO]"]
            continue
        language = _language_name(tag) if locales else "the language"
        key = tag if locales else fill_in("a locale")
        lines += [
            f"    {key}:",
            f"      stop: [STOP, {fill_in(f'the word for stop in {language}')}]",
            f"      start: [{fill_in(f'the word for start in {language}')}]",
            f"      help: [{fill_in(f'the word for help in {language}')}]",
        ]
    lines += [
        "  # Possible adverse events, from any channel: where they go and by when (docs/safety.md).",
        "  adverse_events:",
        "    # The drug safety mailbox every possible adverse event is forwarded to.",
        f"    forward_to: {fill_in('the drug safety mailbox for this market')}",
        "    # The forward deadline agreed with drug safety, from day zero, one of:",
        "    #   deadline_business_days: N   (the market's weekends and public holidays do not count)",
        "    #   deadline_hours: N",
    ]
    if knows_holidays:
        lines.append("    deadline_business_days: 1")
        subdivisions = sorted(holiday_subdivisions(code))
        if subdivisions:
            lines.append("    # Holidays of one region only (a code the holiday calendar knows):")
            lines += textwrap.wrap(f"holiday_subdivision: one of {', '.join(subdivisions)}", width=98,
                                   initial_indent="    #   ", subsequent_indent="    #     ")
    else:
        lines.append(f"    # The holiday calendar does not know {code}: business days cannot be counted here.")
        lines.append("    deadline_hours: 24")
    lines += [
        "    # Calendar days from day zero to the authority, by seriousness (ICH E2D: 15 for serious cases);",
        "    # leave non_serious out where they go in periodic reports only; expedited: serious_unexpected",
        "    # where only unexpected serious cases are expedited. Check the authority's rules.",
        "    authority_days: {serious: 15, non_serious: 90}",
        "    # Optional: the market's own words for possible adverse events, per locale.",
        "    # terms: {xx-XX: [word, another]}",
        "  # How long records are kept (docs/privacy.md); check with the data protection officer.",
        "  data_retention:",
        "    # Years a patient's record is kept after the program ends for them.",
        f"    patient_record_years: {fill_in('years, a whole number')}",
        "    # Years the audit trail is kept.",
        f"    audit_log_years: {fill_in('years, a whole number')}",
        "    # Days to carry out a request to erase (the GDPR: one month).",
        "    erasure_deadline_days: 30",
        "",
    ]
    return "\n".join(lines)
