"""The engine: events and due agenda steps meet the live rules; what fires becomes decisions, outbox
messages, agenda items and state changes, all written in the caller's transaction.

A batch is evaluated in memory first (`Batch.fire`), then written in bulk (`Batch.flush`). The dry
run uses the same evaluation and never flushes. Ingestion evaluates a batch of events before they
are stored (outside the write transaction, see tracking/services/ingestion.py) and flushes it once
they are: the keys that name an event (`e<event id>:…`) are made then, and a patient whose state
moved in between is dropped from the batch (`Batch.drop`) and decided again under the lock.
Consent, channel and caps are checked when the action is decided; the outbox checks consent, quiet
hours and caps again when it delivers.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from sojourn.channels.models import OutboxMessage
from sojourn.channels.services.outbox import enqueue
from sojourn.consent.purposes import action_refusal
from sojourn.consent.queries import CHANNEL_PURPOSE, ContactFacts, contact_facts_for_ids
from sojourn.content.queries import usable_codes
from sojourn.core.actors import Actor
from sojourn.core.db import as_datetime, as_json, insert_rows, rows_for_ids, update_rows
from sojourn.core.models import Program, QueuedWork
from sojourn.dialogue.cel.runtime import to_duration
from sojourn.dialogue.models import AgendaItem, Decision, DialogueState, RuleSet, RuleSetVersion
from sojourn.dialogue.rules import CompiledRuleSet, ProgramShape, Rule, compile_rules
from sojourn.people.models import Patient
from sojourn.questionnaires.models import Questionnaire
from sojourn.tracking.hooks import PatientState, RecordedEvent
from sojourn.tracking.models import Need, Stage
from sojourn.tracking.scoring import engagement_level
from sojourn.tracking.services.events import event_types_for
from sojourn.tracking.services.profiles import raise_revisions

ENGINE = Actor.system("dialogue")
MAX_DEPTH = 3  # a rule that sets a stage records an event that may fire rules: three levels, no more
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("dialogue_depth", default=0)
_compiled: dict[tuple[int, str], CompiledRuleSet] = {}
CHANNEL_OF = {"nurse_task": "phone", "print": "print"}
_NOT_PAYLOAD = frozenset({"do", "channel", "lane"})
KIND_OF = {"send": "content", "nurse_task": "nurse_task", "print": "print_block", "ask_questionnaire": "questionnaire"}
# Skips that leave the patient as they were and tell nothing about them: a decision made only of these
# is not kept (a skip by consent, cap or contact times is: it says why a message was not sent).
UNCHANGED = frozenset({"already at this stage", "level already unlocked", "flag already set", "flag not set"})


def program_shape(program_id: int, *, with_content: bool = False) -> ProgramShape:
    """What the rules of a program may refer to: its needs, stages, approved questionnaires, event
    types and, when rules are being written, its approved content."""
    types = event_types_for({program_id})[program_id]
    return ProgramShape(
        needs=list(Need.objects.filter(program_id=program_id).values_list("code", flat=True)),
        stages=list(Stage.objects.filter(program_id=program_id).values_list("code", flat=True)),
        questionnaires=sorted(set(Questionnaire.objects.filter(program_id=program_id, status="approved")
                                  .values_list("name", flat=True))),
        event_types=types, content=usable_codes(program_id) if with_content else None,
        levels=len(Program.objects.get(pk=program_id).content_levels) or 9)


def compiled_version(version: RuleSetVersion, program_id: int) -> CompiledRuleSet:
    """Compiled once per process: a version's rules never change once it left draft (the hash says so)."""
    cached = _compiled.get((version.pk, version.sha256))
    if cached is None:
        cached = compile_rules(version.rules, program_shape(program_id), version_id=version.pk,
                               rule_set_id=version.rule_set_id)
        _compiled[(version.pk, version.sha256)] = cached
    return cached


def live_rule_sets(program_ids: set[int]) -> dict[int, list[CompiledRuleSet]]:
    out: dict[int, list[CompiledRuleSet]] = defaultdict(list)
    rows = rows_for_ids(
        f"SELECT v.id, v.sha256, r.program_id FROM {RuleSetVersion._meta.db_table} v "
        f"JOIN {RuleSet._meta.db_table} r ON r.id = v.rule_set_id WHERE v.status = %s AND r.program_id {{ids}} "
        "ORDER BY v.rule_set_id, v.number DESC", program_ids, ["live"])
    missing = [pk for pk, sha, _p in rows if (pk, sha) not in _compiled]
    versions = {v.pk: v for v in RuleSetVersion.objects.filter(pk__in=missing)} if missing else {}
    for pk, sha, program_id in rows:
        compiled = _compiled.get((pk, sha)) or compiled_version(versions[pk], program_id)
        out[program_id].append(compiled)
    return out


