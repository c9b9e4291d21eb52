"""Deciding: on recorded events (in their transaction), on due agenda steps (in the worker), and
planning scheduled rules per time zone. Every path evaluates through `engine.Batch`."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction

from sojourn.core.db import (
    as_date,
    as_json,
    db_date,
    insert_rows,
    is_contention,
    read_locked,
    rows_for_ids,
    select_rows,
)
from sojourn.core.services import queue
from sojourn.dialogue.engine import AGENDA_FIELDS, Batch, Later, agenda_row, event_facts, live_rule_sets, too_deep
from sojourn.dialogue.models import AgendaItem, SchedulePlan
from sojourn.dialogue.rules import CompiledRuleSet, Rule
from sojourn.people.models import Patient
from sojourn.tracking.hooks import RecordedBatch
from sojourn.tracking.queries import patient_states_for_ids


def decide_on_events(recorded: RecordedBatch) -> Batch | None:
    """Each event meets the rules indexed under its type; delayed rules are put on the agenda. Nothing is
    written here: the ingestion flushes the batch once its events are stored (they may not be yet, and
    keys that name them are made then), after dropping the patients whose state moved meanwhile."""
    if too_deep():
        return None
    rule_sets = live_rule_sets({s.program_id for s in recorded.patients.values()})
    if not rule_sets:
        return None
    snapshots = recorded.extra.get("states") or [recorded.patients[e.patient_id] for e in recorded.events]
    interesting = [(event, state) for event, state in zip(recorded.events, snapshots, strict=True)
                   if state.status == Patient.Status.ACTIVE and any(
                       event.type in rs.by_event or event.type in rs.after_event for rs in rule_sets[state.program_id])]
    if not interesting:
        return None
    batch = Batch.load({s.patient_id: recorded.patients[s.patient_id] for _e, s in interesting}, recorded.now,
                       rule_sets=[rs for sets in rule_sets.values() for rs in sets])
    batch.revised = recorded.extra.get("revised", set())  # the ingestion writes their profiles: raised there
    today = recorded.now.date()
    # The rules of each version and event type that are active today, sorted out once per batch.
    active: dict[tuple[int, str, bool], list[Rule]] = {}

    def rules_for(rule_set: CompiledRuleSet, event_type: str, delayed: bool) -> list[Rule]:
        key = (rule_set.version_id, event_type, delayed)
        if key not in active:
            index = rule_set.after_event if delayed else rule_set.by_event
            active[key] = [rule for rule in index.get(event_type, ()) if rule.active_on(today)]
        return active[key]

    for event, state in interesting:  # every one is an active patient's (see above)
        facts = None
        for rule_set in rule_sets[state.program_id]:
            for rule in rules_for(rule_set, event.type, False):
                facts = facts or batch.facts(state, event_facts(event.type, event.occurred_at, event.data))
                if rule.condition.matches(facts):
                    batch.decide(rule_set, rule, state, facts, event=event)
            for rule in rules_for(rule_set, event.type, True):
                batch.agenda.append(agenda_row(
                    state.program_id, state.patient_id, rule_set.rule_set_id, rule.key, "after",
                    {"event": event, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
                     "data": event.data}, event.occurred_at + rule.delay,  # type: ignore[operator]
                    Later("after:", event, f":{rule_set.rule_set_id}:{rule.key}"), recorded.now))
    return batch


def run_due_agenda(*, owner: str, now: datetime, limit: int = 500, lease: timedelta = timedelta(minutes=2)
                   ) -> dict[str, int]:
    """Claim due steps, evaluate their rule on today's facts, and complete them with their effects in
    one transaction (so a crash leaves the steps claimed, to be taken again, and no effect behind).
    Every step names the lease generation of the claim (`core.services.queue`): the steps another
    worker took over while this one was stopped past its lease are neither run nor written here."""
    report = {"claimed": 0, "fired": 0, "done": 0, "cancelled": 0, "lost": 0, "contended": 0}
    with transaction.atomic():
        queue.release_expired(AgendaItem, now=now)
        leases = queue.claim(AgendaItem, owner=owner, limit=limit, lease=lease, now=now)
    report["claimed"] = len(leases)
    if not leases:
        return report
    try:
        with transaction.atomic():
            _execute(leases, owner=owner, now=now, report=report)
    except LeaseLost as lost:  # nothing of the batch was written; the others' steps are theirs
        report.update(fired=0, done=0, cancelled=0, lost=report["lost"] + lost.count)
        queue.give_back(AgendaItem, leases, owner=owner, error="batch undone: another worker took some of its steps")
        return report
    except Exception as error:  # nothing of the batch was written
        if is_contention(error):  # not the steps' fault: taken again at once, no attempt spent
            report.update(fired=0, done=0, cancelled=0, lost=0)
            report["contended"] = queue.give_back(AgendaItem, leases, owner=owner, error=f"busy: {error}")
            return report
        for item_id, generation in leases.items():  # retried with backoff, dead after the last attempt
            queue.fail(AgendaItem, item_id, generation=generation, owner=owner, now=now,
                       error=f"{type(error).__name__}: {error}")
        raise
    return report


class _Step(NamedTuple):
    pk: int
    program_id: int
    patient_id: int
    rule_set_id: int
    rule_key: str
    payload: dict[str, Any]


def _execute(leases: queue.Leases, *, owner: str, now: datetime, report: dict[str, int]) -> None:
    items = [_Step(pk, program_id, patient_id, rule_set_id, rule_key, as_json(payload))
             for pk, generation, program_id, patient_id, rule_set_id, rule_key, payload in rows_for_ids(
                 "SELECT id, lease_generation, program_id, patient_id, rule_set_id, rule_key, payload "
                 f"FROM {AgendaItem._meta.db_table} WHERE lease_owner = %s AND status = %s AND id {{ids}} "
                 "ORDER BY lane, due_at, id", list(leases), [owner, "claimed"])
             if generation == leases[pk]]
    # Held until the commit: an ingestion batch or another worker deciding about the same patients
    # waits, so caps and flags count what this batch decides (core.db.read_locked).
    read_locked(Patient, {i.patient_id for i in items}, ["id"])
    # The fence, checked once this batch may decide (it may have waited for the patients above, or been
    # stopped): only the steps still this claim's, held until the commit; the others run elsewhere.
    held = queue.hold(AgendaItem, {i.pk: leases[i.pk] for i in items}, owner=owner)
    items = [i for i in items if i.pk in held]
    report["lost"] = len(leases) - len(items)
    states = patient_states_for_ids({i.patient_id for i in items})
    rule_sets = live_rule_sets({s.program_id for s in states.values()})
    batch = Batch.load(states, now, rule_sets=[rs for sets in rule_sets.values() for rs in sets])
    done, cancelled = [], []
    for item in items:
        rule_set = next((rs for rs in rule_sets.get(item.program_id, []) if rs.rule_set_id == item.rule_set_id), None)
        rule = rule_set.rules.get(item.rule_key) if rule_set else None
        if rule is None or rule_set is None:
            cancelled.append(item.pk)  # the rule is no longer live: its planned steps lapse
            continue
        event = None
        if item.payload.get("type"):
            event = event_facts(item.payload["type"], datetime.fromisoformat(item.payload["occurred_at"]),
                                item.payload.get("data", {}))
        state = batch.states[item.patient_id]
        decision = batch.fire(rule_set, rule, state, batch.facts(state, event), key=f"a{item.pk}",
                              event_id=item.payload.get("event"), agenda_id=item.pk)
        report["fired"] += decision is not None
        done.append(item.pk)
    batch.flush()
    # Completed under the same fence (the steps are held, so this is a guard): a step another worker
    # has taken over is never completed twice, and this batch's effects go back with the transaction.
    report["done"] = queue.complete(AgendaItem, {pk: leases[pk] for pk in done}, owner=owner, now=now)
    report["cancelled"] = queue.complete(AgendaItem, {pk: leases[pk] for pk in cancelled}, owner=owner, now=now,
                                         status="cancelled")
    missing = len(done) + len(cancelled) - report["done"] - report["cancelled"]
    if missing:  # another worker took some of these steps over: undo everything, they run there
        raise LeaseLost(missing)


class LeaseLost(RuntimeError):
    def __init__(self, count: int) -> None:
        super().__init__(f"lease lost on {count} steps")
        self.count = count


def plan_schedules(*, now: datetime) -> int:
    """Put today's scheduled rules on the agenda of every active patient whose local time has come."""
    planned = 0
    # Plain SQL: the worker asks every minute, and the ORM's query building cost more than the reads.
    zones_of: dict[int, set[str]] = {}
    for program_id, zone in select_rows(
            f"SELECT DISTINCT program_id, time_zone FROM {Patient._meta.db_table} WHERE status = %s",
            ["active"]):
        zones_of.setdefault(program_id, set()).add(zone)
    rule_sets = live_rule_sets(set(zones_of))
    for program_id, sets in rule_sets.items():
        zones = zones_of[program_id]
        # Plans made already (the worker looks every minute; most days' plans exist by then).
        days = {now.astimezone(zoneinfo.ZoneInfo(zone)).date() for zone in zones}
        made = {(version_id, key, zone, as_date(day)) for version_id, key, zone, day in rows_for_ids(
            f"SELECT version_id, rule_key, time_zone, local_date FROM {SchedulePlan._meta.db_table} "
            "WHERE version_id {ids} AND local_date >= %s", [rs.version_id for rs in sets],
            [db_date(min(days))])}
        for rule_set in sets:
            for rule in rule_set.rules.values():
                if rule.trigger != "schedule" or rule.schedule_at is None:
                    continue
                for zone in sorted(zones):
                    local = now.astimezone(zoneinfo.ZoneInfo(zone))
                    if local.isoweekday() not in rule.schedule_days or local.time() < rule.schedule_at \
                            or not rule.active_on(local.date()) \
                            or (rule_set.version_id, rule.key, zone, local.date()) in made:
                        continue
                    planned += _plan(program_id, rule_set.version_id, rule_set.rule_set_id, rule.key, zone,
                                     local.date(), now)
    return planned


