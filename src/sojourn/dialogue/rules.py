"""A rule as written (JSON) → checked → compiled, and a rule set indexed by trigger.

    {"key": "itch-tips", "name": "Itch tips for itchy patients",
     "trigger": {"events": ["questionnaire.completed"]},       # or {"after": "enrollment.completed", "delay": "72h"}
                                                               # or {"schedule": {"at": "09:00", "days": [1, 4]}}
                                                               # or {"follow_up": true}
     "condition": "profile.needs.itch >= 0.6",
     "actions": [{"do": "send", "channel": "sms", "content": "itch-tips-1"}],
     "priority": 10, "caps": {"sms": {"day": 1, "week": 3}},
     "active_from": "2026-01-01", "active_until": null}

Every problem is reported with where it is: `rules[2].condition: line 1, column 15: unknown field …`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sojourn.dialogue.cel import CelSyntaxError, CelTypeError, Expression, compile_expression
from sojourn.dialogue.cel.runtime import CelError, to_duration
from sojourn.dialogue.cel.types import BOOL, DOUBLE, DYN, INT, STRING, TIMESTAMP, Type, list_of, map_of, obj
from sojourn.tracking.event_types import EventTypeSpec

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
CHANNELS = ("web", "email", "sms", "print", "phone")
ACTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    # action: required parameters and their types
    "send": {"channel": str, "content": str},
    "nurse_task": {"reason": str},
    "print": {"content": str},
    "set_stage": {"stage": str},
    "ask_questionnaire": {"questionnaire": str, "channel": str},
    "unlock_level": {"level": int},
    "set_flag": {"flag": str},
    "clear_flag": {"flag": str},
    "follow_up": {"rule": str, "delay": str},
    "refer_safety": {"reason": str},
}
OPTIONAL = {"nurse_task": {"due_in": str, "script": str}, "send": {"lane": str}}
MAX_RULES = 200
MAX_ACTIONS = 10
_CEL_FIELD = {"string": STRING, "int": INT, "double": DOUBLE, "bool": BOOL, "timestamp": TIMESTAMP,
              "strings": list_of(STRING), "scores": map_of(STRING, DOUBLE)}


@dataclass(frozen=True)
class RuleProblem:
    where: str
    message: str
    line: int | None = None  # inside a condition
    column: int | None = None

    def __str__(self) -> str:
        at = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return f"{self.where}: {at}{self.message}"


class RuleSetInvalid(ValueError):
    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


@dataclass
class ProgramShape:
    """What rules of one program may refer to."""

    needs: list[str]
    stages: list[str]
    questionnaires: list[str]
    event_types: Mapping[str, EventTypeSpec]
    # Approved content → its channels, when checking rules being written; None when compiling a live
    # version (content withdrawn later is caught where it is delivered, with the reason).
    content: Mapping[str, tuple[str, ...]] | None = None
    levels: int = 9  # content levels 1…levels (as many as the program names, when it names them)


@dataclass
class Rule:
    key: str
    name: str
    trigger: str  # events, after, schedule, follow_up
    events: tuple[str, ...]
    delay: timedelta | None
    schedule_at: time | None
    schedule_days: tuple[int, ...]
    condition: Expression
    actions: list[dict[str, Any]]
    priority: int
    caps: dict[str, dict[str, int]]
    active_from: date | None
    active_until: date | None

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or day >= self.active_from) and \
            (self.active_until is None or day <= self.active_until)


@dataclass
class CompiledRuleSet:
    version_id: int
    rule_set_id: int
    rules: dict[str, Rule]
    by_event: dict[str, list[Rule]] = field(default_factory=dict)  # immediate: event type → rules by priority
    after_event: dict[str, list[Rule]] = field(default_factory=dict)  # delayed: event type → rules


def variables(shape: ProgramShape, event_types: tuple[str, ...]) -> dict[str, Type]:
    """The declared inputs of a rule: an unknown need or field is an error when the rule is saved."""
    out: dict[str, Type] = {
        "patient": obj("patient", {"country": STRING, "locale": STRING, "language": STRING, "time_zone": STRING,
                                   "days_enrolled": INT, "flags": list_of(STRING), "content_level": INT}),
        "profile": obj("profile", {"needs": obj("profile.needs", dict.fromkeys(shape.needs, DOUBLE)),
                                   "engagement": STRING, "stage": STRING, "interactions_30d": INT,
                                   "days_in_stage": INT}),
        "consents": obj("consents", {"purposes": list_of(STRING), "channels": list_of(STRING)}),
        "market": obj("market", {"country": STRING, "channels": list_of(STRING)}),
        "now": TIMESTAMP,
    }
    if event_types:
        if len(event_types) == 1 and event_types[0] in shape.event_types:
            spec = shape.event_types[event_types[0]]
            data: Type = obj(f"event.data of {spec.code}", {n: _CEL_FIELD[f.type] for n, f in spec.fields.items()},
                             optional={n for n, f in spec.fields.items() if not f.required})
        else:
            data = map_of(STRING, DYN)
        out["event"] = obj("event", {"type": STRING, "occurred_at": TIMESTAMP, "data": data})
    return out


def compile_rules(raw: Any, shape: ProgramShape, *, version_id: int = 0, rule_set_id: int = 0) -> CompiledRuleSet:
    """Check every rule and compile it; raises RuleSetInvalid listing every problem."""
    problems: list[RuleProblem] = []
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        raise RuleSetInvalid([RuleProblem("rules", f"a rule set is a list of at most {MAX_RULES} rules")])
    rules: dict[str, Rule] = {}
    keys: set[str] = set()
    for index, item in enumerate(raw):
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str) and key in keys:
            problems.append(RuleProblem(f"rules[{index}].key", f"{key} is used by another rule"))
        keys.add(key) if isinstance(key, str) else None
        rule = _rule(item, f"rules[{index}]", shape, problems)
        if rule is not None:
            rules[rule.key] = rule
    for index, item in enumerate(raw):
        for a, action in enumerate(item.get("actions", []) if isinstance(item, dict) else []):
            if isinstance(action, dict) and action.get("do") == "follow_up":
                target = rules.get(action.get("rule", ""))
                if target is None or target.trigger != "follow_up":
                    problems.append(RuleProblem(f"rules[{index}].actions[{a}].rule",
                                                "a follow-up names a rule of this set whose trigger is follow_up"))
    if problems:
        raise RuleSetInvalid(problems)
    compiled = CompiledRuleSet(version_id=version_id, rule_set_id=rule_set_id, rules=rules)
    by_event: dict[str, list[Rule]] = defaultdict(list)
    after_event: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules.values():
        for event_type in rule.events:
            (by_event if rule.trigger == "events" else after_event)[event_type].append(rule)
    compiled.by_event = {k: sorted(v, key=lambda r: -r.priority) for k, v in by_event.items()}
    compiled.after_event = dict(after_event)
    return compiled


def _rule(item: Any, where: str, shape: ProgramShape, problems: list[RuleProblem]) -> Rule | None:
    start = len(problems)
    if not isinstance(item, dict):
        problems.append(RuleProblem(where, "a rule is an object"))
        return None
    unknown = set(item) - {"key", "name", "trigger", "condition", "actions", "priority", "caps", "active_from",
                           "active_until"}
    for name in sorted(unknown):
        problems.append(RuleProblem(f"{where}.{name}", "not a part of a rule"))
    key = item.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        problems.append(RuleProblem(f"{where}.key", "a key is lower-case letters, digits and '-' (at most 60)"))
    name = item.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        problems.append(RuleProblem(f"{where}.name", "a name is text of at most 200 characters"))
    trigger, events, delay, at, days = _trigger(item.get("trigger"), f"{where}.trigger", shape, problems)
    condition_text = item.get("condition", "true")
    condition = None
    if not isinstance(condition_text, str):
        problems.append(RuleProblem(f"{where}.condition", "a condition is a CEL expression in a string"))
    else:
        try:
            condition = compile_expression(condition_text or "true", variables(shape, events))
        except CelSyntaxError as error:
            problems.append(RuleProblem(f"{where}.condition", error.message, error.line, error.column))
        except CelTypeError as error:
            problems.extend(RuleProblem(f"{where}.condition", p.message, p.line, p.column) for p in error.problems)
    actions = _actions(item.get("actions"), f"{where}.actions", shape, problems)
    priority = item.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -1000 <= priority <= 1000:
        problems.append(RuleProblem(f"{where}.priority", "a priority is a whole number from -1000 to 1000"))
    caps = _caps(item.get("caps", {}), f"{where}.caps", problems)
    window = []
    for part in ("active_from", "active_until"):
        value = item.get(part)
        try:
            window.append(date.fromisoformat(value) if value else None)
        except (TypeError, ValueError):
            problems.append(RuleProblem(f"{where}.{part}", "a date such as 2026-01-31"))
            window.append(None)
    if window[0] and window[1] and window[1] < window[0]:
        problems.append(RuleProblem(f"{where}.active_until", "ends before it starts"))
    if len(problems) > start or condition is None:
        return None
    return Rule(key=key, name=name, trigger=trigger, events=events, delay=delay, schedule_at=at, schedule_days=days,
                condition=condition, actions=actions, priority=priority, caps=caps, active_from=window[0],
                active_until=window[1])


def _trigger(raw: Any, where: str, shape: ProgramShape, problems: list[RuleProblem]
             ) -> tuple[str, tuple[str, ...], timedelta | None, time | None, tuple[int, ...]]:
    if not isinstance(raw, dict) or len(raw) != (2 if "after" in (raw or {}) else 1):
        problems.append(RuleProblem(where, "a trigger is one of {events: [...]}, {after: type, delay: \"72h\"}, "
                                           "{schedule: {at: \"09:00\", days: [1..7]}}, {follow_up: true}"))
        return "events", (), None, None, ()
    if "events" in raw:
        events = raw["events"]
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            problems.append(RuleProblem(f"{where}.events", "a list of event types"))
            return "events", (), None, None, ()
        for event_type in events:
            if event_type not in shape.event_types:
                problems.append(RuleProblem(f"{where}.events", f"{event_type} is not an event type of this program"))
        return "events", tuple(events), None, None, ()
    if "after" in raw:
        event_type, delay_text = raw.get("after"), raw.get("delay")
        if event_type not in shape.event_types:
            problems.append(RuleProblem(f"{where}.after", f"{event_type} is not an event type of this program"))
        delay = None
        try:
            delay = to_duration(delay_text)
            if not timedelta(minutes=1) <= delay <= timedelta(days=400):
                raise CelError("out of range")
        except CelError:
            problems.append(RuleProblem(f"{where}.delay", "a delay from 1m to 9600h, such as \"72h\" or \"30m\""))
        return "after", (str(event_type),), delay, None, ()
    if "schedule" in raw:
        schedule = raw["schedule"]
        at, days = None, ()
        if not isinstance(schedule, dict):
            problems.append(RuleProblem(f"{where}.schedule", "{at: \"09:00\", days: [1, 2, 3, 4, 5]}"))
            return "schedule", (), None, None, ()
        try:
            at = time.fromisoformat(schedule.get("at", ""))
        except (TypeError, ValueError):
            problems.append(RuleProblem(f"{where}.schedule.at", "a time of day such as 09:00 (patient's local time)"))
        days = schedule.get("days", [1, 2, 3, 4, 5, 6, 7])
        if not isinstance(days, list) or not days or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            problems.append(RuleProblem(f"{where}.schedule.days", "ISO weekdays, 1 (Monday) to 7 (Sunday)"))
            days = []
        return "schedule", (), None, at, tuple(days)
    if raw.get("follow_up") is True:
        return "follow_up", (), None, None, ()
    problems.append(RuleProblem(where, "unknown trigger"))
    return "events", (), None, None, ()


def _actions(raw: Any, where: str, shape: ProgramShape, problems: list[RuleProblem]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ACTIONS:
        problems.append(RuleProblem(where, f"from 1 to {MAX_ACTIONS} actions"))
        return []
    out = []
    for index, action in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(action, dict) or action.get("do") not in ACTIONS:
            problems.append(RuleProblem(f"{here}.do", f"one of {', '.join(ACTIONS)}"))
            continue
        kind = action["do"]
        allowed = {"do", *ACTIONS[kind], *OPTIONAL.get(kind, {})}
        for extra in sorted(set(action) - allowed):
            problems.append(RuleProblem(f"{here}.{extra}", f"not a parameter of {kind}"))
        for param, expected in {**ACTIONS[kind], **OPTIONAL.get(kind, {})}.items():
            value = action.get(param)
            if value is None and param in OPTIONAL.get(kind, {}):
                continue
            if not isinstance(value, expected) or isinstance(value, bool) or (isinstance(value, str) and
                                                                            not 0 < len(value) <= 120):
                problems.append(RuleProblem(f"{here}.{param}", f"{kind} needs {param}"))
        if problems and problems[-1].where.startswith(here):
            continue
        problem = _action_reference(kind, action, shape)
        if problem:
            problems.append(RuleProblem(here, problem))
            continue
        out.append(dict(action))
    return out


def _action_reference(kind: str, action: dict[str, Any], shape: ProgramShape) -> str:
    if "channel" in action and action["channel"] not in CHANNELS:
        return f"channel {action['channel']} is not one of {', '.join(CHANNELS)}"
    if kind == "set_stage" and action["stage"] not in shape.stages:
        return f"{action['stage']} is not a stage of this program (stages: {', '.join(shape.stages) or 'none'})"
    if kind == "ask_questionnaire" and action["questionnaire"] not in shape.questionnaires:
        return f"{action['questionnaire']} is not an approved questionnaire of this program"
    if kind == "ask_questionnaire" and action["channel"] not in {"web", "sms"}:
        return "a questionnaire is asked on the personal page (web) or by text message (sms)"
    if kind == "unlock_level" and not 1 <= action["level"] <= shape.levels:
        return f"a content level from 1 to {shape.levels}"
    if kind in {"follow_up", "nurse_task"} and action.get("delay" if kind == "follow_up" else "due_in"):
        try:
            to_duration(action["delay" if kind == "follow_up" else "due_in"])
        except CelError as error:
            return str(error)
    if kind == "send" and action.get("lane") not in (None, "urgent", "normal"):
        return "lane is urgent or normal"
    if kind in {"send", "print"} and not KEY.match(action["content"]):
        return "content is named by its key (lower-case letters, digits and '-')"
    if shape.content is not None:
        wanted = [(action["content"], action.get("channel", "print"))] if kind in {"send", "print"} else []
        if kind == "nurse_task" and action.get("script"):
            wanted.append((action["script"], "phone"))
        for code, channel in wanted:
            channels = shape.content.get(code)
            if channels is None:
                return f"content {code} has no approved, unexpired version in the content library"
            if channel not in channels:
                return f"content {code} cannot go on {channel} (it may go on {', '.join(channels)})"
    return ""


def _caps(raw: Any, where: str, problems: list[RuleProblem]) -> dict[str, dict[str, int]]:
    if not isinstance(raw, dict):
        problems.append(RuleProblem(where, "caps are {channel: {day: n, week: n}}"))
        return {}
    out: dict[str, dict[str, int]] = {}
    for channel, limits in raw.items():
        if channel not in CHANNELS or not isinstance(limits, dict) or not limits or \
                not all(k in {"day", "week"} and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100
                        for k, v in limits.items()):
            problems.append(RuleProblem(f"{where}.{channel}", "a channel with {day: n, week: n} (0 to 100)"))
            continue
        out[channel] = dict(limits)
    return out
