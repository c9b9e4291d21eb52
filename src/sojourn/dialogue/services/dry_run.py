"""Dry run: a rule-set version replayed over the program's recent events, reporting what it would have
done (per action, channel, market and day, with sample patients), writing nothing.

The replay uses each patient's profile and consent as they are today (neither is versioned) and counts caps
within the replay itself; delayed and follow-up steps are counted as scheduled, not replayed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
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
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # rule → pseudonyms

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "days": self.days, "events": self.events, "fired": self.fired,
                "by_rule": dict(self.by_rule), "by_action": dict(self.by_action), "by_channel": dict(self.by_channel),
                "by_market": dict(self.by_market), "by_day": dict(sorted(self.by_day.items())),
                "skipped_because": dict(self.skipped_because), "samples": dict(self.samples)}


def dry_run(*, actor: Actor, version: RuleSetVersion, days: int = 30) -> DryRunReport:
    program_id = version.rule_set.program_id
    if not (actor.can(Permission.RULES_EDIT, program_id) or actor.can(Permission.RULES_REVIEW, program_id)):
        actor.require(Permission.RULES_EDIT, program_id)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_("Replay from 1 to %(n)d days.") % {"n": MAX_DAYS}, field="days")
    rule_set = compile_rules(version.rules, program_shape(program_id), version_id=version.pk,
                             rule_set_id=version.rule_set_id)
    now = timezone.now()
    report = DryRunReport(version=version.number, days=days)
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
            if len(report.samples[rule.key]) < SAMPLES and state.pseudonym not in report.samples[rule.key]:
                report.samples[rule.key].append(state.pseudonym)
            for outcome in fired.outcomes:
                report.by_action[f"{outcome['do']}:{outcome['result']}"] += 1
                if outcome.get("channel"):
                    report.by_channel[outcome["channel"]] += outcome["result"] != "skipped"
                if outcome["result"] == "skipped":
                    report.skipped_because[outcome["reason"]] += 1
        for rule in rule_set.after_event.get(event_type, ()):
            report.by_action[f"{rule.key}:scheduled"] += 1
