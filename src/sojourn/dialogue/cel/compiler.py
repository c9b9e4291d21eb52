"""Turning a checked tree into a Python function, once, when a rule is saved or loaded.

The Python source is generated from the tree: names become `v_<name>` locals, every constant is
written with repr() or hoisted into a table, so the user's text itself is never evaluated. Where the
checker proved a node cannot fail and both sides have static types, plain Python operators are used
(that is where the speed comes from); elsewhere the helpers in `runtime` keep CEL's meaning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sojourn.dialogue.cel import runtime as rt
from sojourn.dialogue.cel import syntax as s
from sojourn.dialogue.cel.checker import STRING_METHODS, _path, check
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
    is_list,
    is_map,
    is_object,
)

_HELPERS: dict[str, Any] = {
    "_ck": rt.ck, "_idiv": rt.idiv, "_imod": rt.imod, "_fdiv": rt.fdiv, "_neg": rt.neg, "_get": rt.get,
    "_has": rt.has, "_and": rt.and_, "_or": rt.or_, "_truth": rt.truth, "_exists": rt.exists, "_all": rt.all_,
    "_exists_one": rt.exists_one, "_iter": rt.iterate, "_contains": rt.contains, "_make_map": rt.make_map,
    "_eq": rt.eq, "_compare": rt.compare, "_arith": rt.arith, "_shift": rt.shift, "_size": rt.size,
    "_to_int": rt.to_int, "_to_double": rt.to_double, "_to_string": rt.to_string, "_to_bool": rt.to_bool,
    "_to_timestamp": rt.to_timestamp, "_to_duration": rt.to_duration, "_time_part": rt.time_part,
    "_duration_part": rt.duration_part, "_lower": rt.lower_ascii, "_upper": rt.upper_ascii,
    "_string_method": rt.string_method, "_method": rt.method, "_unbound": rt.unbound,
    "_no_function": rt.no_function,
}
_SCALARS = {INT, DOUBLE, STRING, BOOL, TIMESTAMP, DURATION}
_NUMBERS = {INT, DOUBLE}
_PYTHON_ERRORS = (TypeError, KeyError, ValueError, OverflowError, AttributeError, IndexError, ZeroDivisionError,
                  RecursionError)


@dataclass
class Expression:
    """A checked, compiled expression. Call it with the facts (a dict per variable)."""

    source: str
    result_type: Type
    python: str
    references: list[str] = field(default_factory=list)  # "profile.needs.itch": what `explain` shows
    _function: Any = None
    _getters: dict[str, Any] = field(default_factory=dict)

    def __call__(self, facts: Mapping[str, Any]) -> Any:
        try:
            return self._function(facts)
        except rt.CelError:
            raise
        except _PYTHON_ERRORS as error:  # facts of another shape than declared: an error value, not a crash
            raise rt.CelError(f"{type(error).__name__}: {error}") from None

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """True only when the condition evaluates to true; an error means the rule does not fire."""
        try:  # the function itself, not __call__: this runs once per rule and event
            return self._function(facts) is True
        except (rt.CelError, *_PYTHON_ERRORS):
            return False

    def explain(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """The value of every field the expression reads, for the timeline's "why"."""
        shown: dict[str, Any] = {}
        for path, getter in self._getters.items():
            try:
                value = getter(facts)
            except (rt.CelError, *_PYTHON_ERRORS):
                value = "(absent)"
            if isinstance(value, datetime | timedelta):
                value = rt.to_string(value)
            shown[path] = value
        return shown


