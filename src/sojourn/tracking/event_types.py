"""The registry of event types: what each touchpoint event carries, checked field by field.

Built-in types cover the channels and the patient's own actions; a program adds its own types
(`define_event_type`). Event data never holds personal data: ids of content and messages, codes,
numbers. `internal` types are written only by the platform itself (a consent change must come
through the consent services), so the API refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FIELD_TYPES = ("string", "int", "double", "bool", "timestamp", "strings", "scores")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 30
MAX_LIST = 50


@dataclass(frozen=True)
class FieldSpec:
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 120

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "required": self.required}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.type in {"string", "strings"}:
            out["max_length"] = self.max_length
        return out


@dataclass(frozen=True)
class EventTypeSpec:
    code: str
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    meaningful: bool = False  # the patient did something: counts towards engagement
    internal: bool = False
    description: str = ""


def _f(type_: str, required: bool = False, choices: tuple[str, ...] = (), max_length: int = 120) -> FieldSpec:
    return FieldSpec(type_, required, choices, max_length)


_CONTENT = {"content": _f("string", True), "needs": _f("strings"), "channel": _f("string"), "level": _f("int")}
_MESSAGE = {"message": _f("string", True), "channel_message_id": _f("string"), "content": _f("string")}

BUILTIN: dict[str, EventTypeSpec] = {spec.code: spec for spec in [
    EventTypeSpec("portal.page_viewed", {"page": _f("string", True)}, meaningful=True,
                  description="The patient opened a page of the portal."),
    EventTypeSpec("content.viewed", _CONTENT, meaningful=True, description="A content item was shown and read."),
    EventTypeSpec("content.completed", _CONTENT, meaningful=True,
                  description="A content item was read or watched to the end."),
    EventTypeSpec("content.rated", {**_CONTENT, "helpful": _f("bool", True)}, meaningful=True,
                  description="The patient said whether a content item helped."),
    EventTypeSpec("email.delivered", _MESSAGE),
    EventTypeSpec("email.opened", _MESSAGE, meaningful=True),
    EventTypeSpec("email.clicked", {**_MESSAGE, "link": _f("string"), "needs": _f("strings")}, meaningful=True),
    EventTypeSpec("email.bounced", {**_MESSAGE, "bounce": _f("string", True, ("hard", "soft"))}),
    EventTypeSpec("email.replied", {"message": _f("string"), "content": _f("string")}, meaningful=True,
                  description="The patient replied to an email (the email answered, never the words)."),
    EventTypeSpec("sms.delivered", _MESSAGE),
    EventTypeSpec("sms.received", {"keyword": _f("string", max_length=40), "message": _f("string")},
                  meaningful=True, description="The patient replied by SMS (the keyword only, never the text)."),
    EventTypeSpec("call.completed", {"outcome": _f("string", True, ("reached", "voicemail", "call_back",
                                                                    "unreachable")),
                                     "duration_s": _f("int"), "needs": _f("strings"), "task": _f("string")},
                  meaningful=True),
    EventTypeSpec("print.delivered", {"issue": _f("string", True), "message": _f("string")}),
    EventTypeSpec("questionnaire.completed", {"questionnaire": _f("string", True), "scores": _f("scores"),
                                              "flags": _f("strings", max_length=40)},
                  meaningful=True, internal=True),
    EventTypeSpec("medication.taken", {"product": _f("string"), "dose": _f("string")}, meaningful=True),
    EventTypeSpec("medication.missed", {"product": _f("string"), "reason": _f("string", max_length=40)}),
    EventTypeSpec("enrollment.completed", {"method": _f("string")}, internal=True),
    EventTypeSpec("consent.given", {"purposes": _f("strings")}, internal=True),
    EventTypeSpec("consent.withdrawn", {"purposes": _f("strings"), "everything": _f("bool")}, internal=True),
    EventTypeSpec("stage.changed", {"stage": _f("string", True), "previous": _f("string")}, internal=True),
]}


def spec_from_dict(code: str, raw: Mapping[str, Any], *, meaningful: bool = False,
                   description: str = "") -> tuple[EventTypeSpec | None, list[tuple[str, str]]]:
    """A program's own event type from its declaration: problems are (field, message)."""
    problems: list[tuple[str, str]] = []
    if not CODE_PATTERN.match(code or "") or len(code) > 60:
        problems.append(("code", "an event type is named like 'diary.entry': lower-case words joined by dots"))
    elif code in BUILTIN:
        problems.append(("code", f"{code} is a built-in event type"))
    if not isinstance(raw, Mapping) or len(raw) > MAX_FIELDS:
        problems.append(("fields", f"fields are an object of at most {MAX_FIELDS} entries"))
        return None, problems
    fields: dict[str, FieldSpec] = {}
    for name, declared in raw.items():
        where = f"fields.{name}"
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append((where, "a field name is lower-case letters, digits and _ (at most 40)"))
            continue
        if not isinstance(declared, Mapping) or declared.get("type") not in FIELD_TYPES:
            problems.append((where, f"type must be one of {', '.join(FIELD_TYPES)}"))
            continue
        choices = declared.get("choices") or ()
        if not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices):
            problems.append((where, "choices are a list of strings"))
            continue
        max_length = declared.get("max_length", 120)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= 1000:
            problems.append((where, "max_length is a whole number from 1 to 1000"))
            continue
        fields[name] = FieldSpec(declared["type"], bool(declared.get("required")), tuple(choices), max_length)
    if problems:
        return None, problems
    return EventTypeSpec(code, fields, meaningful=meaningful, description=description), []


