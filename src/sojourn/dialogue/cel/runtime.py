"""What compiled expressions call at run time where CEL's meaning differs from Python's: int64 overflow,
division that truncates toward zero, errors that `&&` and `||` absorb, time parts in a time zone."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
MAX_DURATION = timedelta(days=3650 * 100)


class CelError(Exception):
    """An error value of CEL: the expression has no result for these inputs (the rule does not fire)."""


def ck(value: int) -> int:
    if value < INT_MIN or value > INT_MAX:
        raise CelError("integer overflow")
    return value


def idiv(a: int, b: int) -> int:
    if b == 0:
        raise CelError("division by zero")
    q = abs(a) // abs(b)
    return ck(q if (a >= 0) == (b >= 0) else -q)


def imod(a: int, b: int) -> int:
    if b == 0:
        raise CelError("modulus by zero")
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def fdiv(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def neg(a: Any) -> Any:
    if isinstance(a, bool) or not isinstance(a, int | float | timedelta):
        raise CelError(f"no '-' for {type_name(a)}")
    return ck(-a) if isinstance(a, int) else -a


def get(mapping: Any, key: Any) -> Any:
    """m.k or m[k] on a map: a missing key is an error, not null."""
    if isinstance(mapping, dict):
        try:
            return mapping[key]
        except KeyError:
            raise CelError(f"no such key: {key}") from None
        except TypeError:
            raise CelError(f"a map key cannot be a {type_name(key)}") from None
    if isinstance(mapping, list):
        if isinstance(key, bool) or not isinstance(key, int | float) or key != int(key):
            raise CelError(f"a list index must be an int, not {type_name(key)}")
        if not 0 <= key < len(mapping):
            raise CelError(f"index {int(key)} is out of range")
        return mapping[int(key)]
    raise CelError(f"a {type_name(mapping)} has no fields")


def has(mapping: Any, key: str) -> bool:
    if isinstance(mapping, dict):
        return key in mapping
    raise CelError(f"has() needs a map or a message, not {type_name(mapping)}")


def and_(left: Callable[[], Any], right: Callable[[], Any]) -> bool:
    """CEL's commutative &&: false wins over an error on either side."""
    error = None
    try:
        a = left()
    except CelError as e:
        error, a = e, None
    else:
        if a is False:
            return False
        if a is not True:
            error = CelError(f"'&&' needs bools, not {type_name(a)}")
    try:
        b = right()
    except CelError:
        if error is None:
            raise
        raise error from None
    if b is False:
        return False
    if b is not True:
        raise CelError(f"'&&' needs bools, not {type_name(b)}")
    if error is not None:
        raise error
    return True


def or_(left: Callable[[], Any], right: Callable[[], Any]) -> bool:
    error = None
    try:
        a = left()
    except CelError as e:
        error, a = e, None
    else:
        if a is True:
            return True
        if a is not False:
            error = CelError(f"'||' needs bools, not {type_name(a)}")
    try:
        b = right()
    except CelError:
        if error is None:
            raise
        raise error from None
    if b is True:
        return True
    if b is not False:
        raise CelError(f"'||' needs bools, not {type_name(b)}")
    if error is not None:
        raise error
    return False


