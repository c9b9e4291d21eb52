"""Agenda workers on one PostgreSQL, one of them stopped after it read its steps and before it decided
(it waits for a patient's lock, as a stopped process would wait): once its lease ran out the others
released its steps and took them over; each step runs once, and the stopped worker decides nothing,
writes nothing and ends its batch without an error. On SQLite one worker runs: see channels'
test_fenced_handover."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from sojourn.channels.models import OutboxMessage
from sojourn.channels.tests.helpers import LEASE, SIDE_BY_SIDE, Workers
from sojourn.dialogue.models import AgendaItem, Decision
from sojourn.dialogue.services.agenda import run_due_agenda
from sojourn.dialogue.tests.factories import DAY, SYSTEM, live_rules, rule, viewed
from sojourn.people.models import Patient
from sojourn.tracking.services.events import record_events

pytestmark = SIDE_BY_SIDE
STEPS = 5


def one_step(*, owner, now):
    return run_due_agenda(owner=owner, now=now, limit=1)


def waiting_for_a_patient() -> int:
    """Workers waiting for a patient's lock (a stopped worker, as far as the others can tell)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once a transaction
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND query LIKE %s", ['%people_patient%FOR UPDATE%'])
        return cursor.fetchone()[0]


def until(condition, run: Workers) -> None:
    for _ in range(600):
        if condition():
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"the workers never got there: {run.results}")


@pytest.mark.parametrize("workers", [2, 4])
def test_a_stopped_agenda_worker_runs_only_its_own_steps_and_each_step_runs_once(
        program_needs, active_patient, workers):
    live_rules(program_needs, [rule("check-in", {"after": "content.viewed", "delay": "24h"},
                                    [{"do": "send", "channel": "email", "content": "check-in"}])])
    record_events(SYSTEM, [viewed(active_patient, f"v{n}", DAY) for n in range(STEPS)], source="test", now=DAY)
    due = DAY + timedelta(hours=24, minutes=1)
    run = Workers()
    # The patient is locked: a worker deciding about them waits here (a lock that leaves the foreign
    # key checks of the others' claims alone, so they can take the steps over meanwhile).
    with transaction.atomic():
        Patient.objects.select_for_update(no_key=True).get(pk=active_patient.pk)
        run.start("w0", due, run_due_agenda)
        until(lambda: waiting_for_a_patient() == 1, run)  # w0 has read its steps and waits to decide
        for n in range(1, workers):  # their clocks say w0's lease is over; each takes one step
            run.start(f"w{n}", due + LEASE + timedelta(seconds=1), one_step)
            until(lambda n=n: AgendaItem.objects.filter(status="claimed").exclude(lease_owner="w0").count() == n, run)
    run.join()
    assert not [r for r in run.results.values() if isinstance(r, BaseException)], run.results
    stopped = run.results["w0"]
    assert (stopped["claimed"], stopped["lost"], stopped["done"], stopped["fired"]) == (STEPS, STEPS, 0, 0)
    assert [run.results[f"w{n}"]["done"] for n in range(1, workers)] == [1] * (workers - 1)
    # The steps released from w0 and not taken yet go in the next round.
    assert run_due_agenda(owner="w9", now=due + LEASE + timedelta(seconds=2))["done"] == STEPS - workers + 1
    items = list(AgendaItem.objects.all())
    assert [(i.status, i.last_error) for i in items] == [("done", "")] * STEPS
    assert Decision.objects.filter(patient=active_patient).count() == STEPS  # one decision per step
    assert OutboxMessage.objects.filter(patient=active_patient).count() == STEPS