def clean_data(spec: EventTypeSpec, data: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check an event's data against its type: (clean data, problems as (field, message))."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, [("data", "data must be an object")]
    problems: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    for name in data:
        if name not in spec.fields:
            known = ", ".join(spec.fields) or "none"
            problems.append((f"data.{name}", f"{spec.code} has no field {name} (fields: {known})"))
    for name, field_spec in spec.fields.items():
        where = f"data.{name}"
        if name not in data or data[name] is None:
            if field_spec.required:
                problems.append((where, "this field is required"))
            continue
        value, problem = _clean_value(field_spec, data[name])
        if problem:
            problems.append((where, problem))
        else:
            clean[name] = value
    return clean, problems


def _clean_value(spec: FieldSpec, value: Any) -> tuple[Any, str]:
    kind = spec.type
    if kind == "string":
        if not isinstance(value, str):
            return None, "must be a string"
        if len(value) > spec.max_length:
            return None, f"must be at most {spec.max_length} characters"
        if spec.choices and value not in spec.choices:
            return None, f"must be one of {', '.join(spec.choices)}"
        return value, ""
    if kind == "int":
        if isinstance(value, float) and value.is_integer():  # JSON Schema's integer: 3.0 is 3
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**53:
            return None, "must be a whole number"
        return value, ""
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e15:
            return None, "must be a number"
        return float(value), ""
    if kind == "bool":
        if not isinstance(value, bool):
            return None, "must be true or false"
        return value, ""
    if kind == "timestamp":
        if not isinstance(value, str):
            return None, "must be a timestamp such as 2026-01-31T09:00:00Z"
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None, "must be a timestamp such as 2026-01-31T09:00:00Z"
        if parsed.tzinfo is None:
            return None, "needs a time zone offset (Z or +01:00)"
        return value, ""
    if kind == "strings":
        if not isinstance(value, list) or len(value) > MAX_LIST or \
                not all(isinstance(v, str) and len(v) <= spec.max_length for v in value):
            return None, f"must be a list of at most {MAX_LIST} strings"
        if spec.choices and any(v not in spec.choices for v in value):
            return None, f"each must be one of {', '.join(spec.choices)}"
        return value, ""
    # scores: {"name": number}
    if not isinstance(value, dict) or len(value) > MAX_LIST or not all(
            isinstance(k, str) and len(k) <= 60 and not isinstance(v, bool) and isinstance(v, int | float)
            for k, v in value.items()):
        return None, f"must be an object of at most {MAX_LIST} names with numbers"
    return {k: float(v) for k, v in value.items()}, ""


# ---- the same declarations as JSON Schema, for the OpenAPI document and a program's own types ----------

def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    """One field of an event's data as JSON Schema: exactly what `_clean_value` accepts."""
    text: dict[str, Any] = {"type": "string", "maxLength": spec.max_length}
    if spec.choices:
        text["enum"] = list(spec.choices)
    schema: dict[str, Any] = {
        "string": text,
        "int": {"type": "integer", "minimum": -(2**53), "maximum": 2**53},
        "double": {"type": "number", "minimum": -1e15, "maximum": 1e15},
        "bool": {"type": "boolean"},
        "timestamp": {"type": "string", "format": "date-time", "description": "With a zone offset (Z or +01:00)"},
        "strings": {"type": "array", "maxItems": MAX_LIST, "items": text},
        "scores": {"type": "object", "maxProperties": MAX_LIST, "propertyNames": {"maxLength": 60},
                   "additionalProperties": {"type": "number"}},
    }[spec.type]
    # A field left out and a field sent as null are the same (clean_data): only required ones need a value.
    return schema if spec.required else {"anyOf": [schema, {"type": "null"}]}


def _envelope(type_schema: dict[str, Any], data: dict[str, Any], data_required: bool, title: str,
              description: str) -> dict[str, Any]:
    """An event: what `services.events._parse` reads, around its type's data."""
    return {
        "type": "object", "title": title, "description": description, "additionalProperties": False,
        "required": ["client_id", "type", "patient", "occurred_at", *(["data"] if data_required else [])],
        "properties": {
            "client_id": {"type": "string", "minLength": 1, "maxLength": 80, "not": {"pattern": r"^\s*$"},
                          "description": "Your own id for the event: sending it again changes nothing"},
            "type": type_schema,
            "patient": {"type": "string", "minLength": 1, "maxLength": 16, "description": "The patient's pseudonym"},
            "occurred_at": {"type": "string", "format": "date-time", "description": (
                "With a zone offset; at most 5 minutes ahead of the server's clock and not older than the late "
                "window (30 days unless SOJOURN_EVENT_LATE_DAYS says otherwise)")},
            "data": data,
        },
    }


def event_json_schema(spec: EventTypeSpec) -> dict[str, Any]:
    """An event of this type as JSON Schema, generated from its declaration (built in or a program's)."""
    required = [name for name, f in spec.fields.items() if f.required]
    data: dict[str, Any] = {"type": "object" if required else ["object", "null"], "additionalProperties": False,
                            "properties": {name: _field_schema(f) for name, f in spec.fields.items()}}
    if required:
        data["required"] = required
    return _envelope({"const": spec.code}, data, bool(required), spec.code, spec.description or spec.code)


PROGRAM_EVENT = "ProgramEvent"


def program_event_json_schema() -> dict[str, Any]:
    """An event of a type the program defined itself: the envelope is fixed, the data is what the program
    declared (GET /programs/{slug}/event-types gives each such type's own schema)."""
    anything = {"anyOf": [
        {"type": "string", "maxLength": 1000}, {"type": "number", "minimum": -(2**53), "maximum": 2**53},
        {"type": "boolean"}, {"type": "null"},
        {"type": "array", "maxItems": MAX_LIST, "items": {"type": "string", "maxLength": 1000}},
        {"type": "object", "maxProperties": MAX_LIST, "propertyNames": {"maxLength": 60},
         "additionalProperties": {"type": "number"}}]}
    type_schema = {"type": "string", "maxLength": 60, "pattern": CODE_PATTERN.pattern,
                   "not": {"enum": sorted(BUILTIN)}, "description": "A type the patient's program defined"}
    data = {"type": ["object", "null"], "maxProperties": MAX_FIELDS, "propertyNames": {"pattern": NAME_PATTERN.pattern},
            "additionalProperties": anything,
            "description": "The fields the program declared for this type, each checked as declared"}
    return _envelope(type_schema, data, False, PROGRAM_EVENT,
                     "An event of a type the program defined (see GET /programs/{slug}/event-types)")


def sendable_event_json_schema() -> dict[str, Any]:
    """Any event the API takes: one of the built-in types it may send (the internal ones are Sojourn's
    own), each by its `type`, or one of a type the program defined."""
    branches = [event_json_schema(spec) for spec in BUILTIN.values() if not spec.internal]
    # The types are distinct (a `const` each, and none of them for a program's), so exactly one matches.
    return {"oneOf": [*branches, program_event_json_schema()],
            "description": "A touchpoint event: a built-in type, by its `type`, or a type of the patient's program"}