class _Generator:
    def __init__(self, names: Mapping[str, Type] | None = None) -> None:
        self.constants: dict[str, Any] = {}
        self.references: list[str] = []
        # Unchecked (names given): a name that is neither a variable nor a comprehension's is an error
        # when evaluated, not when compiled, so `x || true` is true as CEL says.
        self.names = names
        self.bound: list[str] = []

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def gen(self, node: s.Node) -> str:
        return getattr(self, f"_{type(node).__name__}")(node)

    def _Literal(self, node: s.Literal) -> str:
        return repr(node.value)

    def _Ident(self, node: s.Ident) -> str:
        if self.names is not None and node.name not in self.names and node.name not in self.bound:
            return f"_unbound({node.name!r})"
        if node.name not in self.references:
            self.references.append(node.name)
        return f"v_{node.name}"

    def _Select(self, node: s.Select) -> str:
        assert node.operand is not None
        path = _path(node)
        if path and not node.test_only and path not in self.references:
            self.references.append(path)
        operand_type = node.operand.type
        target = self.gen(node.operand)
        if node.test_only:
            return f"_has({target}, {node.name!r})"
        if is_object(operand_type) and node.name not in operand_type.optional:
            return f"{target}[{node.name!r}]"
        return f"_get({target}, {node.name!r})"

    def _Index(self, node: s.Index) -> str:
        assert node.operand is not None and node.index is not None
        return f"_get({self.gen(node.operand)}, {self.gen(node.index)})"

    def _ListLit(self, node: s.ListLit) -> str:
        return "[" + ", ".join(self.gen(i) for i in node.items) + "]"

    def _MapLit(self, node: s.MapLit) -> str:
        pairs = ", ".join(f"({self.gen(k)}, {self.gen(v)})" for k, v in node.entries)
        return f"_make_map({pairs}{',' if len(node.entries) == 1 else ''})"

    def _Unary(self, node: s.Unary) -> str:
        assert node.operand is not None
        inner = self.gen(node.operand)
        t = node.operand.type
        if node.op == "!":
            return f"(not {inner})" if t == BOOL else f"(not _truth({inner}))"
        if t == INT:
            return f"_ck(-{inner})"
        if t in {DOUBLE, DURATION}:
            return f"(-{inner})"
        return f"_neg({inner})"

    def _Ternary(self, node: s.Ternary) -> str:
        assert node.condition is not None and node.then is not None and node.otherwise is not None
        condition = self.gen(node.condition)
        if node.condition.type != BOOL:
            condition = f"_truth({condition})"
        return f"({self.gen(node.then)} if {condition} else {self.gen(node.otherwise)})"

    def _Binary(self, node: s.Binary) -> str:
        assert node.left is not None and node.right is not None
        a, b = self.gen(node.left), self.gen(node.right)
        ta, tb = node.left.type, node.right.type
        op = node.op
        if op in {"&&", "||"}:
            if ta == tb == BOOL and not node.left.may_fail and not node.right.may_fail:
                return f"({a} {'and' if op == '&&' else 'or'} {b})"
            return f"{'_and' if op == '&&' else '_or'}(lambda: {a}, lambda: {b})"
        if op in {"==", "!=", "<", "<=", ">", ">="} and ta != tb and {ta, tb} <= _NUMBERS:
            # CEL compares an int with a double as two doubles (so 2^63-1 == 2^63 as doubles), where
            # Python would compare them exactly.
            a, b = (f"float({a})", b) if ta == INT else (a, f"float({b})")
            return f"({a} {op} {b})"
        if op in {"==", "!="}:
            plain = ta in _SCALARS and tb in _SCALARS and ta == tb
            plain = plain or NULL in (ta, tb)
            if plain:
                if NULL in (ta, tb):
                    left, right = _literal(node.left), _literal(node.right)
                    if left is not None and right is not None:  # `1 == null`: not `1 is None`, a warning
                        return repr((left.value is None and right.value is None) == (op == "=="))
                    return f"({a} {'is' if op == '==' else 'is not'} {b})"
                return f"({a} {op} {b})"
            return f"_eq({a}, {b})" if op == "==" else f"(not _eq({a}, {b}))"
        if op in {"<", "<=", ">", ">="}:
            if ta in _SCALARS and ta == tb:
                return f"({a} {op} {b})"
            return f"_compare({op!r}, {a}, {b})"
        if op == "in":
            element = tb.params[0] if (is_list(tb) or is_map(tb)) else None
            if element is not None and element in _SCALARS and ta == element:
                return f"({a} in {b})"
            if element == DOUBLE and ta == INT and is_list(tb):
                return f"(float({a}) in {b})"
            return f"_contains({b}, {a})"
        return self._arithmetic(op, a, b, ta, tb)

    @staticmethod
    def _arithmetic(op: str, a: str, b: str, ta: Type, tb: Type) -> str:
        if ta == tb == INT:
            if op == "/":
                return f"_idiv({a}, {b})"
            if op == "%":
                return f"_imod({a}, {b})"
            return f"_ck({a} {op} {b})"
        if ta == tb == DOUBLE:
            return f"_fdiv({a}, {b})" if op == "/" else f"({a} {op} {b})"
        if ta == tb and (ta == STRING or is_list(ta)):
            return f"({a} + {b})"
        if {ta, tb} <= {TIMESTAMP, DURATION}:
            return f"_shift({op!r}, {a}, {b})"
        return f"_arith({op!r}, {a}, {b})"

    def _Comprehension(self, node: s.Comprehension) -> str:
        assert node.range is not None and node.body is not None
        items = f"_iter({self.gen(node.range)})"
        var = f"v_{node.variable}"
        self.bound.append(node.variable)
        body = self.gen(node.body)
        plain = node.body.type == BOOL and not node.body.may_fail
        transform = self.gen(node.transform) if node.transform is not None else None
        self.bound.pop()
        if node.macro == "exists":
            return f"any({body} for {var} in {items})" if plain else f"_exists({items}, lambda {var}: {body})"
        if node.macro == "all":
            return f"all({body} for {var} in {items})" if plain else f"_all({items}, lambda {var}: {body})"
        if node.macro == "exists_one":
            return f"_exists_one({items}, lambda {var}: {body})"
        test = body if plain else f"_truth({body})"
        if node.macro == "filter":
            return f"[{var} for {var} in {items} if {test}]"
        if transform is not None:
            return f"[{transform} for {var} in {items} if {test}]"
        return f"[{body} for {var} in {items}]"

    def _Call(self, node: s.Call) -> str:
        args = [self.gen(a) for a in node.args]
        name = node.function
        if self.names is not None and not _known_call(node):
            target = [self.gen(node.target)] if node.target is not None else []
            return f"_no_function({', '.join([repr(name), *target, *args])})"
        if node.target is None:
            if name == "size":
                t = node.args[0].type
                return f"len({args[0]})" if t == STRING or is_list(t) or is_map(t) else f"_size({args[0]})"
            literal = node.args[0]
            if name in {"timestamp", "duration"} and isinstance(literal, s.Literal) and literal.kind == "string" \
                    and self.names is None:  # checked: the checker has already refused a bad literal
                convert = rt.to_timestamp if name == "timestamp" else rt.to_duration
                return self.constant(convert(literal.value))
            if name == "dyn":
                return args[0]
            return f"_to_{name}({args[0]})"
        target = self.gen(node.target)
        t = node.target.type
        if name == "size" and not args:
            return f"len({target})" if t == STRING or is_list(t) or is_map(t) else f"_size({target})"
        if (t == STRING and node.args and all(a.type == STRING for a in node.args)) or (t == STRING and not args):
            return {
                "contains": lambda: f"({args[0]} in {target})",
                "startsWith": lambda: f"{target}.startswith({args[0]})",
                "endsWith": lambda: f"{target}.endswith({args[0]})",
                "lowerAscii": lambda: f"_lower({target})",
                "upperAscii": lambda: f"_upper({target})",
            }[name]()
        if t == TIMESTAMP:
            return f"_time_part({target}, {name!r}{', ' + args[0] if args else ''})"
        if t == DURATION:
            return f"_duration_part({target}, {name!r})"
        if t == STRING:
            return f"_string_method({name!r}, {target}{''.join(', ' + a for a in args)})"
        return f"_method({name!r}, {target}{''.join(', ' + a for a in args)})"


