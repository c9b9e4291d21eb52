"""Dry run: a rule-set version replayed over the program's recent events, reporting what it would have
done (per rule, action, channel, market and day, with sample patients), writing nothing.

The replay uses each patient's profile and consent as they are today (neither is versioned) and counts caps
within the replay itself; delayed and follow-up steps are counted as scheduled, not replayed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Permission
from sojourn.dialogue.engine import Batch, event_facts, program_shape
from sojourn.dialogue.models import RuleSetVersion
from sojourn.dialogue.rules import compile_rules
from sojourn.tracking.models import Event
from sojourn.tracking.queries import patient_states_for_ids

MAX_DAYS = 90
SAMPLES = 5


@dataclass
class RuleTally:
    """What one rule would have done over the replay."""

    name: str
    trigger: str  # events, after, schedule, follow_up (the last two are not replayed)
    fired: int = 0
    scheduled: int = 0  # delayed runs that would have been planned (decided when due, not replayed)
    patients: set[int] = field(default_factory=set)
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (do, channel, result)
    skipped_because: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "trigger": self.trigger, "fired": self.fired, "scheduled": self.scheduled,
                "patients": len(self.patients), "skipped_because": dict(self.skipped_because),
                "outcomes": [{"do": do, "channel": channel, "result": result, "n": n}
                             for (do, channel, result), n in self.outcomes.items()]}


@dataclass
class DryRunReport:
    version: int
    days: int
    events: int = 0
    fired: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    by_action: Counter[str] = field(default_factory=Counter)  # "send:queued", "send:skipped", …
    by_channel: Counter[str] = field(default_factory=Counter)
    by_market: Counter[str] = field(default_factory=Counter)
    by_day: Counter[str] = field(default_factory=Counter)
    skipped_because: Counter[str] = field(default_factory=Counter)
    rules: dict[str, RuleTally] = field(default_factory=dict)  # every rule of the version, in its order
    # A plain dict, never a defaultdict: a template asking for `samples.items` would get a new empty
    # list stored under "items" instead of the method.
    samples: dict[str, list[str]] = field(default_factory=dict)  # rule → pseudonyms
    sample_markets: dict[str, str] = field(default_factory=dict)  # pseudonym → country

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "days": self.days, "events": self.events, "fired": self.fired,
                "by_rule": dict(self.by_rule), "by_action": dict(self.by_action), "by_channel": dict(self.by_channel),
                "by_market": dict(self.by_market), "by_day": dict(sorted(self.by_day.items())),
                "skipped_because": dict(self.skipped_because), "samples": dict(self.samples),
                "rules": {key: tally.as_dict() for key, tally in self.rules.items()}}


def dry_run(*, actor: Actor, version: RuleSetVersion, days: int = 30) -> DryRunReport:
    program_id = version.rule_set.program_id
    if not (actor.can(Permission.RULES_EDIT, program_id) or actor.can(Permission.RULES_REVIEW, program_id)):
        actor.require(Permission.RULES_EDIT, program_id)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_("Replay from 1 to %(n)d days.") % {"n": MAX_DAYS}, field="days")
    rule_set = compile_rules(version.rules, program_shape(program_id), version_id=version.pk,
                             rule_set_id=version.rule_set_id)
    now = timezone.now()
    report = DryRunReport(version=version.number, days=days, rules={
        key: RuleTally(name=rule.name, trigger=rule.trigger) for key, rule in rule_set.rules.items()})
    events = Event.objects.filter(program_id=program_id, occurred_at__gte=now - timedelta(days=days)) \
        .order_by("occurred_at", "pk").values_list("pk", "patient_id", "type", "occurred_at", "data")
    recent: dict[tuple[int, str], list[Any]] = {}
    # A savepoint that is always rolled back: nothing the replay might touch can stay written.
    with transaction.atomic():
        chunk: list[tuple[Any, ...]] = []
        for row in events.iterator(chunk_size=2000):
            chunk.append(row)
            if len(chunk) == 2000:
                _replay(chunk, rule_set, report, recent)
                chunk = []
        if chunk:
            _replay(chunk, rule_set, report, recent)
        transaction.set_rollback(True)
    return report


def _replay(chunk: list[tuple[Any, ...]], rule_set: Any, report: DryRunReport,
            recent: dict[tuple[int, str], list[Any]]) -> None:
    states = patient_states_for_ids({row[1] for row in chunk})
    batch = Batch.load(states, timezone.now(), dry_run=True)
    batch.recent = recent  # caps count what the replay itself would have sent
    for pk, patient_id, event_type, occurred_at, data in chunk:
        report.events += 1
        state = states.get(patient_id)
        rules = rule_set.by_event.get(event_type, ())
        if state is None or state.status != "active":
            continue
        batch.now = occurred_at
        batch.contact_facts_cache.pop(patient_id, None)
        facts = batch.facts(state, event_facts(event_type, occurred_at, data)) if rules else None
        for rule in rules:
            fired = batch.fire(rule_set, rule, state, facts, key=f"dry:{pk}:{rule.key}", event_id=pk)  # type: ignore[arg-type]
            if fired is None:
                continue
            report.fired += 1
            report.by_rule[rule.key] += 1
            report.by_market[state.country] += 1
            report.by_day[occurred_at.date().isoformat()] += 1
            tally = report.rules[rule.key]
            tally.fired += 1
            tally.patients.add(patient_id)
            samples = report.samples.setdefault(rule.key, [])
            if len(samples) < SAMPLES and state.pseudonym not in samples:
                samples.append(state.pseudonym)
                report.sample_markets[state.pseudonym] = state.country
            for outcome in fired.outcomes:
                report.by_action[f"{outcome['do']}:{outcome['result']}"] += 1
                tally.outcomes[(outcome["do"], outcome.get("channel") or "", outcome["result"])] += 1
                if outcome.get("channel"):
                    report.by_channel[outcome["channel"]] += outcome["result"] != "skipped"
                if outcome["result"] == "skipped":
                    report.skipped_because[outcome["reason"]] += 1
                    tally.skipped_because[outcome["reason"]] += 1
        for rule in rule_set.after_event.get(event_type, ()):
            report.by_action[f"{rule.key}:scheduled"] += 1
            report.rules[rule.key].scheduled += 1
