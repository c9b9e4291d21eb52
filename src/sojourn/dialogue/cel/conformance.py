"""Sojourn's CEL measured against google/cel-spec's simple conformance tests.

The cases are cel-spec's own (tests/simple/testdata), converted to JSON by scripts/cel-conformance-convert
and vendored in sojourn/dialogue/tests/data/cel_spec with their licence notice. Every case runs through
`compile_expression` (checked, unless the case disables the checker) and is classified:

    pass     the expected value, or an error where an error is expected
    wrong    a value that differs from the expected one, or a value where an error is expected
    refused  an error (at compile or run time) where a value is expected

Cases that use a feature outside the subset docs/rules.md declares are listed in EXCLUDED with the
reason; they still run, and must be refused by a compile error that names the feature, never answered
with a wrong value. `scripts/cel-conformance` prints the figures; the test asserts them.
"""

from __future__ import annotations

import fnmatch
import inspect
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sojourn.dialogue.cel.checker import CelTypeError
from sojourn.dialogue.cel.compiler import compile_expression
from sojourn.dialogue.cel.runtime import CelError
from sojourn.dialogue.cel.syntax import CelSyntaxError
from sojourn.dialogue.cel.types import (
    BOOL,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    NULL,
    STRING,
    TIMESTAMP,
    Type,
    list_of,
    map_of,
)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "cel_spec"
# The cel-spec files vendored; the others (proto2, proto3, wrappers, dynamic, enums, the extensions, …)
# are about protobuf messages or CEL extensions, outside the subset as a whole (docs/rules.md).
FILES = ("basic", "comparisons", "conversions", "fields", "fp_math", "integer_math", "lists", "logic", "macros",
         "parse", "plumbing", "string", "timestamps")

UINT = "unsigned integers (1u, uint())"
BYTES = "bytes (b'…', bytes())"
PROTO = "protobuf messages, wrapper types and names (TestAllTypes{…}, google.protobuf.*, .cel.expr…)"
TYPES = "type values (type(x), int or bool as a value)"
REGEX = "regular expressions (matches())"
NANOS = "sub-microsecond timestamps and durations (Sojourn keeps microseconds, as the database does)"
DOTTED = "variables with dotted names (a.b.c declared as one variable): Sojourn's variables are plain names"

# reason -> {"file/section": [test name patterns]}; "*" is the whole section. The same list is in
# docs/rules.md ("Conditions: CEL"): change both together.
EXCLUDED: dict[str, dict[str, list[str]]] = {
    UINT: {
        "basic/self_eval_zeroish": ["self_eval_uint_*"],
        "basic/self_eval_nonzeroish": ["self_eval_uint_*"],
        "comparisons/eq_literal": ["*uint*", "eq_list_mixed_type_numbers", "not_eq_list_mixed_type_numbers",
                                   "eq_map_mixed_type_numbers"],
        "comparisons/ne_literal": ["*uint*", "ne_mixed_types"],
        "comparisons/lt_literal": ["*uint*"],
        "comparisons/gt_literal": ["*uint*"],
        "comparisons/lte_literal": ["*uint*"],
        "comparisons/gte_literal": ["*uint*"],
        "comparisons/in_list_literal": ["elem_in_mixed_type_list_cross_type"],
        "comparisons/in_map_literal": ["key_in_mixed_key_type_map", "key_in_mixed_key_type_map_cross_type"],
        "comparisons/bound": ["uint_eq_right_false"],
        "conversions/double": ["uint_*"],
        "conversions/int": ["uint*"],
        "conversions/string": ["uint"],
        "conversions/uint": ["int", "int_max", "int_neg", "double", "double_truncate", "double_half", "double_big_*",
                             "double_range_beyond_uint", "string"],
        "fields/map_fields": ["map_key_uint64", "map_key_string", "map_key_mixed_type", "map_key_mixed_numbers_*",
                              "map_value_uint64", "map_value_list"],
        "fields/qualified_identifier_resolution": ["map_value_repeat_key_heterogeneous"],
        "fields/in": ["mixed_numbers_and_keys_*"],
        "integer_math/int64_math": ["unary_minus_no_overload", "uint64_*"],
        "integer_math/uint64_math": ["*"],
        "lists/index": ["zero_based_uint"],
        "lists/in": ["singleton", "last", "uint_in_*", "*_in_uints"],
        "parse/nest": ["funcall"],
    },
    BYTES: {
        "basic/self_eval_zeroish": ["self_eval_bytes_*"],
        "basic/self_eval_nonzeroish": ["self_eval_bytes_*"],
        "comparisons/eq_literal": ["*bytes*"],
        "comparisons/ne_literal": ["*bytes*"],
        "comparisons/lt_literal": ["*bytes*"],
        "comparisons/gt_literal": ["*bytes*"],
        "comparisons/lte_literal": ["*bytes*"],
        "comparisons/gte_literal": ["*bytes*"],
        "comparisons/bound": ["bytes_*"],
        "conversions/bytes": ["*"],
        "conversions/string": ["bytes*"],
        "fields/map_fields": ["map_value_bytes"],
        "parse/bytes_literals": ["*"],
        "string/size": ["bytes*"],
        "string/bytes_concat": ["*"],
    },
    PROTO: {
        "comparisons/eq_literal": ["eq_dyn_json_null", "not_eq_dyn_proto*"],
        "comparisons/eq_wrapper": ["*"],
        "comparisons/ne_literal": ["ne_proto*"],
        "parse/nest": ["message_literal"],
        "parse/repeat": ["select", "message_literal"],
        "parse/whitespace": ["*"],
        "parse/comments": ["*"],
        "parse/struct_field_names": ["*"],
    },
    TYPES: {
        "conversions/dyn": ["*"],
        "conversions/type": ["[!d]*", "double*"],  # dyn_no_denotation expects `dyn` to be no value: it is not
        "timestamps/timestamp_conversions": ["toType_timestamp"],
        "timestamps/duration_conversions": ["toType_duration"],
    },
    REGEX: {
        "string/matches": ["*"],
    },
    NANOS: {
        "timestamps/timestamp_conversions": ["toString_timestamp_nanos"],
        "timestamps/timestamp_selectors": ["getMilliseconds"],
        "timestamps/timestamp_arithmetic": ["add_time_to_duration_nanos_*"],
        "timestamps/timestamp_range": ["add_duration_nanos_*"],
    },
    DOTTED: {
        "fields/qualified_identifier_resolution": ["qualified_ident", "map_field_select",
                                                   "qualified_identifier_resolution_unchecked",
                                                   "list_field_select_unsupported", "ident_with_longest_prefix_check"],
    },
}
# What a compile error refusing an excluded case says (with the feature's name before it).
REFUSAL = "not part of Sojourn's rule language"