_GLOBAL_FUNCTIONS = {"size", "int", "double", "string", "bool", "timestamp", "duration", "dyn"}
_RECEIVER_FUNCTIONS = {"size", *STRING_METHODS, *rt.TIME_PARTS}


def _known_call(node: s.Call) -> bool:
    """Whether an unchecked call names a function of the subset with a plausible number of arguments."""
    if node.target is None:
        return node.function in _GLOBAL_FUNCTIONS and len(node.args) == 1
    return node.function in _RECEIVER_FUNCTIONS and len(node.args) <= 1


def _literal(node: s.Node | None) -> s.Literal | None:
    """The literal a node is (or dyn() of one), whose value is known when the rule is compiled."""
    while isinstance(node, s.Call) and node.function == "dyn" and node.target is None and len(node.args) == 1:
        node = node.args[0]
    return node if isinstance(node, s.Literal) else None


def _assume_dynamic(node: s.Node) -> None:
    """Give every node of an unchecked tree the type dyn and a possible error, so the generated code
    takes CEL's meaning from the run-time helpers alone."""
    node.type, node.may_fail = DYN, True
    for child in vars(node).values():
        if isinstance(child, s.Node):
            _assume_dynamic(child)
        elif isinstance(child, list):
            for item in child:
                for part in item if isinstance(item, tuple) else (item,):
                    _assume_dynamic(part)


def _getter(path: str, variables: Mapping[str, Type]) -> Any:
    head, *rest = path.split(".")

    def read(facts: Mapping[str, Any]) -> Any:
        value = facts[head]
        for name in rest:
            value = rt.get(value, name)
        return value

    return read


def compile_expression(text: str, variables: Mapping[str, Type], expect: Type | None = BOOL, *,
                       checked: bool = True) -> Expression:
    """Parse, check and compile; raises CelSyntaxError or CelTypeError with line and column.

    `checked=False` skips the type checker (as cel-spec's `disable_check` does): every type mistake then
    becomes an error value when evaluated. Rules are always checked; the conformance tests use both."""
    tree = s.parse(text)
    if checked:
        result = check(tree, variables, expect)
        generator = _Generator()
    else:
        _assume_dynamic(tree)
        result, generator = DYN, _Generator(variables)
    body = generator.gen(tree)
    used = [name for name in variables if re.search(rf"\bv_{re.escape(name)}\b", body)]
    binds = "".join(f"    v_{name} = facts[{name!r}]\n" for name in used)
    python = f"def _expression(facts):\n{binds}    return {body}\n"
    namespace: dict[str, Any] = {"__builtins__": {"len": len, "any": any, "all": all, "float": float}, **_HELPERS,
                                 **generator.constants}
    exec(compile(python, "<rule expression>", "exec"), namespace)  # noqa: S102  (generated from the checked tree)
    # Only the deepest paths read ("profile.needs.itch", not "profile" too); comprehension variables are not facts.
    leaves = [path for path in generator.references if path.split(".")[0] in variables
              and not any(other.startswith(path + ".") for other in generator.references)]
    getters = {path: _getter(path, variables) for path in leaves}
    return Expression(source=text, result_type=result, python=python, references=leaves,
                      _function=namespace["_expression"], _getters=getters)
