"""Market packs: one human-written YAML file per market, read and checked with line numbers.

A pack is validated whole before anything is written: every problem is reported at once with the
file, line and field, so the person writing a new market fixes them in one pass.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

import holidays
import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sojourn.core.professional_ids import SCHEMES, check_professional_id, pattern_problem
from sojourn.core.yaml_documents import DocumentProblem, DocumentReading, read_yaml_file, read_yaml_text

PACK_DIR = Path(__file__).resolve().parent / "market_packs"
# What `sojourn market new` writes where only a person can know the value (a mailbox, a crisis line, an
# age the law sets): a pack holding one never validates, so a template cannot go live with made-up data.
PLACEHOLDER = "<FILL IN"

PURPOSES = (
    "program_participation",
    "contact_email",
    "contact_sms",
    "contact_phone",
    "contact_post",
    "nurse_calls",
    "research_use",
    "share_with_hcp",
)
# What staff read for each purpose (the patient reads the consent text's own wording for it).
PURPOSE_LABELS: dict[str, Promise] = {
    "program_participation": _("taking part in the program"),
    "contact_email": _("contact by email"),
    "contact_sms": _("contact by text message"),
    "contact_phone": _("contact by phone"),
    "contact_post": _("contact by post"),
    "nurse_calls": _("calls from a nurse"),
    "research_use": _("research use"),
    "share_with_hcp": _("sharing with their doctor"),
}


def purpose_label(code: str) -> str:
    return str(PURPOSE_LABELS.get(code, code))


Purpose = Literal[
    "program_participation",
    "contact_email",
    "contact_sms",
    "contact_phone",
    "contact_post",
    "nurse_calls",
    "research_use",
    "share_with_hcp",
]
Channel = Literal["web", "email", "sms", "print", "phone"]
# A channel may be used only where the pack lets patients consent to it.
CHANNEL_PURPOSE: dict[str, str | None] = {
    "web": None,
    "email": "contact_email",
    "sms": "contact_sms",
    "print": "contact_post",
    "phone": "contact_phone",
}
PrivacyLaw = Literal["GDPR", "UK-GDPR", "HIPAA", "APPI", "PIPEDA", "LGPD", "other"]


def _locale_tag(value: str) -> str:
    try:
        locale = Locale.parse(value, sep="-")
    except (ValueError, UnknownLocaleError, TypeError) as exc:
        raise ValueError(f"{value!r} is not a locale (use a tag such as de-DE)") from exc
    if not locale.territory:
        raise ValueError(f"{value!r} needs a country part, as in de-DE")
    return value


def _time_zone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError(f"{value!r} is not an IANA time zone (such as Europe/Berlin)")
    return value


def _clock(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    return value


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError as exc:
        raise ValueError(f"{value!r} is not an email address") from exc
    return value


def _scheme_name(value: str) -> str:
    if value not in SCHEMES:
        known = ", ".join(sorted(SCHEMES))
        raise ValueError(f"{value!r} is not a built-in scheme (one of: {known}); or give your own pattern and example")
    return value


def _pattern(value: str) -> str:
    problem = pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _keyword(value: str) -> str:
    if not value.strip() or len(value) > 20 or " " in value.strip():
        raise ValueError(f"{value!r} is not a single keyword of at most 20 characters")
    return value.strip()


LocaleTag = Annotated[str, AfterValidator(_locale_tag)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
Clock = Annotated[str, AfterValidator(_clock)]
Email = Annotated[str, AfterValidator(_email)]
Keyword = Annotated[str, AfterValidator(_keyword)]
SchemeName = Annotated[str, AfterValidator(_scheme_name)]
Pattern = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class QuietHours(_Strict):
    start: Clock
    end: Clock


class ConsentPurposes(_Strict):
    required: list[Purpose] = Field(min_length=1)
    optional: list[Purpose] = Field(default_factory=list)


class SmsKeywords(_Strict):
    stop: list[Keyword] = Field(min_length=1)
    start: list[Keyword] = Field(min_length=1)
    help: list[Keyword] = Field(min_length=1)


class AuthorityDays(_Strict):
    serious: int = Field(ge=1, le=90)
    non_serious: int | None = Field(default=None, ge=1, le=365)  # none: periodic reports only
    # Which serious cases have the expedited clock: all (ICH E2D), or only unexpected ones (US 21 CFR 314.80).
    expedited: Literal["serious", "serious_unexpected"] = "serious"


class AdverseEvents(_Strict):
    forward_to: Email
    # The forward clock (safety/clocks.py): hours, or the market's business days.
    deadline_hours: int | None = Field(default=None, ge=1, le=720)
    deadline_business_days: int | None = Field(default=None, ge=1, le=10)
    holiday_subdivision: str | None = Field(default=None, min_length=1, max_length=10)
    authority_days: AuthorityDays = AuthorityDays(serious=15, non_serious=90)
    # The market's own words for possible adverse events, per locale (a brand's nickname, a regional
    # word), added to Sojourn's list of that language (safety/terms).
    terms: dict[LocaleTag, list[Annotated[str, Field(min_length=2, max_length=60)]]] = {}


class DataRetention(_Strict):
    patient_record_years: int = Field(ge=1, le=50)
    audit_log_years: int = Field(ge=1, le=50)
    erasure_deadline_days: int = Field(ge=1, le=90)


class Regulatory(_Strict):
    privacy_law: PrivacyLaw
    minimum_age: int = Field(ge=0, le=25)
    quiet_hours: QuietHours
    consent_purposes: ConsentPurposes
    sms_keywords: dict[LocaleTag, SmsKeywords]
    adverse_events: AdverseEvents
    data_retention: DataRetention


class ProfessionalId(_Strict):
    """How the market's professionals are identified: a built-in scheme, or the pack's own pattern."""

    label: str = Field(min_length=2, max_length=40)
    scheme: SchemeName | None = None  # a check registered in core/professional_ids.py
    pattern: Pattern | None = None  # else a regular expression the whole identifier must match
    # A real-looking identifier that passes: shown to a professional whose entry does not match the
    # pattern, and checked here so a wrong pattern is caught before launch.
    example: str | None = Field(default=None, min_length=1, max_length=40)


class CrisisLine(_Strict):
    name: str = Field(min_length=2, max_length=80)
    phone: str = Field(min_length=3, max_length=20, pattern=r"^[0-9+][0-9 ()-]*$")
    hours: str = Field(default="", max_length=40)


class CrisisHelp(_Strict):
    """Where a patient who answers that they think of self-harm is told to turn at once."""

    emergency: str = Field(min_length=2, max_length=10, pattern=r"^[0-9]+$")
    line: CrisisLine | None = None


class MarketPack(_Strict):
    pack_format: Literal[1]
    country: str = Field(pattern=r"^[A-Z]{2}$")
    name: str = Field(min_length=2, max_length=100)
    locales: list[LocaleTag] = Field(min_length=1)
    default_locale: LocaleTag
    time_zones: list[TimeZone] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    sms_sender: str = Field(default="", max_length=15)
    professional_id: ProfessionalId
    regulatory: Regulatory
    crisis_help: CrisisHelp | None = None

    @property
    def quiet_start(self) -> time:
        return time.fromisoformat(self.regulatory.quiet_hours.start)

    @property
    def quiet_end(self) -> time:
        return time.fromisoformat(self.regulatory.quiet_hours.end)


PackProblem = DocumentProblem


@dataclass(frozen=True)
class PackReading(DocumentReading[MarketPack]):
    """The outcome of reading a pack: the pack when valid, else every problem found."""

    @property
    def pack(self) -> MarketPack | None:
        return self.document


def _semantic_problems(pack: MarketPack) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Check what the types alone cannot: that the parts of the pack agree with each other."""
    if not is_country(pack.country):
        yield ("country",), f"{pack.country!r} is not an ISO 3166 country code"
    for i, tag in enumerate(pack.locales):
        territory = Locale.parse(tag, sep="-").territory
        if territory != pack.country:
            yield ("locales", i), f"{tag} is for country {territory}, not {pack.country}"
    if len(set(pack.locales)) != len(pack.locales):
        yield ("locales",), "lists a locale twice"
    if pack.default_locale not in pack.locales:
        yield ("default_locale",), f"{pack.default_locale} is not one of the pack's locales"
    country_zones = set(get_global("territory_zones").get(pack.country, ()))
    for i, zone in enumerate(pack.time_zones):
        if country_zones and zone not in country_zones:
            yield ("time_zones", i), f"{zone} is not a time zone of {pack.country}"
    purposes = pack.regulatory.consent_purposes
    if "program_participation" not in purposes.required:
        yield ("regulatory", "consent_purposes", "required"), "must include program_participation"
    for purpose in sorted(set(purposes.required) & set(purposes.optional)):
        yield ("regulatory", "consent_purposes", "optional"), f"{purpose} is listed as both required and optional"
    offered = set(purposes.required) | set(purposes.optional)
    for i, channel in enumerate(pack.channels):
        needed = CHANNEL_PURPOSE[channel]
        if needed and needed not in offered:
            yield ("channels", i), f"channel {channel} needs the consent purpose {needed} in the pack"
    if len(set(pack.channels)) != len(pack.channels):
        yield ("channels",), "lists a channel twice"
    keywords = pack.regulatory.sms_keywords
    if "sms" in pack.channels:
        for tag in pack.locales:
            if tag not in keywords:
                yield ("regulatory", "sms_keywords"), f"no SMS keywords for locale {tag}"
        if not pack.sms_sender:
            yield ("sms_sender",), "a market with the sms channel needs a sender"
    for tag, words in keywords.items():
        if tag not in pack.locales:
            yield ("regulatory", "sms_keywords", tag), f"{tag} is not one of the pack's locales"
        seen: dict[str, str] = {}
        for kind in ("stop", "start", "help"):
            for word in getattr(words, kind):
                folded = word.casefold()
                if folded in seen and seen[folded] != kind:
                    message = f"{word} is both a {seen[folded]} and a {kind} keyword"
                    yield ("regulatory", "sms_keywords", tag, kind), message
                seen[folded] = kind
    events = pack.regulatory.adverse_events
    if (events.deadline_hours is None) == (events.deadline_business_days is None):
        yield (("regulatory", "adverse_events"),
               "give the forward deadline as deadline_hours or as deadline_business_days, one of them")
    if events.holiday_subdivision and events.holiday_subdivision not in holiday_subdivisions(pack.country):
        yield (("regulatory", "adverse_events", "holiday_subdivision"),
               f"{events.holiday_subdivision} is not a subdivision of {pack.country} the holiday calendar knows")
    if events.deadline_business_days is not None and not holiday_calendar_knows(pack.country):
        # Only business days need the calendar (safety/clocks.py would fail on the first case).
        yield (("regulatory", "adverse_events", "deadline_business_days"),
               f"the holiday calendar (holidays package) does not know {pack.country}; give deadline_hours instead")
    quiet = pack.regulatory.quiet_hours
    if quiet.start == quiet.end:
        yield ("regulatory", "quiet_hours"), "start and end are equal; leave a window for contact"
    yield from _professional_id_problems(pack.professional_id)
    if pack.crisis_help and not is_emergency_number(pack.crisis_help.emergency, pack.country):
        known = ", ".join(emergency_numbers(pack.country))
        yield (("crisis_help", "emergency"),
               f"{pack.crisis_help.emergency} is not an emergency number of {pack.country} in libphonenumber's data"
               + (f" ({known})" if known else ""))


