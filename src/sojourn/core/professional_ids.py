"""Professional identifiers of healthcare professionals, checked where the market's format allows.

A market pack says how its professionals are identified, one of two ways (docs/market-packs.md):

- a built-in scheme, by name (`scheme: rpps`): a check registered here with `register_scheme`, with
  the check digit where the issuer publishes one, so a typing error is caught before a doctor is
  enrolled under someone else's number;
- its own pattern (`pattern: "^[0-9]{9}$"` with an `example`), for a market whose identifier has no
  built-in scheme yet: a regular expression the identifier must match as a whole.

Identifiers are compared as `normalize_professional_id` leaves them: spaces and hyphens removed,
letters upper-cased. Every rule's docstring says where the rule comes from; where no check digit is
published, the scheme checks the form only and says so.

This lives in core, not people: market packs (core) are validated against the schemes, and core never
imports the apps above it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

Check = Callable[[str], str | None]  # the normalized identifier → why it is wrong, or None

# As long as the enrollment form and the API accept; a pattern never sees a longer text.
MAX_LENGTH = 40


@dataclass(frozen=True)
class Scheme:
    """A built-in identifier check, by the name a pack gives it."""

    name: str
    check: Check
    country: str  # the market whose identifier it is, for `sojourn market new`
    label: str  # what the market's professionals call it, for `sojourn market new`
    rule: str  # one line for pack authors: the form and the check


SCHEMES: dict[str, Scheme] = {}


def register_scheme(name: str, *, country: str, label: str, rule: str) -> Callable[[Check], Check]:
    """Register a check under the name packs use; names are unique (a second use is a mistake)."""

    def register(check: Check) -> Check:
        if name in SCHEMES:
            raise ValueError(f"a professional identifier scheme named {name!r} is already registered")
        SCHEMES[name] = Scheme(name=name, check=check, country=country, label=label, rule=rule)
        return check

    return register


def _register_pattern(name: str, regex: str, message: Promise, *, country: str, label: str, rule: str) -> None:
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        return None if compiled.fullmatch(value) else str(message)

    check.__doc__ = rule
    register_scheme(name, country=country, label=label, rule=rule)(check)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


@register_scheme("npi", country="US", label="NPI",
                 rule="10 digits from 1 or 2, Luhn check digit over 80840 + the number")
def check_npi(value: str) -> str | None:
    """US National Provider Identifier: 10 digits, Luhn over the number prefixed with 80840.

    Source: CMS, "Requirements for NPI Check Digit" (the Luhn formula for the modulus 10
    "double-add-double" check digit, card issuer prefix 80840), under 45 CFR 162.406.
    """
    if not re.fullmatch(r"[12]\d{9}", value):
        return gettext("An NPI has 10 digits and starts with 1 or 2.")
    if not _luhn_ok("80840" + value):
        return gettext("This NPI's check digit is wrong.")
    return None


@register_scheme("lanr", country="DE", label="LANR",
                 rule="9 digits, the 7th a check digit over the first six (weights 4, 9, 4, 9, 4, 9)")
def check_lanr(value: str) -> str | None:
    """German Lebenslange Arztnummer: 9 digits, the 7th a check digit over the first six (4, 9, …).

    Source: Kassenärztliche Bundesvereinigung, Arztnummern-Richtlinie (nach § 75 Abs. 7 SGB V): the
    Prüfziffer, modulo 10 over digits 1-6 weighted 4, 9, 4, 9, 4, 9. Digits 8-9 name the specialty
    group. Weight 4 does not catch every one-digit typo (d and d+5 weigh the same).
    """
    if not re.fullmatch(r"\d{9}", value):
        return gettext("A LANR has 9 digits.")
    total = sum(int(d) * w for d, w in zip(value[:6], (4, 9, 4, 9, 4, 9), strict=True))
    if (10 - total % 10) % 10 != int(value[6]):
        return gettext("This LANR's check digit is wrong.")
    return None


@register_scheme("rpps", country="FR", label="RPPS", rule="11 digits, the last a Luhn check digit")
def check_rpps(value: str) -> str | None:
    """France, Répertoire partagé des professionnels intervenant dans le système de santé: 11 digits,
    the 11th a Luhn check digit over the whole number.

    Source: Agence du Numérique en Santé (ANS), the identifiers table of its Ségur support pages (RPPS,
    AM, FINESS): "11 caractères numériques (le dernier étant la clé de Luhn) non significatifs". The
    national identifier of a person in ANS systems (IdNat_PS) is "8" + the RPPS number; a pack asks for
    the RPPS number itself.
    """
    if not re.fullmatch(r"\d{11}", value):
        return gettext("An RPPS number has 11 digits.")
    if not _luhn_ok(value):
        return gettext("This RPPS number's check digit is wrong.")
    return None


@register_scheme("it-codice-fiscale", country="IT", label="Codice fiscale",
                 rule="16 characters (letters, date and place of birth) and a check letter from the odd/even tables")
def check_codice_fiscale(value: str) -> str | None:
    """Italy, the physician's codice fiscale (16 characters): the identifier every Italian prescription
    and the Sistema Tessera Sanitaria carry for the prescriber, where the Ordini's registration numbers
    are provincial and have no common form.

    Form: 6 letters (surname, name), 2 digits (year), a month letter (ABCDEHLMPRST), 2 digits (day;
    +40 for women), a letter and 3 digits (place of birth), a check letter. Where two people would
    share a code, digits are replaced by letters L M N P Q R S T U V for 0-9 (omocodia), so the seven
    digit positions take either.

    Check letter: the first 15 characters, positions counted from 1; a character in an odd position
    counts by the odd table (0/A=1, 1/B=0, 2/C=5, 3/D=7, 4/E=9, 5/F=13, 6/G=15, 7/H=17, 8/I=19, 9/J=21,
    K=2, L=4, M=18, N=20, O=11, P=3, Q=6, R=8, S=12, T=14, U=16, V=10, W=22, X=25, Y=24, Z=23), one in
    an even position by the even table (0-9 and A-Z count 0-9 and 0-25); the sum modulo 26 is the
    check letter (0 = A … 25 = Z).

    Source: Decreto del Ministro delle Finanze 23 dicembre 1976, "Sistemi di codificazione dei soggetti
    da iscrivere all'anagrafe tributaria" (under DPR 605/1973), its annex: the carattere di controllo
    tables and the omocodia substitutions. Every value of both tables is distinct within the characters
    a position allows, so any one-character change that keeps the form changes the check letter.
    """
    if not _CF_FORM.fullmatch(value) or not _cf_day_ok(value[9:11]):
        return gettext("A codice fiscale has 16 letters and digits.")
    if _cf_check_letter(value[:15]) != value[15]:
        return gettext("This codice fiscale's check letter is wrong.")
    return None


_CF_DIGIT = "[0-9LMNPQRSTUV]"  # a digit, or its omocodia letter
_CF_FORM = re.compile(rf"[A-Z]{{6}}{_CF_DIGIT}{{2}}[ABCDEHLMPRST]{_CF_DIGIT}{{2}}[A-Z]{_CF_DIGIT}{{3}}[A-Z]")
_CF_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
                    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
                   strict=True))
_CF_EVEN = {**{str(n): n for n in range(10)}, **{chr(ord("A") + n): n for n in range(26)}}


def _cf_day_ok(day: str) -> bool:
    number = int(day.translate(_CF_OMOCODIA))
    return 1 <= number <= 31 or 41 <= number <= 71


def _cf_check_letter(first15: str) -> str:
    # Positions are counted from 1: index 0 is position 1, an odd one.
    total = sum((_CF_ODD if i % 2 == 0 else _CF_EVEN)[ch] for i, ch in enumerate(first15))
    return chr(ord("A") + total % 26)


_register_pattern(
    "gmc", r"\d{7}", _("A GMC reference number has 7 digits."), country="GB", label="GMC reference number",
    rule="7 digits (no published check digit)")
_register_pattern(
    "jp-medical-registration", r"\d{6}", _("A medical registration number has 6 digits."), country="JP",
    label="医籍登録番号", rule="6 digits (no published check digit)")
_register_pattern(
    "ca-licence", r"[A-Z0-9]{4,10}", _("A licence number has 4 to 10 letters or digits."), country="CA",
    label="Licence number", rule="4 to 10 letters or digits: each provincial college numbers its own")
# France, ADELI (Automatisation DEs LIstes), the departmental register of professions not yet in RPPS:
# 9 characters, the department first, then the profession (the ARS and the professions' own
# descriptions). We found no published rule for a check character, so the form alone is checked: a
# pattern. 2A and 2B (Corsica) are accepted so that no Corsican number is refused, unverified. The
# ADELI professions have been moving into RPPS since 2021 (ANS); prefer rpps for a new market.
_register_pattern(
    "adeli", r"(?:\d{2}|2[AB])\d{7}", _("An ADELI number has 9 characters: the department, then 7 digits."),
    country="FR", label="ADELI", rule="9 characters: department (2 digits, 2A or 2B) and 7 digits (no published key)")
# Spain, número de colegiado of the Organización Médica Colegial: 9 digits, the province of the Colegio
# (INE codes 01-52), the college and the member's number, the last 5 digits being what most doctors
# know as their number (Colegio de Médicos de Cáceres: "Son 9 dígitos … la mayoría de los médicos solo
# conocen los últimos 5 dígitos"). No check digit is published: the form alone is checked.
_register_pattern(
    "es-colegiado", r"(?:0[1-9]|[1-4]\d|5[0-2])\d{7}",
    _("A colegiado number has 9 digits and starts with the province code (01 to 52)."), country="ES",
    label="Número de colegiado", rule="9 digits: province code (01-52), college and number (no check digit)")
# Netherlands, BIG-nummer (Wet BIG register, kept by CIBG): 11 digits. We found no check-digit rule
# published by CIBG. A third-party validator circulates (a fixed 9 in second place and a weighted modulo 11 whose
# result is the first digit), but it is reverse-engineered, not CIBG's, and refusing a real doctor's
# number is worse than missing a typo: the form alone is checked.
_register_pattern(
    "nl-big", r"\d{11}", _("A BIG number has 11 digits."), country="NL", label="BIG-nummer",
    rule="11 digits (no published check digit)")


def normalize_professional_id(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


# A group repeated by *, +, {m,n} or {m,} can match the same text in exponentially many ways when the
# group itself varies in length ("(a+)+"); identifier formats never need it, and a pack's pattern runs
# on what strangers type.
_REPEATED_GROUP = re.compile(r"\)(?:[*+]|\{\d*,\d*\})")


def pattern_problem(pattern: str) -> str | None:
    """Say why a pack's pattern cannot be used, or None when it can."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a regular expression: {exc}"
    # Read the pattern without escaped characters and character classes, where ")" is a literal.
    bare = re.sub(r"\\.|\[(?:\\.|[^\]\\])*\]", "x", pattern)
    if _REPEATED_GROUP.search(bare):
        return ("repeats a group with *, + or a range: repeat single characters or classes instead "
                "(a group may be followed by ? or an exact {n}), so that matching stays fast")
    if re.fullmatch(pattern, ""):
        return "matches an empty identifier; require at least one character"
    return None


def _check_pattern(pattern: str, example: str, value: str) -> str | None:
    if len(value) <= MAX_LENGTH and re.fullmatch(pattern, value):
        return None
    return gettext("This is not in the expected form, for example %(example)s.") % {"example": example}


def check_professional_id(rule: str | Mapping[str, Any], value: str) -> str | None:
    """Return why the identifier is wrong, or None when it passes the market's check.

    `rule` is a built-in scheme's name or a pack's `professional_id` (a scheme, or a pattern with its
    example), as stored with the market.
    """
    value = normalize_professional_id(value)
    if isinstance(rule, str):
        return SCHEMES[rule].check(value)
    if rule.get("pattern"):
        return _check_pattern(rule["pattern"], rule.get("example") or "", value)
    return SCHEMES[rule["scheme"]].check(value)


def schemes_for(country: str) -> list[Scheme]:
    """List the built-in schemes of a country, for a new market's template."""
    return [scheme for scheme in SCHEMES.values() if scheme.country == country]