@dataclass(frozen=True)
class Case:
    file: str
    section: str
    name: str
    test: Mapping[str, Any]

    @property
    def id(self) -> str:
        return f"{self.file}/{self.section}/{self.name}"

    @property
    def excluded(self) -> str | None:
        """The reason this case is outside the declared subset, or None."""
        for reason, sections in EXCLUDED.items():
            patterns = sections.get(f"{self.file}/{self.section}", ())
            if any(fnmatch.fnmatchcase(self.name, pattern) for pattern in patterns):
                return reason
        return None


@dataclass
class Outcome:
    case: Case
    status: str  # pass, wrong, refused
    detail: str = ""
    compile_error: bool = False


@dataclass
class Figures:
    passed: int = 0
    wrong: int = 0
    refused: int = 0
    excluded: int = 0
    wrong_cases: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.wrong + self.refused

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 1.0


def load(files: Iterable[str] = FILES) -> list[Case]:
    cases = []
    for name in files:
        data = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
        cases += [Case(data["file"], section["name"], test["name"], test)
                  for section in data["sections"] for test in section["tests"]]
    return cases


# ---- values ----------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class NotRepresentable(Exception):
    """A binding or a declared type Sojourn's runtime has no value for (uint, bytes, a message…)."""


def python_value(typed: Mapping[str, Any]) -> Any:
    """The Python value Sojourn's runtime uses for a cel-spec value (a binding)."""
    (kind, value), = typed.items()
    if kind in {"int", "string", "bool"}:
        return value
    if kind == "double":
        return float(value)
    if kind == "null":
        return None
    if kind == "list":
        return [python_value(item) for item in value]
    if kind == "map":
        return {python_value(key): python_value(item) for key, item in value}
    if kind == "duration":
        # Truncated to the microsecond: facts reach the rules from the database, which keeps no more.
        return timedelta(seconds=value["seconds"], microseconds=value["nanos"] // 1000)
    if kind == "timestamp":
        return _EPOCH + timedelta(seconds=value["seconds"], microseconds=value["nanos"] // 1000)
    raise NotRepresentable(kind)


def sojourn_type(spec: Any) -> Type:
    if isinstance(spec, dict) and "list" in spec:
        return list_of(sojourn_type(spec["list"]))
    if isinstance(spec, dict) and "map" in spec:
        key, value = spec["map"]
        return map_of(sojourn_type(key), sojourn_type(value))
    simple = {"int": INT, "double": DOUBLE, "string": STRING, "bool": BOOL, "null_type": NULL, "dyn": DYN,
              "duration": DURATION, "timestamp": TIMESTAMP}
    if isinstance(spec, str) and spec in simple:
        return simple[spec]
    raise NotRepresentable(str(spec))


def same(expected: Mapping[str, Any], got: Any) -> bool:
    """Whether a result is the expected cel-spec value: same kind (1 is not 1.0) and same value."""
    (kind, value), = expected.items()
    if kind == "int":
        return type(got) is int and got == value
    if kind == "double":
        if type(got) is not float:
            return False
        want = float(value)
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)
    if kind == "string":
        return type(got) is str and got == value
    if kind == "bool":
        return type(got) is bool and got == value
    if kind == "null":
        return got is None
    if kind == "list":
        return type(got) is list and len(got) == len(value) and all(map(same, value, got))
    if kind == "map":
        if type(got) is not dict or len(got) != len(value):
            return False
        for key, item in value:
            found = [v for k, v in got.items() if same(key, k)]
            if len(found) != 1 or not same(item, found[0]):
                return False
        return True
    if kind == "duration":
        return type(got) is timedelta and got == timedelta(seconds=value["seconds"],
                                                           microseconds=value["nanos"] / 1000)
    if kind == "timestamp":
        return type(got) is datetime and got == _EPOCH + timedelta(seconds=value["seconds"],
                                                                   microseconds=value["nanos"] / 1000)
    return False  # uint, bytes, type, enum, object: Sojourn never gives one, so any value is wrong


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---- running ---------------------------------------------------------------------------------------

_CHECKED_OPTION = "checked" in inspect.signature(compile_expression).parameters


def run(case: Case) -> Outcome:
    test = case.test
    expected = test["expected"]
    try:
        variables = {name: sojourn_type(spec) for name, spec in test.get("type_env", {}).items()}
        facts = {name: python_value(value) for name, value in test.get("bindings", {}).items()}
    except NotRepresentable as missing:
        return Outcome(case, "refused", f"no Sojourn value or type for {missing}")
    variables.update({name: DYN for name in facts if name not in variables})
    options = {"checked": not test.get("disable_check", False)} if _CHECKED_OPTION else {}
    try:
        expression = compile_expression(test["expr"], variables, expect=None, **options)
    except (CelSyntaxError, CelTypeError) as error:
        status = "pass" if "error" in expected else "refused"
        return Outcome(case, status, str(error), compile_error=True)
    try:
        got = expression(facts)
    except CelError as error:
        return Outcome(case, "pass" if "error" in expected else "refused", f"error: {error}")
    if "error" in expected:
        return Outcome(case, "wrong", f"{describe(got)} where an error was expected")
    if "value" not in expected:
        return Outcome(case, "refused", f"expects {sorted(expected)}, which Sojourn has no equivalent of")
    if same(expected["value"], got):
        return Outcome(case, "pass")
    return Outcome(case, "wrong", f"{describe(got)}, expected {describe(expected['value'])}")


def measure(cases: Iterable[Case]) -> tuple[dict[str, Figures], list[Outcome]]:
    """Figures per cel-spec file (and "total") over the declared subset; every outcome, excluded ones too.
    A wrong value counts even in an excluded case (it appears in the figures' wrong_cases)."""
    figures: dict[str, Figures] = {}
    outcomes = []
    for case in cases:
        outcome = run(case)
        outcomes.append(outcome)
        for key in (case.file, "total"):
            entry = figures.setdefault(key, Figures())
            if case.excluded:
                entry.excluded += 1
                if outcome.status == "wrong":
                    entry.wrong_cases.append(f"{case.id} (excluded): {outcome.detail}")
                continue
            if outcome.status == "pass":
                entry.passed += 1
            elif outcome.status == "refused":
                entry.refused += 1
            else:
                entry.wrong += 1
                entry.wrong_cases.append(f"{case.id}: {outcome.detail}")
    return figures, outcomes


def report(figures: Mapping[str, Figures]) -> str:
    lines = []
    for key in [*sorted(name for name in figures if name != "total"), "total"]:
        entry = figures[key]
        lines.append(f"{key:<13} passed {entry.passed} of {entry.total} ({100 * entry.rate:.1f} %), "
                     f"wrong values {len(entry.wrong_cases)}, refused {entry.refused}, "
                     f"outside the subset {entry.excluded}")
    return "\n".join(lines)