def _plan(program_id: int, version_id: int, rule_set_id: int, rule_key: str, zone: str, day: object,
          now: datetime) -> int:
    try:
        with transaction.atomic():
            plan = SchedulePlan.objects.create(version_id=version_id, rule_key=rule_key, time_zone=zone,
                                               local_date=day)
            ids = [pk for (pk,) in select_rows(
                f"SELECT id FROM {Patient._meta.db_table} WHERE program_id = %s AND status = %s "
                "AND time_zone = %s ORDER BY id", [program_id, "active", zone])]
            rows = [agenda_row(program_id, pid, rule_set_id, rule_key, "schedule", {}, now,
                               f"sched:{version_id}:{rule_key}:{pid}:{day}", now) for pid in ids]
            for start in range(0, len(rows), 1000):
                insert_rows(AgendaItem, AGENDA_FIELDS,
                            [[row[f] for f in AGENDA_FIELDS] for row in rows[start:start + 1000]],
                            skip_conflicts_on="idempotency_key")
            plan.planned = len(ids)
            plan.save(update_fields=["planned"])
            return len(ids)
    except IntegrityError:  # planned already (by this or another worker)
        return 0


def cancel_agenda(*, patient_id: int, reason: str, now: datetime) -> int:
    return AgendaItem.objects.filter(patient_id=patient_id, status__in=["pending", "claimed"]).update(
        status="cancelled", last_error=reason[:500], lease_owner="", lease_until=None, finished_at=now)


def cancel_rule_set_steps(*, rule_set_id: int, now: datetime) -> int:
    return AgendaItem.objects.filter(rule_set_id=rule_set_id, status="pending").update(
        status="cancelled", last_error="rule set retired", finished_at=now)