def _professional_id_problems(rule: ProfessionalId) -> Iterator[tuple[tuple[Any, ...], str]]:
    if (rule.scheme is None) == (rule.pattern is None):
        yield ("professional_id",), "name a built-in scheme or give a pattern, one of them"
        return
    if rule.pattern is not None and rule.example is None:
        yield ("professional_id",), "a pattern needs an example: an identifier that matches it"
        return
    why = check_professional_id(rule.model_dump(), rule.example) if rule.example is not None else None
    if why and rule.pattern is not None:
        yield (("professional_id", "example"),
               f"{rule.example} does not match the pattern (compared without spaces and hyphens, in capitals)")
    elif why:
        yield ("professional_id", "example"), f"{rule.example} does not pass the {rule.scheme} check: {why}"


def is_country(code: str) -> bool:
    """Tell whether the code is an ISO 3166-1 alpha-2 code of a place with its own clocks: CLDR's
    groupings (EU, UN, Eurozone) and Unknown Region (ZZ) are not markets."""
    return bool(re.fullmatch(r"[A-Z]{2}", code)) and code != "ZZ" and code in get_global("territory_zones")


def holiday_calendar_knows(country: str) -> bool:
    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return False
    return True


def _emergency_metadata(country: str) -> phonenumbers.PhoneMetadata | None:
    metadata = phonenumbers.PhoneMetadata.short_metadata_for_region(country)
    return metadata if metadata is not None and metadata.emergency is not None else None


