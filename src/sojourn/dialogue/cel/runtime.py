"""What compiled expressions call at run time where CEL's meaning differs from Python's: int64 overflow,
division that truncates toward zero, errors that `&&` and `||` absorb, time parts in a time zone."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION_PART = re.compile(r"(\d+)(?:\.(\d*))?(h|ms|us|µs|ns|m|s)|\.(\d+)(h|ms|us|µs|ns|m|s)")
_UNIT_NANOS = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "µs": 10**3, "ns": 1}
MAX_DURATION = timedelta(days=3650 * 100)
_MICROSECOND = timedelta(microseconds=1)
# RFC 3339 as CEL reads it: a date, "T", a time with up to nine fraction digits, and "Z" or an offset.
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                        r"(?:([Zz])|([+-])(\d{2}):(\d{2}))")
_OFFSET = re.compile(r"([+-]?)(\d{2}):(\d{2})")
SUB_MICROSECOND = ("timestamps and durations are kept to the microsecond: nanoseconds are not part of "
                   "Sojourn's rule language")


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
            value = mapping[key]
        except KeyError:
            raise CelError(f"no such key: {key}") from None
        except TypeError:
            raise CelError(f"a map key cannot be a {type_name(key)}") from None
        # Python finds the key 1 for true (and 0 for false); CEL's bool and int keys are different keys.
        if key.__class__ is not str and (key.__class__ is bool or key == 0 or key == 1) \
                and not any(_same_key(stored, key) for stored in mapping):
            raise CelError(f"no such key: {key}")
        return value
    if isinstance(mapping, list):
        if isinstance(key, bool) or not isinstance(key, int | float) or key != int(key):
            raise CelError(f"a list index must be an int, not {type_name(key)}")
        if not 0 <= key < len(mapping):
            raise CelError(f"index {int(key)} is out of range")
        return mapping[int(key)]
    raise CelError(f"a {type_name(mapping)} has no fields")


def _same_key(a: Any, b: Any) -> bool:
    return a == b and (a.__class__ is bool) == (b.__class__ is bool)


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
        if not isinstance(key, str | int):  # bool is an int
            raise CelError(f"a map key is an int, a string or a bool, not a {type_name(key)}")
        if key in out:
            if any(_same_key(stored, key) for stored in out):
                raise CelError(f"repeated map key: {key}")
            raise CelError("a map with both a bool key and an int key of the same value (true and 1) is not "
                           "part of Sojourn's rule language")
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


_ORDERED = frozenset({int, float, str, bool, datetime, timedelta})


def eq(a: Any, b: Any) -> bool:
    """Heterogeneous equality: values of different kinds are unequal (true != 1), numbers compare by value
    (an int with a double as CEL does: the int converted to a double)."""
    cls = a.__class__
    if cls is b.__class__ and cls is not list and cls is not dict:  # the common case, first
        return bool(a == b)
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not eq(value, b[key]):
                return False
            if key.__class__ is not str and not any(_same_key(stored, key) for stored in b):
                return False  # Python's 1 found true
        return True
    if a.__class__ is not b.__class__ and (a.__class__ is float or b.__class__ is float):
        return float(a) == float(b)
    return bool(a == b)


def compare(op: str, a: Any, b: Any) -> bool:
    cls = a.__class__
    if cls is not b.__class__ or cls not in _ORDERED:
        ka, kb = _kind(a), _kind(b)
        if ka != kb or ka in {"null", "list", "map"}:
            raise CelError(f"cannot compare {type_name(a)} with {type_name(b)}")
    if cls is not b.__class__:  # an int and a double (the kinds are the same)
        # CEL compares an int with a double as doubles: 9223372036854775807 < 9223372036854775808.0 is false.
        a, b = float(a), float(b)
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
    if op == "+" and ta == tb and ta in {"string", "list"}:
        return a + b
    if op == "+" and ta == tb == "duration":
        return shift(op, a, b)
    if (op == "+" and {ta, tb} == {"timestamp", "duration"}) or (op == "-" and ta == "timestamp" and
                                                                   tb in {"timestamp", "duration"}):
        return shift(op, a, b)
    if op == "-" and ta == tb == "duration":
        return shift(op, a, b)
    raise CelError(f"no '{op}' for {ta} and {tb}")


def shift(op: str, a: Any, b: Any) -> Any:
    """timestamp ± duration, duration ± duration, timestamp - timestamp, within CEL's ranges."""
    try:
        result = a + b if op == "+" else a - b
    except OverflowError:
        raise CelError("timestamp out of range") from None
    if isinstance(result, timedelta) and abs(result) > MAX_DURATION:
        raise CelError(f"duration out of range: {MAX_DURATION.days} days at most")
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
        # As CEL's implementations do: -2^63 itself is out of range (it cannot be told from a rounded
        # -9223372036854775809.0), so is 2^63 (what 9223372036854775807.0 rounds to).
        if math.isnan(value) or not -(2.0**63) < value < 2.0**63:
            raise CelError("double out of int range")
        return int(value)
    if isinstance(value, str):
        try:
            return ck(int(value, 10))
        except ValueError:
            raise CelError(f"cannot convert {value!r} to int") from None
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(seconds=1)  # exact, where total_seconds() is a float
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
        utc = value.astimezone(UTC)
        text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        if utc.microsecond:
            text += f".{utc.microsecond:06d}".rstrip("0")
        return text + "Z"
    if isinstance(value, timedelta):
        micros = value // _MICROSECOND
        sign, micros = ("-" if micros < 0 else ""), abs(micros)
        seconds, fraction = divmod(micros, 1_000_000)
        return f"{sign}{seconds}{f'.{fraction:06d}'.rstrip('0') if fraction else ''}s"
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
        return _parse_timestamp(value)
    raise CelError(f"cannot convert a {type_name(value)} with timestamp()")


