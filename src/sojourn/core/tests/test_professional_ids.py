from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sojourn.core.professional_ids import (
    SCHEMES,
    check_codice_fiscale,
    check_npi,
    check_professional_id,
    check_rpps,
    pattern_problem,
    register_scheme,
)

DIGITS = "0123456789"
ALPHANUMERIC = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_the_five_schemes_packs_already_name_still_work():
    assert {"npi", "lanr", "gmc", "jp-medical-registration", "ca-licence"} <= set(SCHEMES)
    assert check_professional_id("npi", "1234567893") is None  # CMS's own example in its check-digit note
    assert check_professional_id("lanr", "123456601") is None
    assert check_professional_id("gmc", "1234567") is None and check_professional_id("gmc", "123456")
    assert check_professional_id("jp-medical-registration", "123456") is None
    assert check_professional_id("ca-licence", "cpso-12345") is None  # normalized: CPSO12345


@pytest.mark.parametrize(("rpps", "ok"), [
    ("10003123451", True), ("10101010105", True), ("1 0003 1234 51", True),
    ("10003123452", False),  # the key one off
    ("10003213451", False),  # two digits swapped
    ("1000312345", False), ("100031234511", False), ("1000312345A", False),
])
def test_an_rpps_number_has_eleven_digits_and_a_luhn_key(rpps, ok):
    assert (check_professional_id("rpps", rpps) is None) is ok


def test_rpps_messages_say_what_is_wrong():
    assert check_rpps("1000312345") == "An RPPS number has 11 digits."
    assert check_rpps("10003123452") == "This RPPS number's check digit is wrong."


@pytest.mark.parametrize("code", [
    # Published examples (python-stdnum's test data), with omocodia (letters for digits) in the last five.
    "MRTNTN23M02D969P", "RCCMNL83S18D969H", "MRSMSR81D60Z611H", "CNTCHR83T41D969D", "MAILCU91A25F839D",
    "RSSMRA45C12F205C", "RSSMRA45C12F20RX", "RSSMRA45C12F2L5N", "RSSMRA45C12F2LRI", "RSSMRAQRCMNFNLRG",
    "rccmnl 83s18 d969h",
])
def test_a_valid_codice_fiscale_passes(code):
    assert check_professional_id("it-codice-fiscale", code) is None


@pytest.mark.parametrize(("code", "why"), [
    ("FOXDRA26C24H872A", "This codice fiscale's check letter is wrong."),
    ("RCCMNL83S18D996H", "This codice fiscale's check letter is wrong."),  # place digits swapped
    ("CNTCHR83T32D969H", "A codice fiscale has 16 letters and digits."),  # day 32
    ("CSTNGL22I10D086I", "A codice fiscale has 16 letters and digits."),  # I is no month
    ("RCCMNL83S18D969", "A codice fiscale has 16 letters and digits."),
])
def test_a_codice_fiscale_typo_is_refused(code, why):
    assert check_codice_fiscale(code) == why


@pytest.mark.parametrize(("scheme", "valid", "invalid"), [
    ("adeli", ["751012345", "2A1012345", "75 101 2345"], ["75101234", "7510123456", "2C1012345"]),
    ("es-colegiado", ["282812345", "010112345", "525212345"], ["532812345", "002812345", "28281234"]),
    ("nl-big", ["19012345601", "39012345601"], ["1901234560", "190123456011", "1901234560A"]),
])
def test_schemes_without_a_published_check_digit_check_the_form(scheme, valid, invalid):
    assert all(check_professional_id(scheme, value) is None for value in valid)
    assert all(check_professional_id(scheme, value) for value in invalid)


def _luhn_complete(body: str, check) -> str:
    keys = [body + d for d in DIGITS if check(body + d) is None]
    assert len(keys) == 1  # Luhn gives every body exactly one key
    return keys[0]


def _changed(value: str, position: int, offset: int, alphabet: str) -> str:
    replacement = alphabet[(alphabet.index(value[position]) + offset) % len(alphabet)]
    return value[:position] + replacement + value[position + 1:]


@given(body=st.text(DIGITS, min_size=10, max_size=10), position=st.integers(0, 10), offset=st.integers(1, 9))
def test_luhn_catches_every_single_digit_typo_in_an_rpps_number(body, position, offset):
    valid = _luhn_complete(body, check_rpps)
    assert check_rpps(_changed(valid, position, offset, DIGITS)) is not None


@given(body=st.text(DIGITS, min_size=8, max_size=8), position=st.integers(0, 9), offset=st.integers(1, 9))
def test_luhn_catches_every_single_digit_typo_in_an_npi(body, position, offset):
    valid = _luhn_complete("1" + body, check_npi)
    assert check_npi(_changed(valid, position, offset, DIGITS)) is not None


# The form of a codice fiscale's first 15 characters, omocodia letters included; the day is 01-31 or 41-71.
OMOCODIA = "LMNPQRSTUV"
cf_digit = st.sampled_from(DIGITS + OMOCODIA)
cf_letter = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
cf_day = st.sampled_from([f"{d:02d}" for d in (*range(1, 32), *range(41, 72))])
first15 = st.tuples(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=6), cf_digit, cf_digit,
    st.sampled_from("ABCDEHLMPRST"), cf_day, cf_letter, cf_digit, cf_digit, cf_digit,
).map("".join)


@given(start=first15, position=st.integers(0, 15), offset=st.integers(1, 35))
def test_the_check_letter_catches_every_single_character_typo_in_a_codice_fiscale(start, position, offset):
    # Each position's table gives every character it allows a different value below 26, so any one
    # change either breaks the form or changes the check letter.
    letters = [start + chr(c) for c in range(ord("A"), ord("Z") + 1) if check_codice_fiscale(start + chr(c)) is None]
    assert len(letters) == 1
    typo = _changed(letters[0], position, offset, ALPHANUMERIC)
    assert check_codice_fiscale(typo) is not None


def test_a_packs_own_pattern_checks_the_whole_normalized_identifier():
    rule = {"label": "Colegiado", "scheme": None, "pattern": "[0-9]{9}", "example": "282812345"}
    assert check_professional_id(rule, "28 28 12345") is None
    assert check_professional_id(rule, "2828123456") == "This is not in the expected form, for example 282812345."
    assert check_professional_id(rule, "x282812345") is not None  # matched whole, not searched
    assert check_professional_id(rule, "9" * 500) is not None  # longer than any form accepts
    assert check_professional_id({"label": "RPPS", "scheme": "rpps"}, "10003123451") is None


@pytest.mark.parametrize(("pattern", "why"), [
    ("^[0-9]{9}$", None),
    ("[A-Z]{2}\\d{5,7}", None),
    ("(?:[0-9]{2}-?){3}", None),  # an exact count after a group is fine
    ("(\\)+)", None),  # an escaped parenthesis is a character
    ("[0-9", "is not a regular expression"),
    ("(\\d+)+", "repeats a group"),
    ("(?:a|ab)*", "repeats a group"),
    ("([0-9]{1,2}){2,}", "repeats a group"),
    ("[0-9]*", "matches an empty identifier"),
])
def test_a_pattern_is_refused_when_it_is_broken_slow_or_empty(pattern, why):
    problem = pattern_problem(pattern)
    assert (problem is None) if why is None else (why in problem)


def test_a_scheme_name_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register_scheme("rpps", country="FR", label="RPPS", rule="twice")(lambda value: None)