AGENDA_FIELDS = ["program", "patient", "rule_set", "rule_key", "kind", "payload", "due_at", "idempotency_key",
                 "created_at", "lane", "status", "attempts", "lease_owner", "last_error"]


def agenda_row(program_id: int, patient_id: int, rule_set_id: int, rule_key: str, kind: str, payload: dict[str, Any],
               due_at: datetime, key: str | Later, now: datetime) -> dict[str, Any]:
    return {"program": program_id, "patient": patient_id, "rule_set": rule_set_id, "rule_key": rule_key,
            "kind": kind, "payload": payload, "due_at": due_at, "idempotency_key": key, "created_at": now,
            "lane": 1, "status": "pending", "attempts": 0, "lease_owner": "", "last_error": ""}


@dataclass
class Remembered:
    """A patient's DialogueState row as the batch reads and changes it (no model objects on the hot path)."""

    pk: int | None
    patient_id: int
    flags: list[str]
    content_level: int
    updated_at: datetime | None


@dataclass
class Fired:
    """A rule that fired: becomes a Decision row when the batch is written. Fired on an event of a batch
    being ingested, its key and event id are known once the event is stored (`key_with`, `event_id`)."""

    program_id: int
    patient_id: int
    version_id: int
    rule_key: str
    agenda_item_id: int | None
    why: dict[str, Any]
    given_key: str | None = None
    given_event_id: int | None = None
    event: RecordedEvent | None = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    trigger: dict[str, Any] | None = None  # the event the rule met: its type and time (said on a nurse task)

    @property
    def event_id(self) -> int | None:
        return self.given_event_id if self.event is None else _stored(self.event)

    def key_with(self, before: str = "", after: str = "") -> str:
        """The decision's key (`e<event>:<version>:<rule>` unless given) with text around it."""
        if self.given_key:
            return f"{before}{self.given_key}{after}"
        return f"{before}e{self.event_id}:{self.version_id}:{self.rule_key}{after}"


def _stored(event: RecordedEvent) -> int:
    if event.pk is None:
        raise RuntimeError("a decision about an event was written before the event was stored")
    return event.pk


class Later:
    """A key made of a decision's or an event's key with text around it, made when the batch is written
    (`value`): an event being ingested has no id before it is stored."""

    __slots__ = ("after", "before", "ref")

    def __init__(self, before: str, ref: Fired | RecordedEvent, after: str = "") -> None:
        self.before, self.ref, self.after = before, ref, after

    def value(self) -> str:
        if isinstance(self.ref, Fired):
            return self.ref.key_with(self.before, self.after)
        return f"{self.before}{_stored(self.ref)}{self.after}"


@dataclass
class Outcome:
    do: str
    result: str  # queued, deferred, done, skipped
    reason: str = ""
    channel: str = ""