def truth(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise CelError(f"expected a bool, not {type_name(value)}")


def exists(items: Iterable[Any], test: Callable[[Any], Any]) -> bool:
    error = None
    for item in items:
        try:
            if truth(test(item)):
                return True
        except CelError as e:
            error = error or e
    if error is not None:
        raise error
    return False


def all_(items: Iterable[Any], test: Callable[[Any], Any]) -> bool:
    error = None
    for item in items:
        try:
            if not truth(test(item)):
                return False
        except CelError as e:
            error = error or e
    if error is not None:
        raise error
    return True


def exists_one(items: Iterable[Any], test: Callable[[Any], Any]) -> bool:
    return sum(1 for item in items if truth(test(item))) == 1


def iterate(value: Any) -> Iterable[Any]:
    if isinstance(value, list | dict):
        return list(value)
    raise CelError(f"a {type_name(value)} cannot be iterated")


def contains(container: Any, item: Any) -> bool:
    if isinstance(container, list):
        return any(eq(item, x) for x in container)
    if isinstance(container, dict):
        return any(eq(item, k) for k in container)
    raise CelError(f"'in' needs a list or a map, not {type_name(container)}")


def make_map(*pairs: tuple[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CelError(f"repeated map key: {key}")
        out[key] = value
    return out


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "double", str: "string", list: "list", dict: "map", datetime: "timestamp",
            timedelta: "duration"}.get(type(value), type(value).__name__)


def _kind(value: Any) -> str:
    name = type_name(value)
    return "number" if name in {"int", "double"} else name


def eq(a: Any, b: Any) -> bool:
    """Heterogeneous equality: values of different kinds are unequal (true != 1), numbers compare by value."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)
    return bool(a == b)


def compare(op: str, a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka != kb or ka in {"null", "list", "map"}:
        raise CelError(f"cannot compare {type_name(a)} with {type_name(b)}")
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def arith(op: str, a: Any, b: Any) -> Any:
    """Arithmetic on values whose types were unknown when the rule was checked (dyn)."""
    ta, tb = type_name(a), type_name(b)
    if ta == tb == "int":
        return {"+": lambda: ck(a + b), "-": lambda: ck(a - b), "*": lambda: ck(a * b), "/": lambda: idiv(a, b),
                "%": lambda: imod(a, b)}[op]()
    if ta == tb == "double" and op in "+-*/":
        return fdiv(a, b) if op == "/" else {"+": a + b, "-": a - b, "*": a * b}[op]
    if op == "+" and ta == tb and ta in {"string", "list", "duration"}:
        return a + b
    try:
        if (op == "+" and {ta, tb} == {"timestamp", "duration"}) or (op == "-" and ta == "timestamp" and \
                tb in {"timestamp", "duration"}) or (op == "-" and ta == tb == "duration"):
            return a + b if op == "+" else a - b
    except OverflowError:
        raise CelError("timestamp out of range") from None
    raise CelError(f"no '{op}' for {ta} and {tb}")


def shift(op: str, a: Any, b: Any) -> Any:
    """timestamp ± duration, duration ± duration, timestamp - timestamp, within CEL's ranges."""
    try:
        result = a + b if op == "+" else a - b
    except OverflowError:
        raise CelError("timestamp out of range") from None
    if isinstance(result, timedelta) and abs(result) > MAX_DURATION:
        raise CelError("duration out of range")
    return result


def size(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise CelError(f"size() needs a string, list or map, not {type_name(value)}")


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CelError("cannot convert a bool with int()")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or not INT_MIN <= value < 2.0**63:
            raise CelError("double out of int range")
        return int(value)
    if isinstance(value, str):
        try:
            return ck(int(value, 10))
        except ValueError:
            raise CelError(f"cannot convert {value!r} to int") from None
    if isinstance(value, datetime):
        return int((value - _EPOCH).total_seconds() // 1)
    raise CelError(f"cannot convert a {type_name(value)} with int()")


def to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise CelError("cannot convert a bool with double()")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise CelError(f"cannot convert {value!r} to double") from None
    raise CelError(f"cannot convert a {type_name(value)} with double()")


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds}s"
    raise CelError(f"cannot convert a {type_name(value)} with string()")


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in {"true", "True", "TRUE", "t", "1"}:
            return True
        if value in {"false", "False", "FALSE", "f", "0"}:
            return False
    raise CelError(f"cannot convert {value!r} to bool")


def to_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(seconds=value)
        except OverflowError:
            raise CelError("timestamp out of range") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise CelError(f"{value!r} is not an RFC 3339 timestamp such as \"2026-01-31T09:00:00Z\"") from None
        if parsed.tzinfo is None or "T" not in value.upper():
            raise CelError(f"{value!r} needs a date, a time and a zone offset, such as \"2026-01-31T09:00:00Z\"")
        return parsed
    raise CelError(f"cannot convert a {type_name(value)} with timestamp()")


def to_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise CelError(f"cannot convert a {type_name(value)} with duration()")
    text = value
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:] if text[:1] in {"-", "+"} else text
    if body == "0":
        return timedelta(0)
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not body or position != len(body):
        raise CelError(f"{value!r} is not a duration such as \"72h\", \"30m\" or \"1h30m\"")
    if seconds > MAX_DURATION.total_seconds():
        raise CelError(f"{value!r} is longer than CEL allows")
    return timedelta(seconds=sign * seconds)


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.lru_cache(maxsize=1024)  # rules ask about `now` in a handful of zones, thousands of times a batch
def _local(value: datetime, zone: str | None) -> datetime:
    if zone is None:
        return value.astimezone(UTC)
    found = _zone(zone) if isinstance(zone, str) and len(zone) <= 64 else None
    if found is None:
        raise CelError(f"unknown time zone {zone!r}")
    return value.astimezone(found)


def time_part(value: datetime, part: str, zone: str | None = None) -> int:
    local = _local(value, zone)
    if part == "getFullYear":
        return local.year
    if part == "getMonth":
        return local.month - 1
    if part == "getDayOfYear":
        return local.timetuple().tm_yday - 1
    if part == "getDayOfMonth":
        return local.day - 1
    if part == "getDate":
        return local.day
    if part == "getDayOfWeek":
        return (local.weekday() + 1) % 7  # Sunday is 0
    if part == "getHours":
        return local.hour
    if part == "getMinutes":
        return local.minute
    return local.second


def duration_part(value: timedelta, part: str) -> int:
    seconds = value.total_seconds()
    divisor = {"getHours": 3600, "getMinutes": 60, "getSeconds": 1, "getMilliseconds": 0.001}[part]
    return int(seconds / divisor)


def lower_ascii(value: str) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in value)


def upper_ascii(value: str) -> str:
    return "".join(c.upper() if "a" <= c <= "z" else c for c in value)


def string_method(name: str, target: Any, *args: Any) -> Any:
    """A string function on a value typed dyn when the rule was checked."""
    if not isinstance(target, str) or any(not isinstance(a, str) for a in args):
        raise CelError(f"{name}() needs strings")
    if name == "contains":
        return args[0] in target
    if name == "startsWith":
        return target.startswith(args[0])
    if name == "endsWith":
        return target.endswith(args[0])
    if name == "lowerAscii":
        return lower_ascii(target)
    if name == "upperAscii":
        return upper_ascii(target)
    return len(target)
