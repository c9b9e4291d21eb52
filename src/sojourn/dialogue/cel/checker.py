"""Type-checking a parsed expression against the declared variables, as CEL's checker does.

Every node gets its type and whether evaluating it can fail (a missing map key, a division by zero):
the compiler uses the latter to keep CEL's rule that `false && <error>` is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sojourn.dialogue.cel import syntax as s
from sojourn.dialogue.cel.runtime import INT_MAX, INT_MIN
from sojourn.dialogue.cel.types import (
    BOOL,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    NULL,
    NUMERIC,
    STRING,
    TIMESTAMP,
    Type,
    assignable,
    common,
    is_dyn,
    is_list,
    is_map,
    is_object,
    list_of,
    map_of,
)


@dataclass(frozen=True)
class Problem:
    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class CelTypeError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# Receiver functions: name → {receiver type name: (argument types, result)}.
_TIME_PARTS = ("getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek",
               "getHours", "getMinutes", "getSeconds", "getMilliseconds")
NOT_IN_SUBSET = s.NOT_IN_SUBSET
# CEL features outside the subset, named in the message that refuses them (docs/rules.md lists them).
UNSUPPORTED_FUNCTIONS = {
    "uint": f"unsigned integers (uint()) are {NOT_IN_SUBSET}",
    "bytes": f"bytes (bytes()) are {NOT_IN_SUBSET}",
    "type": f"type values (type()) are {NOT_IN_SUBSET}",
    "matches": f"regular expressions (matches()) are {NOT_IN_SUBSET}: a pattern on patient data is a "
               "denial-of-service risk",
}
TYPE_NAMES = {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn",
              "google"}
STRING_METHODS = {"contains": ([STRING], BOOL), "startsWith": ([STRING], BOOL), "endsWith": ([STRING], BOOL),
                  "lowerAscii": ([], STRING), "upperAscii": ([], STRING), "size": ([], INT)}
DURATION_METHODS = {"getHours": INT, "getMinutes": INT, "getSeconds": INT, "getMilliseconds": INT}
CONVERSIONS = {"int": INT, "double": DOUBLE, "string": STRING, "bool": BOOL, "timestamp": TIMESTAMP,
               "duration": DURATION, "dyn": DYN}
CONVERTIBLE = {
    "int": {"int", "double", "string", "google.protobuf.Timestamp"},
    "double": {"int", "double", "string"},
    "string": {"int", "double", "string", "bool", "google.protobuf.Timestamp", "google.protobuf.Duration"},
    "bool": {"bool", "string"},
    "timestamp": {"string", "int", "google.protobuf.Timestamp"},
    "duration": {"string", "google.protobuf.Duration"},
}


class Checker:
    def __init__(self, variables: Mapping[str, Type]) -> None:
        self.scopes: list[dict[str, Type]] = [dict(variables)]
        self.problems: list[Problem] = []

    def fail(self, node: s.Node, message: str) -> Type:
        self.problems.append(Problem(message, node.line, node.column))
        return DYN

    def lookup(self, name: str) -> Type | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def check(self, node: s.Node) -> Type:
        node.type = getattr(self, f"_{type(node).__name__}")(node)
        return node.type

    def _fails(self, node: s.Node, *children: s.Node | None) -> None:
        if any(child is not None and child.may_fail for child in children):
            node.may_fail = True

    # ---- nodes
    def _Literal(self, node: s.Literal) -> Type:
        if node.kind == "int" and not INT_MIN <= node.value <= INT_MAX:
            return self.fail(node, f"{node.value} is out of the int range (-2^63 to 2^63-1)")
        return {"int": INT, "double": DOUBLE, "string": STRING, "bool": BOOL, "null": NULL}[node.kind]

    def _Ident(self, node: s.Ident) -> Type:
        found = self.lookup(node.name)
        if found is None:
            if node.name in TYPE_NAMES:
                what = "protobuf names" if node.name == "google" else f"type values ({node.name})"
                return self.fail(node, f"{what} are {NOT_IN_SUBSET}")
            known = ", ".join(sorted(self.scopes[0]))
            return self.fail(node, f"unknown name {node.name!r} (known: {known})")
        return found

    def _Select(self, node: s.Select) -> Type:
        assert node.operand is not None
        operand = self.check(node.operand)
        self._fails(node, node.operand)
        path = _path(node.operand)
        if is_object(operand):
            if node.name not in operand.fields:  # type: ignore[attr-defined]
                known = ", ".join(sorted(operand.fields)) or "none"  # type: ignore[attr-defined]
                return self.fail(node, f"unknown field {node.name!r} of {path or operand} (known: {known})")
            if node.test_only:
                return BOOL
            if node.name in operand.optional:  # type: ignore[attr-defined]
                node.may_fail = True
            return operand.fields[node.name]  # type: ignore[attr-defined]
        if is_map(operand):
            if not assignable(operand.params[0], STRING):
                return self.fail(node, f"{path or 'this map'} has {operand.params[0]} keys; use [key]")
            if node.test_only:
                return BOOL
            node.may_fail = True
            return operand.params[1]
        if is_dyn(operand):
            node.may_fail = not node.test_only
            return BOOL if node.test_only else DYN
        return self.fail(node, f"{path or 'a ' + str(operand)} is a {operand} and has no field {node.name!r}")

    def _Index(self, node: s.Index) -> Type:
        assert node.operand is not None and node.index is not None
        operand, index = self.check(node.operand), self.check(node.index)
        node.may_fail = True
        if is_list(operand):
            if not assignable(index, INT):
                return self.fail(node.index, f"a list is indexed by an int, not a {index}")
            return operand.params[0]
        if is_map(operand):
            if not assignable(index, operand.params[0]):
                return self.fail(node.index, f"this map has {operand.params[0]} keys, not {index}")
            return operand.params[1]
        if is_object(operand):
            if isinstance(node.index, s.Literal) and node.index.kind == "string":
                if node.index.value not in operand.fields:  # type: ignore[attr-defined]
                    return self.fail(node.index, f"unknown field {node.index.value!r} of {operand}")
                return operand.fields[node.index.value]  # type: ignore[attr-defined]
            return DYN if assignable(index, STRING) else self.fail(node.index, "fields are named by strings")
        if is_dyn(operand):
            return DYN
        return self.fail(node, f"a {operand} cannot be indexed")

    def _ListLit(self, node: s.ListLit) -> Type:
        item: Type | None = None
        for child in node.items:
            t = self.check(child)
            item = t if item is None else common(item, t)
        self._fails(node, *node.items)
        return list_of(item or DYN)

    def _MapLit(self, node: s.MapLit) -> Type:
        key: Type | None = None
        value: Type | None = None
        for k, v in node.entries:
            kt, vt = self.check(k), self.check(v)
            if kt not in {INT, STRING, BOOL} and not is_dyn(kt):
                self.fail(k, f"map keys are int, string or bool, not {kt}")
            key = kt if key is None else common(key, kt)
            value = vt if value is None else common(value, vt)
            self._fails(node, k, v)
        node.may_fail = node.may_fail or len(node.entries) > 1  # a repeated key is an error at run time
        return map_of(key or DYN, value or DYN)

    def _Unary(self, node: s.Unary) -> Type:
        assert node.operand is not None
        t = self.check(node.operand)
        self._fails(node, node.operand)
        if node.op == "!":
            return BOOL if t == BOOL or is_dyn(t) else self.fail(node, f"'!' needs a bool, not {t}")
        if t == INT:
            node.may_fail = True  # -(-2^63) overflows
            return INT
        if t in {DOUBLE, DURATION} or is_dyn(t):
            return t
        return self.fail(node, f"'-' needs a number, not {t}")

    def _Ternary(self, node: s.Ternary) -> Type:
        assert node.condition is not None and node.then is not None and node.otherwise is not None
        c = self.check(node.condition)
        if c != BOOL and not is_dyn(c):
            self.fail(node.condition, f"the condition of '?' must be a bool, not {c}")
        a, b = self.check(node.then), self.check(node.otherwise)
        self._fails(node, node.condition, node.then, node.otherwise)
        return common(a, b)

    def _Binary(self, node: s.Binary) -> Type:
        assert node.left is not None and node.right is not None
        a, b = self.check(node.left), self.check(node.right)
        self._fails(node, node.left, node.right)
        op = node.op
        if op in {"&&", "||"}:
            for side, t in ((node.left, a), (node.right, b)):
                if t != BOOL and not is_dyn(t):
                    self.fail(side, f"'{op}' needs bools on both sides, not {t}")
            return BOOL
        if op in {"==", "!="}:
            if not assignable(a, b):
                self.fail(node, f"{a} is never equal to {b}")
            return BOOL
        if op in {"<", "<=", ">", ">="}:
            ordered = {INT, DOUBLE, STRING, BOOL, TIMESTAMP, DURATION}
            if is_dyn(a) or is_dyn(b):
                node.may_fail = True
            elif not (a in ordered and (a == b or (a in NUMERIC and b in NUMERIC))):
                self.fail(node, f"cannot compare {a} with {b} using '{op}'")
            return BOOL
        if op == "in":
            if is_list(b):
                if not assignable(a, b.params[0]):
                    self.fail(node, f"a list of {b.params[0]} never contains a {a}")
            elif is_map(b):
                if not assignable(a, b.params[0]):
                    self.fail(node, f"a map with {b.params[0]} keys never has a {a} key")
            elif is_dyn(b):
                node.may_fail = True
            else:
                self.fail(node, f"'in' needs a list or a map on its right, not {b}")
            return BOOL
        return self._arithmetic(node, op, a, b)

    def _arithmetic(self, node: s.Binary, op: str, a: Type, b: Type) -> Type:
        if is_dyn(a) or is_dyn(b):
            node.may_fail = True
            return DYN
        allowed: dict[tuple[str, Type, Type], Type] = {
            ("+", INT, INT): INT, ("-", INT, INT): INT, ("*", INT, INT): INT, ("/", INT, INT): INT,
            ("%", INT, INT): INT,
            ("+", DOUBLE, DOUBLE): DOUBLE, ("-", DOUBLE, DOUBLE): DOUBLE, ("*", DOUBLE, DOUBLE): DOUBLE,
            ("/", DOUBLE, DOUBLE): DOUBLE,
            ("+", STRING, STRING): STRING,
            ("+", TIMESTAMP, DURATION): TIMESTAMP, ("+", DURATION, TIMESTAMP): TIMESTAMP,
            ("-", TIMESTAMP, DURATION): TIMESTAMP, ("-", TIMESTAMP, TIMESTAMP): DURATION,
            ("+", DURATION, DURATION): DURATION, ("-", DURATION, DURATION): DURATION,
        }
        if op == "+" and is_list(a) and is_list(b):
            return list_of(common(a.params[0], b.params[0]))
        result = allowed.get((op, a, b))
        if result is None:
            hint = " (CEL does not mix int and double: write 1.0, or double(x))" if {a, b} == NUMERIC else ""
            return self.fail(node, f"no '{op}' for {a} and {b}{hint}")
        if result in {INT, TIMESTAMP, DURATION} or (result == DOUBLE and op == "/"):
            node.may_fail = node.may_fail or result != DOUBLE  # int overflow, division by zero
        return result

    def _Comprehension(self, node: s.Comprehension) -> Type:
        assert node.range is not None and node.body is not None
        r = self.check(node.range)
        if is_list(r) or is_map(r):
            item = r.params[0]
        elif is_dyn(r):
            item = DYN
            node.may_fail = True
        else:
            return self.fail(node, f"{node.macro}() works on a list or a map, not {r}")
        if self.lookup(node.variable) is not None and node.variable in self.scopes[0]:
            return self.fail(node, f"{node.variable!r} is already a variable; choose another name")
        self.scopes.append({node.variable: item})
        body = self.check(node.body)
        transform = self.check(node.transform) if node.transform is not None else None
        self.scopes.pop()
        self._fails(node, node.range, node.body, node.transform)
        if (node.macro in {"all", "exists", "exists_one"} or (node.macro == "map" and transform is not None) \
                or node.macro == "filter") and body != BOOL and not is_dyn(body):
            self.fail(node.body, f"the condition of {node.macro}() must be a bool, not {body}")
        if node.macro in {"all", "exists", "exists_one"}:
            return BOOL
        if node.macro == "filter":
            return list_of(item)
        return list_of(transform if transform is not None else body)

    def _Call(self, node: s.Call) -> Type:
        args = [self.check(a) for a in node.args]
        target = self.check(node.target) if node.target is not None else None
        self._fails(node, node.target, *node.args)
        name = node.function
        if target is None:
            return self._global(node, name, args)
        if name == "size" and not args:
            return self._size(node, target)
        if target == STRING or (is_dyn(target) and name in STRING_METHODS):
            if name not in STRING_METHODS:
                extra = f": {UNSUPPORTED_FUNCTIONS[name]}" if name in UNSUPPORTED_FUNCTIONS else ""
                return self.fail(node, f"strings have no function {name}(){extra}")
            params, result = STRING_METHODS[name]
            return self._arguments(node, name, params, args, result)
        if is_dyn(target) and name in UNSUPPORTED_FUNCTIONS:
            return self.fail(node, UNSUPPORTED_FUNCTIONS[name])
        if target == TIMESTAMP and name in _TIME_PARTS:
            if len(args) > 1 or (args and not assignable(args[0], STRING)):
                return self.fail(node, f"{name}() takes an optional time zone such as \"Europe/Berlin\"")
            node.may_fail = node.may_fail or bool(args)  # an unknown zone name
            return INT
        if target == DURATION and name in DURATION_METHODS:
            return self._arguments(node, name, [], args, INT)
        if is_dyn(target):
            node.may_fail = True
            return DYN
        return self.fail(node, f"a {target} has no function {name}()")

    def _global(self, node: s.Call, name: str, args: list[Type]) -> Type:
        if name == "size":
            if len(args) != 1:
                return self.fail(node, "size() takes one argument")
            return self._size(node, args[0])
        if name in CONVERSIONS:
            if len(args) != 1:
                return self.fail(node, f"{name}() takes one argument")
            arg = args[0]
            if name != "dyn" and not is_dyn(arg) and arg.name not in CONVERTIBLE[name]:
                return self.fail(node, f"cannot convert a {arg} with {name}()")
            literal = node.args[0]
            if name in {"timestamp", "duration"} and isinstance(literal, s.Literal) and literal.kind == "string":
                from sojourn.dialogue.cel import runtime

                try:  # a literal is checked now, not when the rule first runs
                    (runtime.to_timestamp if name == "timestamp" else runtime.to_duration)(literal.value)
                except runtime.CelError as error:
                    return self.fail(literal, str(error))
            elif name not in {"dyn", "string"} and arg != CONVERSIONS[name]:
                node.may_fail = True
            return CONVERSIONS[name]
        if name in UNSUPPORTED_FUNCTIONS:
            return self.fail(node, UNSUPPORTED_FUNCTIONS[name])
        known = "size, int, double, string, bool, timestamp, duration, dyn, has"
        return self.fail(node, f"unknown function {name}() (known: {known})")

    def _size(self, node: s.Call, t: Type) -> Type:
        if t == STRING or is_list(t) or is_map(t) or is_dyn(t):
            node.may_fail = node.may_fail or is_dyn(t)
            return INT
        return self.fail(node, f"size() needs a string, list or map, not {t}")

    def _arguments(self, node: s.Call, name: str, params: list[Type], args: list[Type], result: Type) -> Type:
        if len(args) != len(params):
            return self.fail(node, f"{name}() takes {len(params)} argument(s), not {len(args)}")
        for param, arg, arg_node in zip(params, args, node.args, strict=True):
            if not assignable(param, arg):
                self.fail(arg_node, f"{name}() needs a {param}, not {arg}")
            if is_dyn(arg):
                node.may_fail = True
        return result


def _path(node: s.Node) -> str:  # shared with the compiler
    """'profile.needs' for the operand of a selection, '' when it is not a plain path."""
    if isinstance(node, s.Ident):
        return node.name
    if isinstance(node, s.Select) and node.operand is not None:
        head = _path(node.operand)
        return f"{head}.{node.name}" if head else ""
    return ""


def check(tree: s.Node, variables: Mapping[str, Type], expect: Type | None = BOOL) -> Type:
    checker = Checker(variables)
    result = checker.check(tree)
    if expect is not None and not checker.problems and result != expect and not is_dyn(result):
        checker.fail(tree, f"the expression must give a {expect}, but gives a {result}")
    if checker.problems:
        raise CelTypeError(checker.problems)
    return result