@dataclass
class Batch:
    """One batch of decisions, evaluated in memory and then written together."""

    now: datetime
    states: dict[int, PatientState]
    contact: dict[int, ContactFacts] = field(default_factory=dict)
    dialogue: dict[int, Remembered] = field(default_factory=dict)
    recent: dict[tuple[int, str], list[datetime]] = field(default_factory=dict)
    decisions: list[Fired] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    agenda: list[dict[str, Any]] = field(default_factory=list)
    stage_changes: list[tuple[int, str, str]] = field(default_factory=list)
    safety: list[tuple[int, str, dict[str, Any], Later]] = field(default_factory=list)
    dirty_state: set[int] = field(default_factory=set)
    revised: set[int] = field(default_factory=set)  # patients whose profile revision the caller raises anyway
    dry_run: bool = False
    contact_facts_cache: dict[int, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.today = self.now.date()  # rules' active windows are days: asked once per rule and event

    @classmethod
    def load(cls, states: dict[int, PatientState], now: datetime, dry_run: bool = False,
             rule_sets: list[CompiledRuleSet] | None = None) -> Batch:
        """Everything the rules and actions need about these patients, in a handful of queries.

        Recent messages are read only for the channels some rule caps (all channels when the rule
        sets are not given): they are what caps count."""
        batch = cls(now=now, states=states, dry_run=dry_run)
        batch.contact = contact_facts_for_ids(set(states))
        batch.dialogue = {pid: Remembered(pk, pid, as_json(flags), level, None)  # updated_at is only written
                          for pk, pid, flags, level in rows_for_ids(
                              "SELECT id, patient_id, flags, content_level "
                              f"FROM {DialogueState._meta.db_table} WHERE patient_id {{ids}}", states)}
        capped = None if rule_sets is None else {c for rs in rule_sets for r in rs.rules.values() for c in r.caps}
        if capped != set():
            channels = sorted(capped) if capped is not None else list(CHANNEL_PURPOSE)
            since = OutboxMessage._meta.get_field("created_at").get_db_prep_value(now - timedelta(days=7), connection)
            for patient_id, channel, created in rows_for_ids(
                    f"SELECT patient_id, channel, created_at FROM {OutboxMessage._meta.db_table} "
                    f"WHERE patient_id {{ids}} AND created_at >= %s AND status <> 'cancelled' "
                    f"AND channel IN ({', '.join(['%s'] * len(channels))})", states, [since, *channels]):
                batch.recent.setdefault((patient_id, channel), []).append(as_datetime(created))
        return batch

    # ---- facts
    def facts(self, state: PatientState, event: dict[str, Any] | None) -> dict[str, Any]:
        dialogue = self.dialogue.get(state.patient_id)
        cached = self.contact_facts_cache.get(state.patient_id)
        if cached is None:  # the same for every event of the batch
            contact = self.contact[state.patient_id]
            cached = ({"purposes": sorted(contact.purposes), "channels": contact.channels()},
                      {"country": contact.country, "channels": contact.market_channels})
            self.contact_facts_cache[state.patient_id] = cached
        consents, market = cached
        facts: dict[str, Any] = {
            "patient": {"country": state.country, "locale": state.locale, "language": state.locale.split("-")[0],
                        "time_zone": state.time_zone, "days_enrolled": max((self.now - state.enrolled_at).days, 0),
                        "flags": list(dialogue.flags) if dialogue else [],
                        "content_level": dialogue.content_level if dialogue else 1},
            # Engagement ages without events: a scheduled or delayed rule must see today's level.
            "profile": {"needs": state.needs, "stage": state.stage,
                        "engagement": engagement_level(self.now, state.last_meaningful_at, state.interactions_30d)
                        if state.last_meaningful_at else state.engagement,
                        "interactions_30d": state.interactions_30d,
                        "days_in_stage": (self.now - state.stage_since).days if state.stage_since else 0},
            "consents": consents,
            "market": market,
            "now": self.now,
        }
        if event is not None:
            facts["event"] = event
        return facts

    # ---- evaluation
    def fire(self, rule_set: CompiledRuleSet, rule: Rule, state: PatientState, facts: dict[str, Any], *,
             key: str | None = None, event_id: int | None = None, agenda_id: int | None = None) -> Fired | None:
        """Evaluate one rule on facts built by `facts()` (once per event, shared by its rules), with the
        decision's key given (an agenda step's, a dry run's)."""
        if state.status != Patient.Status.ACTIVE or not rule.active_on(self.today):
            return None
        if not rule.condition.matches(facts):
            return None
        return self.decide(rule_set, rule, state, facts, key=key, event_id=event_id, agenda_id=agenda_id)

    def decide(self, rule_set: CompiledRuleSet, rule: Rule, state: PatientState, facts: dict[str, Any], *,
               key: str | None = None, event_id: int | None = None, agenda_id: int | None = None,
               event: RecordedEvent | None = None) -> Fired:
        """A rule whose condition held (for an active patient, on a day it is active): the decision and
        what each of its actions did. Decided on an event, its key is the event's
        (`e<event>:<version>:<rule>`), made when the batch is written."""
        fired = Fired(program_id=state.program_id, patient_id=state.patient_id, version_id=rule_set.version_id,
                      rule_key=rule.key, agenda_item_id=agenda_id, why=rule.condition.explain(facts),
                      given_key=key, given_event_id=event_id, event=event)
        met = facts.get("event")
        if met:
            at = met.get("occurred_at")
            fired.trigger = {"type": met.get("type", ""), "at": at.isoformat() if isinstance(at, datetime) else str(at)}
        fired.outcomes = [self._act(rule_set, rule, state, action, fired, f":{n}").__dict__
                          for n, action in enumerate(rule.actions)]
        if not all(o["result"] == "skipped" and o["reason"] in UNCHANGED for o in fired.outcomes):
            self.decisions.append(fired)
        return fired

    def _act(self, rule_set: CompiledRuleSet, rule: Rule, state: PatientState, action: dict[str, Any], fired: Fired,
             suffix: str) -> Outcome:
        do = action["do"]
        pid = state.patient_id
        channel = CHANNEL_OF.get(do) or action.get("channel", "")
        # Every action kind declares the consent purposes it needs (consent.purposes.ACTION_PURPOSES).
        refused = action_refusal(do, self.contact[pid].purposes, channel)
        if refused:
            return Outcome(do, "skipped", refused, channel)
        if do in KIND_OF:
            return self._message(rule, state, action, fired, suffix)
        if do == "set_stage":
            if state.stage == action["stage"]:
                return Outcome(do, "skipped", "already at this stage")
            self.stage_changes.append((pid, action["stage"], f"rule {rule.key}"))
            state.stage = action["stage"]
            return Outcome(do, "done")
        if do in {"set_flag", "clear_flag", "unlock_level"}:
            dialogue = self.dialogue.get(pid) or Remembered(None, pid, [], 1, self.now)
            self.dialogue[pid] = dialogue
            if do == "unlock_level":
                if dialogue.content_level >= action["level"]:
                    return Outcome(do, "skipped", "level already unlocked")
                dialogue.content_level = action["level"]
            elif do == "set_flag":
                if action["flag"] in dialogue.flags:
                    return Outcome(do, "skipped", "flag already set")
                dialogue.flags = [*dialogue.flags, action["flag"]]
            else:
                if action["flag"] not in dialogue.flags:
                    return Outcome(do, "skipped", "flag not set")
                dialogue.flags = [f for f in dialogue.flags if f != action["flag"]]
            self.dirty_state.add(pid)
            return Outcome(do, "done")
        if do == "follow_up":
            self.agenda.append(agenda_row(state.program_id, pid, rule_set.rule_set_id, action["rule"], "follow_up",
                                          {"from": rule.key}, self.now + to_duration(action["delay"]),
                                          Later("fu:", fired, suffix), self.now))
            return Outcome(do, "queued")
        # refer_safety
        self.safety.append((pid, action["reason"], {"rule": rule.key}, Later("safety:", fired, suffix)))
        return Outcome(do, "done")

    def _message(self, rule: Rule, state: PatientState, action: dict[str, Any], fired: Fired, suffix: str
                 ) -> Outcome:
        do = action["do"]
        channel = CHANNEL_OF.get(do) or action["channel"]
        contact = self.contact[state.patient_id]
        # A nurse task is not a call: it joins the queue at once, and quiet hours and contact times
        # only push its deadline (`call_by`) to when the patient may be called.
        queue_only = do == "nurse_task"
        check = contact.check(channel, self.now, ignore_quiet_hours=queue_only)
        due = self.now
        result = "queued"
        if not check.allowed:
            later = contact.next_allowed(channel, self.now)
            if later is None:
                return Outcome(do, "skipped", check.reason, channel)
            due, result = later, "deferred"
        sent = self.recent.setdefault((state.patient_id, channel), [])
        cap = rule.caps.get(channel, {})
        if "day" in cap and sum(1 for at in sent if at > self.now - timedelta(days=1)) >= cap["day"]:
            return Outcome(do, "skipped", f"cap: {cap['day']} {channel} a day", channel)
        if "week" in cap and len([at for at in sent if at > self.now - timedelta(days=7)]) >= cap["week"]:
            return Outcome(do, "skipped", f"cap: {cap['week']} {channel} a week", channel)
        sent.append(self.now)
        payload = {k: v for k, v in action.items() if k not in _NOT_PAYLOAD}
        if queue_only:  # the call joins the queue now; due_in is the time the nurse has to make it
            callable_from = contact.next_allowed(channel, self.now) or self.now
            payload["call_by"] = max(callable_from, self.now + to_duration(action.get("due_in") or "24h")).isoformat()
            # Why the nurse is to call, said on the call's page: the rule, the event it met, what it read.
            payload["because"] = {"rule": rule.key, "rule_name": rule.name, "event": fired.trigger,
                                  "values": fired.why}
        if cap:  # checked again when it leaves: deferred messages must not bunch up past the cap
            payload["cap"] = dict(cap)
        lane = QueuedWork.Lane.URGENT if action.get("lane") == "urgent" else QueuedWork.Lane.NORMAL
        self.messages.append({"program": state.program_id, "patient": state.patient_id, "channel": channel,
                              "kind": KIND_OF[do], "payload": payload, "rule_key": rule.key, "due_at": due,
                              "lane": int(lane), "idempotency_key": Later("out:", fired, suffix),
                              "created_at": self.now, "decision_key": Later("", fired)})
        return Outcome(do, result, "" if result == "queued" else check.reason, channel)

    # ---- writing
    def __getstate__(self) -> dict[str, Any]:
        """What `drop` and `flush` need, when a helper process decided the batch and this one writes it
        (tracking.services.stream): not what was read to decide."""
        return {**self.__dict__, "contact": {}, "recent": {}, "contact_facts_cache": {}}

    def drop(self, patient_ids: set[int]) -> None:
        """Forget what was decided about these patients: their state moved since it was read, and they
        are decided again from what is stored."""
        if not patient_ids:
            return
        self.decisions = [d for d in self.decisions if d.patient_id not in patient_ids]
        self.messages = [m for m in self.messages if m["patient"] not in patient_ids]
        self.agenda = [a for a in self.agenda if a["patient"] not in patient_ids]
        self.stage_changes = [c for c in self.stage_changes if c[0] not in patient_ids]
        self.safety = [s for s in self.safety if s[0] not in patient_ids]
        self.dirty_state -= patient_ids

    def flush(self) -> None:
        """Write what the batch decided, in the caller's transaction (nothing when it is a dry run)."""
        if self.dry_run:
            return
        # What a batch being prepared elsewhere read about these patients (flags, content level, what
        # caps count) changes: it must decide about them again (tracking.services.ingestion).
        moved = (self.dirty_state | {m["patient"] for m in self.messages if "cap" in m["payload"]}) - self.revised
        if moved:
            raise_revisions(moved, self.now)
        insert_rows(Decision, ["key", "program", "patient", "version", "rule_key", "event_id", "agenda_item_id",
                               "decided_at", "why", "outcomes"],
                    [(d.key_with(), d.program_id, d.patient_id, d.version_id, d.rule_key, d.event_id,
                      d.agenda_item_id, self.now, d.why, d.outcomes) for d in self.decisions],
                    skip_conflicts_on="key")
        for row in self.messages:
            row["idempotency_key"], row["decision_key"] = row["idempotency_key"].value(), row["decision_key"].value()
        enqueue(self.messages)
        for row in self.agenda:
            if isinstance(row["idempotency_key"], Later):
                row["idempotency_key"] = row["idempotency_key"].value()
            event = row["payload"].get("event")
            if isinstance(event, RecordedEvent):
                row["payload"] = {**row["payload"], "event": _stored(event)}
        insert_rows(AgendaItem, AGENDA_FIELDS, [[row[f] for f in AGENDA_FIELDS] for row in self.agenda],
                    skip_conflicts_on="idempotency_key")
        if self.dirty_state:
            changed = [self.dialogue[pid] for pid in sorted(self.dirty_state)]
            insert_rows(DialogueState, ["patient", "flags", "content_level", "updated_at"],
                        [(s.patient_id, s.flags, s.content_level, self.now) for s in changed if s.pk is None])
            update_rows(DialogueState, ["flags", "content_level", "updated_at"],
                        [(s.flags, s.content_level, self.now, s.pk) for s in changed if s.pk is not None])
        if self.stage_changes:
            move_stages(self.stage_changes, self.now)
        if self.safety:
            refer_all_to_safety([(pid, reason, detail, key.value()) for pid, reason, detail, key in self.safety],
                                self.now)


def move_stages(items: list[tuple[int, str, str]], now: datetime) -> None:
    """Stage changes rules decided: (patient, stage, why) each."""
    from sojourn.tracking.services.profiles import move_stages_by_rules

    patients = _patients({pid for pid, *_rest in items})
    with _deeper():
        move_stages_by_rules([(patients[pid], stage, reason) for pid, stage, reason in items], now=now)


def refer_all_to_safety(items: list[tuple[int, str, dict[str, Any], str]], now: datetime) -> None:
    """Safety intakes rules decided: (patient, reason, detail, key) each. Day zero is the batch's time,
    when the program received what the rule read."""
    from sojourn.safety.services import record_intake

    patients = _patients({pid for pid, *_rest in items})
    with _deeper():
        for pid, reason, detail, key in items:
            record_intake(actor=ENGINE, patient=patients[pid], source="rule", reason=reason, detail=detail,
                          idempotency_key=key, day_zero=now)


def _patients(ids: set[int]) -> dict[int, Patient]:
    return {p.pk: p for p in Patient.objects.filter(pk__in=ids).select_related("market")}


@contextlib.contextmanager
def _deeper() -> Iterator[None]:
    """What a rule's audited action records (a stage change is an event) meets the rules one level deeper."""
    token = _depth.set(_depth.get() + 1)
    try:
        yield
    finally:
        _depth.reset(token)


def too_deep() -> bool:
    return _depth.get() >= MAX_DEPTH


def event_facts(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "occurred_at": occurred_at, "data": data}
