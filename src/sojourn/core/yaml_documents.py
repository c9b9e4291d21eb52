"""Human-written YAML documents (market packs, program definitions) read whole, with line numbers.

A document is validated before anything is written: every problem is reported at once with the
file, line and dotted field, so the person writing it fixes them in one pass. The types come from a
pydantic model; what the types cannot say (parts that must agree) from the caller's `semantic` check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from sojourn.core.errors import ErrorDetail
from sojourn.core.safe_yaml import compose_yaml, load_yaml

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]
Semantic = Callable[[M], Iterable[tuple[Loc, str]]]


@dataclass(frozen=True)
class DocumentProblem:
    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field or '(file)'}: {self.message}"

    def as_detail(self) -> ErrorDetail:
        return ErrorDetail(message=self.message, field=self.field or None, line=self.line)


@dataclass(frozen=True)
class DocumentReading(Generic[M]):
    """The outcome of reading a document: the document when valid, else every problem found."""

    path: str
    document: M | None
    problems: tuple[DocumentProblem, ...]
    sha256: str

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems


@dataclass
class _Walk:
    """What one walk over the composed nodes finds: each path's line, duplicate keys, and the values
    (or keys) a template left for a person to fill in."""

    placeholder: str | None
    marks: dict[Loc, int] = field(default_factory=dict)
    problems: list[tuple[Loc, int, str]] = field(default_factory=list)
    unfilled: list[Loc] = field(default_factory=list)

    def _template(self, text: Any, path: Loc, line: int) -> None:
        if self.placeholder and isinstance(text, str) and text.startswith(self.placeholder):
            self.unfilled.append(path)
            self.problems.append((path, line, f"still holds the template's placeholder {text}; write the real value"))

    def walk(self, node: yaml.Node, path: Loc = ()) -> None:
        self.marks[path] = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            self._template(node.value, path, node.start_mark.line + 1)
        elif isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.problems.append(((*path, key), line, f"appears twice (first on line {seen[key]})"))
                seen[key] = line
                self.marks[(*path, key)] = line
                self._template(key, (*path, key), line)
                self.walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*path, index))


def line_for(loc: Loc, marks: dict[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in marks:
            return marks[loc[:end]]
    return None


def dotted(loc: Loc) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def read_yaml_text(text: str, path: str, model: type[M], what: str, semantic: Semantic[M] | None = None,
                   placeholder: str | None = None) -> DocumentReading[M]:
    """Parse and validate a document's text; never raises for bad content, returns the problems.
    `what` names the document in messages ("a market pack"); a value starting with `placeholder` is
    a template's blank, refused as such (not for its type)."""
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def refused(*problems: DocumentProblem) -> DocumentReading[M]:
        return DocumentReading(path, None, problems, sha)

    try:
        node = compose_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return refused(DocumentProblem(path, mark.line + 1 if mark else None, "", f"not valid YAML: {exc.problem}"))
    except yaml.YAMLError as exc:
        return refused(DocumentProblem(path, None, "", f"not valid YAML: {exc}"))
    # A document is a mapping of fields, or a list when its model is one (a RootModel of a list).
    listed = getattr(model, "__pydantic_root_model__", False)
    if node is None or not isinstance(node, yaml.SequenceNode if listed else yaml.MappingNode):
        return refused(DocumentProblem(path, 1, "", f"{what} is a {'list' if listed else 'mapping of fields'}"))
    walked = _Walk(placeholder)
    walked.walk(node)
    marks = walked.marks
    problems = [DocumentProblem(path, line, dotted(loc), message) for loc, line, message in walked.problems]
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:  # composed but not constructible (an unknown tag, say)
        return refused(*problems, DocumentProblem(path, None, "", f"not valid YAML: {exc}"))
    try:
        document = model.model_validate(data)
    except PydanticValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            if any(loc[:len(where)] == where for where in walked.unfilled):
                continue  # already told: the placeholder is the problem, not its type
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"is not a field of {what}"
            problems.append(DocumentProblem(path, line_for(loc, marks), dotted(loc), message))
        return refused(*problems)
    for loc, message in (semantic(document) if semantic else ()):
        problems.append(DocumentProblem(path, line_for(loc, marks), dotted(loc), message))
    return DocumentReading(path, document if not problems else None, tuple(problems), sha)


def read_yaml_file(path: Path | str, model: type[M], what: str, semantic: Semantic[M] | None = None,
                   placeholder: str | None = None) -> DocumentReading[M]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DocumentReading(str(path), None, (DocumentProblem(str(path), None, "", "no such file"),), "")
    except UnicodeDecodeError:
        return DocumentReading(str(path), None, (DocumentProblem(str(path), None, "", "not UTF-8 text"),), "")
    except OSError as exc:
        problem = DocumentProblem(str(path), None, "", f"cannot be read: {exc.strerror}")
        return DocumentReading(str(path), None, (problem,), "")
    return read_yaml_text(text, str(path), model, what, semantic, placeholder)