def _parse_timestamp(text: str) -> datetime:
    found = _TIMESTAMP.fullmatch(text)
    if found is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise CelError(f"{text!r} needs a date, a time and a zone offset, such as \"2026-01-31T09:00:00Z\"")
        raise CelError(f"{text!r} is not an RFC 3339 timestamp such as \"2026-01-31T09:00:00Z\"")
    year, month, day, hour, minute, second, fraction, utc, sign, zone_hours, zone_minutes = found.groups()
    fraction = (fraction or "").ljust(9, "0")
    if fraction[6:] != "000":
        raise CelError(f"{text!r} has nanoseconds: {SUB_MICROSECOND}")
    try:
        offset = timedelta(0) if utc else (1 if sign == "+" else -1) * timedelta(hours=int(zone_hours),
                                                                                  minutes=int(zone_minutes))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), int(fraction[:6]),
                        tzinfo=UTC if not offset else timezone(offset))
    except (ValueError, OverflowError):
        raise CelError(f"{text!r} is not a timestamp CEL allows (years 0001 to 9999, a real date and time)") \
            from None


def to_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise CelError(f"cannot convert a {type_name(value)} with duration()")
    text = value
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in {"-", "+"} else text
    if body == "0":
        return timedelta(0)
    position, nanos = 0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        whole, fraction, unit = (match.group(1), match.group(2), match.group(3)) if match.group(1) is not None \
            else ("0", match.group(4), match.group(5))
        fraction = fraction or ""
        # Exact: "0.1s" is 100000 microseconds, not what 0.1 * 1.0 happens to round to.
        nanos += int(whole) * _UNIT_NANOS[unit] + int(fraction or "0") * _UNIT_NANOS[unit] // 10 ** len(fraction)
        if int(fraction or "0") * _UNIT_NANOS[unit] % 10 ** len(fraction):
            raise CelError(f"{value!r} has a fraction of a nanosecond")
        position = match.end()
    if not body or position != len(body):
        raise CelError(f"{value!r} is not a duration such as \"72h\", \"30m\" or \"1h30m\"")
    if nanos % 1000:
        raise CelError(f"{value!r} has nanoseconds: {SUB_MICROSECOND}")
    if nanos > MAX_DURATION // _MICROSECOND * 1000:
        raise CelError(f"{value!r} is out of range: a duration is {MAX_DURATION.days} days at most")
    return timedelta(microseconds=sign * nanos // 1000)


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo | None:
    """An IANA zone ("Europe/Berlin", "UTC") or, as CEL allows, a fixed offset ("+11:00", "-02:30", "02:00")."""
    offset = _OFFSET.fullmatch(name)
    if offset is not None:
        sign, hours, minutes = offset.groups()
        if int(hours) > 23 or int(minutes) > 59:
            return None
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
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
    if part == "getMilliseconds":
        return local.microsecond // 1000
    return local.second


def duration_part(value: timedelta, part: str) -> int:
    """Whole hours, minutes or seconds of the duration (truncated toward zero), or, for getMilliseconds,
    the milliseconds part after the whole seconds (CEL's definition: 1.5s gives 500, not 1500)."""
    micros = value // _MICROSECOND
    size = abs(micros)
    if part == "getMilliseconds":
        found = size % 1_000_000 // 1000
    else:
        found = size // {"getHours": 3_600_000_000, "getMinutes": 60_000_000, "getSeconds": 1_000_000}[part]
    return -found if micros < 0 else found


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
    if name == "size" and not args:
        return len(target)
    raise CelError(f"strings have no function {name}()")


TIME_PARTS = frozenset({"getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek",
                        "getHours", "getMinutes", "getSeconds", "getMilliseconds"})
DURATION_PARTS = frozenset({"getHours", "getMinutes", "getSeconds", "getMilliseconds"})


def method(name: str, target: Any, *args: Any) -> Any:
    """A receiver function on a value whose type was not known when the rule was checked (dyn)."""
    if isinstance(target, str):
        return string_method(name, target, *args)
    if isinstance(target, datetime) and name in TIME_PARTS and len(args) <= 1:
        return time_part(target, name, *args)
    if isinstance(target, timedelta) and name in DURATION_PARTS and not args:
        return duration_part(target, name)
    if name == "size" and not args:
        return size(target)
    raise CelError(f"a {type_name(target)} has no function {name}()")


def unbound(name: str) -> Any:
    """A name no variable has, in an expression compiled without the checker: an error when evaluated."""
    raise CelError(f"no variable named {name!r}")


def no_function(name: str, *args: Any) -> Any:
    raise CelError(f"no function {name}()")