def is_emergency_number(number: str, country: str) -> bool:
    """Tell whether libphonenumber knows the number as one of the country's emergency numbers; True
    where it has no data for the country, which is nothing to refuse."""
    if _emergency_metadata(country) is None:
        return True
    return phonenumbers.shortnumberinfo.is_emergency_number(number, country)


def emergency_numbers(country: str) -> list[str]:
    """List the country's emergency numbers in libphonenumber's data (its pattern, spelled out)."""
    metadata = _emergency_metadata(country)
    if metadata is None:
        return []
    lengths = [n for n in (metadata.emergency.possible_length or metadata.general_desc.possible_length) if n <= 4]
    return [number for length in lengths for number in (f"{n:0{length}d}" for n in range(10 ** length))
            if phonenumbers.shortnumberinfo.is_emergency_number(number, country)]


def holiday_subdivisions(country: str) -> set[str]:
    try:
        return set(holidays.country_holidays(country).subdivisions)
    except NotImplementedError:  # a country the holiday calendar does not cover
        return set()


def _reading(read: DocumentReading[MarketPack]) -> PackReading:
    return PackReading(read.path, read.document, read.problems, read.sha256)


def read_pack_text(text: str, path: str = "<pack>") -> PackReading:
    """Parse and validate a pack's text; never raises for bad content, returns the problems."""
    return _reading(read_yaml_text(text, path, MarketPack, "a market pack", _semantic_problems, PLACEHOLDER))


def read_pack_file(path: Path | str) -> PackReading:
    return _reading(read_yaml_file(path, MarketPack, "a market pack", _semantic_problems, PLACEHOLDER))


def shipped_pack_paths() -> list[Path]:
    return sorted(PACK_DIR.glob("*.yaml"))


def pack_json(pack: MarketPack) -> dict[str, Any]:
    return json.loads(pack.model_dump_json())
