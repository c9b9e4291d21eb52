"""CEL syntax: the tokens and the tree of an expression, with the line and column of every node.

The grammar is CEL's own (https://github.com/google/cel-spec/blob/master/doc/langdef.md), reduced to
the subset documented in docs/rules.md. Parsing never evaluates anything; the tree is checked by
`checker` and turned into Python by `compiler`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_LENGTH = 4000  # characters in one expression
MAX_DEPTH = 60  # nesting of the tree: deeper is refused before Python's own stack is at risk


class CelSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class Token:
    kind: str  # int, double, string, ident, reserved, op, eof
    value: Any
    line: int
    column: int


_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n\f]+|//[^\n]*)
  | (?P<bytes>(?:[bB][rR]?|[rR][bB])(?=['"]))
  | (?P<double>(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<hex>0[xX][0-9a-fA-F]+)(?P<hexu>[uU])?
  | (?P<int>\d+)(?P<intu>[uU])?
  | (?P<string>[rR]?(?:\"\"\"|'''|"|'))
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%!<>?:.,()\[\]{}])
""", re.VERBOSE)

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}
# Reserved words are not names, but CEL allows them after a dot: `m.if` selects the key "if", `x.for()`
# calls a function named for.
RESERVED = {"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
            "package", "namespace", "return", "var", "void", "while"}
