"""FHIRPath for the SDC expression extensions (variable, initialExpression, calculatedExpression), run on
the server with fhirpathpy under a time limit, so that a hostile or runaway expression ends a request
with a clear error instead of holding a worker.

Besides FHIRPath itself, the SDC functions forms use are provided: `answers()` (every answer below a
response or item), `ordinal()` and `weight()` (an option's ordinalValue or itemWeight), and a `power()`
that, as the FHIRPath specification says, takes fractional exponents of positive numbers.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

EVALUATION_SECONDS = 1.0  # for all the expressions of one response: real forms take milliseconds
MAX_RESULT = 1000  # items in one result; anything bigger is an expression gone wrong
MODEL = models["r4"]


class ExpressionFailed(Exception):
    """An expression could not be evaluated: a mistake in it, too much work, or too big a result."""

    def __init__(self, expression: str, why: str) -> None:
        super().__init__(why)
        self.expression = expression
        self.why = why


class _Overtime(Exception):
    pass


@lru_cache(maxsize=1024)
def _compiled(text: str) -> Callable[..., list[Any]]:
    return fhirpathpy.compile(text, MODEL, {"userInvocationTable": _functions()})


def compile_problem(text: str) -> str:
    """Why the expression cannot be parsed, or "" if it can."""
    try:
        _compiled(text)
    except Exception as exc:  # the parser raises plain Exceptions of several kinds
        return str(exc)[:200] or type(exc).__name__
    return ""


_deadline: list[float] = []  # per thread in effect: sys.settrace is per thread, and so is the guard


def _tracer(frame: Any, event: str, arg: Any) -> None:
    # Called on every Python call while guarded: cheap, and the only way to stop a pure-Python loop.
    if _deadline and time.monotonic() > _deadline[-1]:
        raise _Overtime()


@contextmanager
def guarded(seconds: float = EVALUATION_SECONDS) -> Iterator[None]:
    """Give the evaluations inside a shared time budget (nested guards keep the outer one)."""
    if _deadline:
        yield
        return
    previous = sys.gettrace()
    _deadline.append(time.monotonic() + seconds)
    sys.settrace(_tracer)
    try:
        yield
    finally:
        sys.settrace(previous)
        _deadline.clear()


# The weights ordinal() reads, set for the form being evaluated.
_weights: list[dict[tuple[str, str], Decimal]] = [{}]


def evaluate(text: str, focus: Any, variables: dict[str, Any], weights: dict[tuple[str, str], Decimal]) -> list[Any]:
    """Evaluate one expression on `focus` with %variables; raise ExpressionFailed, never anything else."""
    _weights[0] = weights
    try:
        with guarded():
            result = _compiled(text)(focus, variables)
    except _Overtime:
        raise ExpressionFailed(text, "took too long") from None
    except RecursionError:
        raise ExpressionFailed(text, "nests too deeply") from None
    except Exception as exc:  # fhirpathpy raises plain Exceptions and ValueErrors for user mistakes
        raise ExpressionFailed(text, str(exc)[:200] or type(exc).__name__) from exc
    if len(result) > MAX_RESULT:
        raise ExpressionFailed(text, f"gives more than {MAX_RESULT} values")
    return [_plain(v) for v in result]


def _plain(value: Any) -> Any:
    if isinstance(value, ResourceNode):
        return value.convert_data()
    if isinstance(value, (str, int, float, bool, Decimal, dict, list)) or value is None:
        return value
    return str(value)  # FHIRPath dates, times and quantities print as FHIR writes them


def _answers(inputs: list[Any]) -> list[Any]:
    found: list[Any] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            for answer in item.get("answer", []):
                found.append(ResourceNode.create_node(answer, "QuestionnaireResponse.item.answer"))
                walk(answer.get("item", []))
            walk(item.get("item", []))

    for node in inputs:
        if isinstance(node, dict):
            walk(node.get("item", []))
    return found


def _ordinal(inputs: list[Any]) -> list[Any]:
    weights = _weights[0]
    out = []
    for coding in inputs:
        if isinstance(coding, dict):
            code, system = str(coding.get("code", "")), str(coding.get("system", "") or "")
            weight = weights.get((system, code), weights.get(("", code)))
            if weight is not None:
                out.append(weight)
    return out


def _power(inputs: list[Any], exponent: Any) -> list[Any]:
    exponent = exponent if isinstance(exponent, list) else [exponent]
    if len(inputs) != 1 or len(exponent) != 1:
        return []
    try:
        base, power = Decimal(str(inputs[0])), Decimal(str(exponent[0]))
        if power == power.to_integral_value():
            return [base ** power]
        if base < 0:
            return []  # no real root: empty, as FHIRPath says
        return [Decimal(repr(math.pow(float(base), float(power))))]
    except (InvalidOperation, OverflowError, ValueError):
        return []


def _functions() -> dict[str, dict[str, Any]]:
    return {"answers": {"fn": _answers}, "ordinal": {"fn": _ordinal}, "weight": {"fn": _ordinal},
            "power": {"fn": _power, "arity": {1: ["Number"]}}}
