"""The types a rule expression is checked against: CEL's own, plus declared objects (profile, event…)
whose fields are known, so `profile.needs.itchh` is refused when the rule is saved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Type:
    name: str  # int, double, string, bool, null, timestamp, duration, dyn, list, map, object
    params: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if self.params:
            return f"{self.name}({', '.join(str(p) for p in self.params)})"
        return self.name


@dataclass(frozen=True, eq=False)
class ObjectType(Type):
    """A declared shape. `optional` fields may be absent at run time (test them with has())."""

    fields: Mapping[str, Type] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    label: str = ""

    def __str__(self) -> str:
        return self.label or "object"


INT = Type("int")
DOUBLE = Type("double")
STRING = Type("string")
BOOL = Type("bool")
NULL = Type("null_type")
TIMESTAMP = Type("google.protobuf.Timestamp")
DURATION = Type("google.protobuf.Duration")
DYN = Type("dyn")
NUMERIC = {INT, DOUBLE}


def list_of(item: Type) -> Type:
    return Type("list", (item,))


def map_of(key: Type, value: Type) -> Type:
    return Type("map", (key, value))


def obj(label: str, fields: Mapping[str, Type], optional: frozenset[str] | set[str] = frozenset()) -> ObjectType:
    return ObjectType("object", (), dict(fields), frozenset(optional), label)


def is_dyn(t: Type) -> bool:
    return t.name == "dyn"


def is_list(t: Type) -> bool:
    return t.name == "list"


def is_map(t: Type) -> bool:
    return t.name == "map"


def is_object(t: Type) -> bool:
    return isinstance(t, ObjectType)


def assignable(a: Type, b: Type) -> bool:
    """Could values of these two types be the same value? (dyn and null are lenient, as in CEL.)"""
    if is_dyn(a) or is_dyn(b) or a == b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    if NULL in (a, b):
        return is_object(a) or is_object(b) or a.name in {"map", "list"} or b.name in {"map", "list"}
    if (is_object(a) and (is_object(b) or is_map(b))) or (is_object(b) and is_map(a)):
        return True
    if a.name == b.name and a.params and b.params:
        return all(assignable(x, y) for x, y in zip(a.params, b.params, strict=True))
    return False


def common(a: Type, b: Type) -> Type:
    """The type of `c ? a : b` or of a list holding both."""
    if a == b:
        return a
    if a == NULL and not is_dyn(b):
        return b
    if b == NULL:
        return a
    return DYN