NOT_IN_SUBSET = "not part of Sojourn's rule language"


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise CelSyntaxError(f"the expression is longer than {MAX_LENGTH} characters", 1, 1)
    tokens: list[Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        column = pos - line_start + 1
        if match is None:
            raise CelSyntaxError(f"unexpected character {text[pos]!r}", line, column)
        kind = match.lastgroup
        if kind in {"hexu", "intu"}:
            kind = "hex" if kind == "hexu" else "int"
        raw = match.group(0)
        if kind == "bytes":
            raise CelSyntaxError(f"bytes literals (b'…') are {NOT_IN_SUBSET}: write a string", line, column)
        if kind == "string":
            value, end = _read_string(text, pos, line, column)
            tokens.append(Token("string", value, line, column))
            raw = text[pos:end]
        elif kind == "space":
            pass
        elif kind in {"int", "hex"}:
            unsigned = raw[-1] in "uU"
            digits = raw[:-1] if unsigned else raw
            value = int(digits, 16 if kind == "hex" else 10)
            if unsigned:
                raise CelSyntaxError(f"unsigned integers (1u) are {NOT_IN_SUBSET}: write 1", line, column)
            tokens.append(Token("int", value, line, column))
        elif kind == "double":
            tokens.append(Token("double", float(raw), line, column))
        elif kind == "ident":
            tokens.append(Token("reserved" if raw in RESERVED else "ident", raw, line, column))
        else:
            tokens.append(Token("op", raw, line, column))
        newlines = raw.count("\n")
        if newlines:
            line += newlines
            line_start = pos + raw.rindex("\n") + 1
        pos += len(raw)
    tokens.append(Token("eof", None, line, pos - line_start + 1))
    return tokens


def _read_string(text: str, start: int, line: int, column: int) -> tuple[str, int]:
    pos = start
    raw = text[pos] in "rR"
    if raw:
        pos += 1
    quote = text[pos:pos + 3] if text[pos:pos + 3] in {'"""', "'''"} else text[pos]
    pos += len(quote)
    out: list[str] = []
    while True:
        if pos >= len(text) or (len(quote) == 1 and text[pos] == "\n"):
            raise CelSyntaxError("the string is not closed", line, column)
        if text.startswith(quote, pos):
            return "".join(out), pos + len(quote)
        char = text[pos]
        if char == "\\" and not raw:
            nxt = text[pos + 1:pos + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                pos += 2
                continue
            if nxt in "0123" and len(octal := text[pos + 1:pos + 4]) == 3 and all(c in "01234567" for c in octal):
                out.append(chr(int(octal, 8)))  # \000 to \377, as CEL has them: the code points U+0000 to U+00FF
                pos += 4
                continue
            width = {"x": 2, "X": 2, "u": 4, "U": 8}.get(nxt)
            digits = text[pos + 2:pos + 2 + width] if width else ""
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise CelSyntaxError(f"\\{nxt}{digits} is not a character", line, column)
                out.append(chr(code))
                pos += 2 + width
                continue
            raise CelSyntaxError(f"unknown escape \\{nxt}", line, column)
        out.append(char)
        pos += 1


# ---- the tree ------------------------------------------------------------------------------------

@dataclass(eq=False)
class Node:
    line: int
    column: int
    # Filled by the checker: the node's type and whether evaluating it can raise a CEL error.
    type: Any = field(default=None, init=False, repr=False)
    may_fail: bool = field(default=False, init=False, repr=False)


@dataclass(eq=False)
class Literal(Node):
    value: Any = None
    kind: str = "null"  # int, double, string, bool, null


@dataclass(eq=False)
class Ident(Node):
    name: str = ""


@dataclass(eq=False)
class Select(Node):
    operand: Node | None = None
    name: str = ""
    test_only: bool = False  # has(a.b)


@dataclass(eq=False)
class Index(Node):
    operand: Node | None = None
    index: Node | None = None


@dataclass(eq=False)
class Call(Node):
    function: str = ""
    target: Node | None = None  # receiver of "a.f(x)"
    args: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class ListLit(Node):
    items: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class MapLit(Node):
    entries: list[tuple[Node, Node]] = field(default_factory=list)


@dataclass(eq=False)
class Unary(Node):
    op: str = ""
    operand: Node | None = None


@dataclass(eq=False)
class Binary(Node):
    op: str = ""
    left: Node | None = None
    right: Node | None = None


@dataclass(eq=False)
class Ternary(Node):
    condition: Node | None = None
    then: Node | None = None
    otherwise: Node | None = None


@dataclass(eq=False)
class Comprehension(Node):
    macro: str = ""  # all, exists, exists_one, map, filter
    range: Node | None = None
    variable: str = ""
    body: Node | None = None
    transform: Node | None = None  # map(x, filter, transform) has both


MACROS = {"all", "exists", "exists_one", "map", "filter"}


class Parser:
    """Recursive descent over CEL's precedence: ?: < || < && < relations < + - < * / % < unary < member."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    def parse(self) -> Node:
        node = self.expression()
        token = self.peek()
        if token.kind != "eof":
            raise CelSyntaxError(f"unexpected {self._describe(token)} after the end of the expression",
                                 token.line, token.column)
        return node

    # -- token helpers
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, op: str) -> Token | None:
        token = self.peek()
        if token.kind == "op" and token.value == op:
            self.pos += 1
            return token
        return None

    def expect(self, op: str, what: str = "") -> Token:
        token = self.accept(op)
        if token is None:
            found = self.peek()
            raise CelSyntaxError(f"expected {op!r}{' ' + what if what else ''}, found {self._describe(found)}",
                                 found.line, found.column)
        return token

    @staticmethod
    def _describe(token: Token) -> str:
        if token.kind == "eof":
            return "end of the expression"
        if token.kind == "string":
            return "a string"
        return repr(str(token.value))

    def _deeper(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CelSyntaxError(f"the expression is nested more than {MAX_DEPTH} levels deep",
                                 token.line, token.column)

    # -- grammar
    def expression(self) -> Node:
        start = self.peek()
        self._deeper(start)
        condition = self.or_()
        if self.accept("?"):
            then = self.or_()
            self.expect(":", "in a conditional expression")
            otherwise = self.expression()
            node: Node = Ternary(start.line, start.column, condition=condition, then=then, otherwise=otherwise)
        else:
            node = condition
        self.depth -= 1
        return node

    def or_(self) -> Node:
        node = self.and_()
        while (token := self.accept("||")) is not None:
            node = Binary(token.line, token.column, op="||", left=node, right=self.and_())
        return node

    def and_(self) -> Node:
        node = self.relation()
        while (token := self.accept("&&")) is not None:
            node = Binary(token.line, token.column, op="&&", left=node, right=self.relation())
        return node

    def relation(self) -> Node:
        node = self.additive()
        while True:
            token = self.peek()
            is_in = token.kind == "ident" and token.value == "in"
            if is_in or (token.kind == "op" and token.value in {"==", "!=", "<", "<=", ">", ">="}):
                self.take()
                node = Binary(token.line, token.column, op="in" if is_in else token.value, left=node,
                              right=self.additive())
            else:
                return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while (token := self.accept("+") or self.accept("-")) is not None:
            node = Binary(token.line, token.column, op=token.value, left=node, right=self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while (token := self.accept("*") or self.accept("/") or self.accept("%")) is not None:
            node = Binary(token.line, token.column, op=token.value, left=node, right=self.unary())
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.value in {"!", "-"}:
            self.take()
            self._deeper(token)
            operand = self.unary()
            self.depth -= 1
            # -9223372036854775808 is a literal, not the negation of a number too large for int64.
            if token.value == "-" and isinstance(operand, Literal) and operand.kind in {"int", "double"} \
                    and (operand.line, operand.column) == (token.line, token.column + 1):
                operand.value = -operand.value
                operand.line, operand.column = token.line, token.column
                return operand
            return Unary(token.line, token.column, op=token.value, operand=operand)
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            token = self.peek()
            if self.accept("."):
                name = self.take()
                if name.kind not in {"ident", "reserved"}:
                    raise CelSyntaxError(f"expected a field or function name after '.', found {self._describe(name)}",
                                         name.line, name.column)
                if self.accept("("):
                    args = self.arguments(")")
                    node = self.call_or_macro(name, node, args)
                else:
                    node = Select(name.line, name.column, operand=node, name=name.value)
            elif self.accept("["):
                index = self.expression()
                self.expect("]", "to close the index")
                node = Index(token.line, token.column, operand=node, index=index)
            elif token.kind == "op" and token.value == "{" and isinstance(node, Ident | Select):
                raise CelSyntaxError(f"protobuf messages ({_path_text(node)}{{…}}) are {NOT_IN_SUBSET}",
                                     token.line, token.column)
            else:
                return node

    def arguments(self, closing: str) -> list[Node]:
        args: list[Node] = []
        if self.accept(closing):
            return args
        while True:
            args.append(self.expression())
            if self.accept(closing):
                return args
            self.expect(",", f"or {closing!r} between arguments")
            if self.accept(closing):  # trailing comma
                return args

    def call_or_macro(self, name: Token, target: Node | None, args: list[Node]) -> Node:
        if target is None and name.value == "has":
            if len(args) != 1 or not isinstance(args[0], Select):
                raise CelSyntaxError("has() takes one field selection, such as has(event.data.score)",
                                     name.line, name.column)
            selected = args[0]
            selected.test_only = True
            return selected
        if target is not None and name.value in MACROS:
            if len(args) not in {2, 3} or not isinstance(args[0], Ident) or \
                    (len(args) == 3 and name.value != "map"):
                raise CelSyntaxError(f"{name.value}() takes a variable name and an expression, such as "
                                     f"{name.value}(x, x > 0)", name.line, name.column)
            variable = args[0].name
            if len(args) == 3:
                return Comprehension(name.line, name.column, macro="map", range=target, variable=variable,
                                     body=args[1], transform=args[2])
            return Comprehension(name.line, name.column, macro=name.value, range=target, variable=variable,
                                 body=args[1])
        return Call(name.line, name.column, function=name.value, target=target, args=args)

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "reserved":
            raise CelSyntaxError(f"{token.value!r} is a reserved word", token.line, token.column)
        if token.kind == "op" and token.value == "." and self.peek().kind == "ident":
            raise CelSyntaxError(f"absolute protobuf names (.{self.peek().value}…) are {NOT_IN_SUBSET}",
                                 token.line, token.column)
        if token.kind in {"int", "double", "string"}:
            return Literal(token.line, token.column, value=token.value, kind=token.kind)
        if token.kind == "ident":
            if token.value in {"true", "false"}:
                return Literal(token.line, token.column, value=token.value == "true", kind="bool")
            if token.value == "null":
                return Literal(token.line, token.column, value=None, kind="null")
            if self.accept("("):
                return self.call_or_macro(token, None, self.arguments(")"))
            return Ident(token.line, token.column, name=token.value)
        if token.kind == "op" and token.value == "(":
            node = self.expression()
            self.expect(")", "to close the parenthesis")
            return node
        if token.kind == "op" and token.value == "[":
            return ListLit(token.line, token.column, items=self.arguments("]"))
        if token.kind == "op" and token.value == "{":
            entries: list[tuple[Node, Node]] = []
            if not self.accept("}"):
                while True:
                    key = self.expression()
                    self.expect(":", "between a key and its value")
                    entries.append((key, self.expression()))
                    if self.accept("}"):
                        break
                    self.expect(",", "or '}' between entries")
                    if self.accept("}"):
                        break
            return MapLit(token.line, token.column, entries=entries)
        raise CelSyntaxError(f"unexpected {self._describe(token)}", token.line, token.column)


def _path_text(node: Node) -> str:
    if isinstance(node, Select) and node.operand is not None:
        return f"{_path_text(node.operand)}.{node.name}"
    return node.name if isinstance(node, Ident) else "…"


def parse(text: str) -> Node:
    if not text.strip():
        raise CelSyntaxError("the expression is empty", 1, 1)
    return Parser(text).parse()
