"""The rule language against google/cel-spec's own conformance cases (vendored in data/cel_spec, converted
by scripts/cel-conformance-convert): the declared subset passes, nothing anywhere gives a wrong value, and
what is outside the subset is refused by a compile error that names the feature."""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime, timedelta

import pytest

from sojourn.dialogue.cel import CelError, CelSyntaxError, CelTypeError, compile_expression, conformance
from sojourn.dialogue.cel.types import DOUBLE, DURATION, INT, STRING, TIMESTAMP, map_of

PASS_RATE = 0.97


@pytest.fixture(scope="module")
def measured():
    return conformance.measure(conformance.load())


def test_the_declared_subset_passes_cel_specs_cases_with_no_wrong_value(measured):
    figures, _outcomes = measured
    total = figures["total"]
    assert total.wrong_cases == [], "wrong values:\n" + "\n".join(total.wrong_cases)
    assert total.total >= 700  # the subset is not quietly shrunk to make the rate
    assert total.rate >= PASS_RATE, conformance.report(figures)


def test_every_case_outside_the_subset_is_refused_by_a_compile_error_naming_the_feature(measured):
    _figures, outcomes = measured
    unclear = [f"{o.case.id}: {o.detail}" for o in outcomes
               if o.case.excluded and o.status == "refused" and o.case.excluded != conformance.DOTTED
               and not o.detail.startswith("no Sojourn value or type")  # a binding of a uint or bytes value
               and not (o.compile_error and conformance.REFUSAL in o.detail)]
    assert unclear == []


def test_the_list_of_cases_outside_the_subset_names_only_cases_that_exist():
    names = {case.id for case in conformance.load()}
    stale = [f"{section}/{pattern}" for sections in conformance.EXCLUDED.values()
             for section, patterns in sections.items() for pattern in patterns
             if not fnmatch.filter(names, f"{section}/{pattern}")]
    assert stale == []


def test_the_vendored_cases_carry_their_source_and_licence():
    notice = (conformance.DATA / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License, Version 2.0" in notice and "google/cel-spec" in notice
    for name in conformance.FILES:
        source = json.loads((conformance.DATA / f"{name}.json").read_text(encoding="utf-8"))["source"]
        assert source["repository"] == "google/cel-spec" and len(source["commit"]) == 40
        assert f"{name}.textproto at {source['commit']}" in notice


# ---- the wrong answers issue 37 found, in checked rules (the compiled fast path) as well as dyn ------

VARIABLES = {"i": INT, "d": DOUBLE, "s": STRING, "since": DURATION, "now": TIMESTAMP, "m": map_of(STRING, INT)}
FACTS = {"i": 2**63 - 1, "d": 2.0**63, "s": "x", "since": timedelta(seconds=-90, microseconds=-250_000),
         "now": datetime(2009, 2, 13, 23, 31, 30, 123456, tzinfo=UTC), "m": {"if": 1}}


def run(text: str, facts: dict | None = None):
    return compile_expression(text, VARIABLES, expect=None)(facts or FACTS)


@pytest.mark.parametrize(("text", "expected"), [
    # an int meets a double as a double, as in CEL: 2^63-1 becomes 2^63
    ("i < d", False), ("i <= d", True), ("i == d", True), ("d > i", False), ("dyn(i) < d", False),
    ("dyn(9223372036854775807) < 9223372036854775808.0", False), ("[d].exists(x, x == i)", True),
    ("i in [d]", True),
    ("since.getMilliseconds()", -250), ("since.getSeconds()", -90), ("duration('1.5s').getMilliseconds()", 500),
    ("duration('3730s').getMinutes()", 62), ("now.getMilliseconds()", 123),
    ("now.getDayOfMonth('+11:00')", 13), ("now.getHours('02:00')", 1), ("now.getMinutes('-02:30')", 1),
    ("string(now)", "2009-02-13T23:31:30.123456Z"), ("string(duration('-1.25s'))", "-1.25s"),
    ("duration('0.1s') == duration('100ms')", True),
    ("m.if", 1), ("{'as': 2}.as", 2),
    ("'\\101\\X42\\x43\\377'", "ABC\u00ff"),
])
def test_cel_gives_the_answers_cel_spec_expects(text, expected):
    result = run(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("text", [
    "int(-9223372036854775808.0)", "int(9223372036854775807.0)", "int(d)",
    "dyn({1: 'a'})[true]", "dyn({true: 'a'})[1]", "dyn({true: 'a'})[1.0]",
    "now.getHours('25:00')",
])
def test_a_value_out_of_range_or_a_missing_key_is_an_error_not_an_answer(text):
    with pytest.raises(CelError):
        run(text)


@pytest.mark.parametrize(("text", "feature"), [
    ("b'abc' == b'abc'", "bytes literals"),
    ("bytes('abc') == s", "bytes (bytes())"),
    ("uint(1) == 1", "unsigned integers"),
    ("1u == 1", "unsigned integers"),
    ("type(1) == int", "type values"),
    ("s.matches('a+')", "regular expressions"),
    ("dyn(s).matches('a+')", "regular expressions"),
    ("google.protobuf.BoolValue{value: true} == true", "protobuf messages"),
    ("timestamp('2009-02-13T23:31:20.123456789Z') < now", "nanoseconds"),
    ("duration('1ns') < since", "nanoseconds"),
    ("9223372036854775808 > i", "out of the int range"),
])
def test_a_feature_outside_the_subset_is_refused_when_saved_and_named(text, feature):
    with pytest.raises((CelSyntaxError, CelTypeError)) as caught:
        compile_expression(text, VARIABLES, expect=None)
    assert feature in str(caught.value)


def test_reserved_words_stay_refused_as_names():
    with pytest.raises(CelSyntaxError, match="'if' is a reserved word"):
        compile_expression("if", VARIABLES, expect=None)


def test_an_unchecked_expression_turns_type_mistakes_into_error_values():
    assert compile_expression("'horses' && false", {}, expect=None, checked=False)({}) is False
    assert compile_expression("x || true", {}, expect=None, checked=False)({}) is True
    with pytest.raises(CelError, match="no function f_unknown"):
        compile_expression("f_unknown(17)", {}, expect=None, checked=False)({})
    with pytest.raises(CelError, match="a map key is an int, a string or a bool"):
        compile_expression("{3.3: 1}[3.3]", {}, expect=None, checked=False)({})


@pytest.mark.parametrize(("text", "expected"), [
    ("dyn(null) == null", True), ("dyn(1) == null", False), ("null != null", False), ("dyn('') != null", True),
    ("dyn({1: 'a'}) == dyn({true: 'a'})", False), ("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", True),
])
def test_equality_with_null_and_between_maps_keeps_cels_kinds_apart(text, expected):
    assert run(text) is expected
