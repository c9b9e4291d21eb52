"""The hot look-ups never read a big table whole, on either database.

On the benchmark's program (the demo's, its 50 live rules, 200 patients with consents and preferences)
after 2,000 events: every statement of the event path, the worker's agenda and outbox rounds (their
claims and their consent and contact look-ups), a patient's timeline and their decisions is planned
(core/tests/plans.py) and must go through an index, never through the whole of a table that grows with
patients or events. On PostgreSQL a full read is forbidden while planning, so a tiny test table shows
which index would serve the query at volume; statistics must be present, since without them
PostgreSQL chose a nested loop over 72 million rows for the consent look-up (issue 35)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.consent.models import ConsentDecision, ConsentRecord, ContactPreferences
from sojourn.core.actors import Actor
from sojourn.core.db import refresh_statistics, tables_without_statistics
from sojourn.core.tests.plans import full_reads, statements
from sojourn.dialogue.models import AgendaItem, Decision
from sojourn.people.models import Patient
from sojourn.tracking.models import Event, PatientNeed, PatientProfile

pytestmark = [pytest.mark.xdist_group("bench-program"), pytest.mark.django_db]

BIG = {m._meta.db_table for m in (Event, Decision, OutboxMessage, AgendaItem, Patient, PatientProfile, PatientNeed,
                                  ConsentRecord, ConsentDecision, ContactPreferences)}


@pytest.fixture(scope="module")
def bench_program(django_db_setup, django_db_blocker):
    """The benchmark's program after 2,000 events through the stream, built once for the module
    (committed, as `sojourn bench engine` builds it), with statistics refreshed as the build leaves them."""
    from bench.engine_data import build, make_events

    from sojourn.tracking.services.stream import record_event_stream

    with django_db_blocker.unblock():
        program = build(0.002, lambda _line: None)["program"]
        pseudonyms = sorted(Patient.objects.filter(program=program, status="active")
                            .values_list("pseudonym", flat=True))
        events = make_events(2000, pseudonyms, "plan", seed=7)
        for _result in record_event_stream(Actor.system("test"), [events[:1000], events[1000:]], source="test"):
            pass
        refresh_statistics()  # as `sojourn events import` does after a large import
        yield program
        call_command("flush", interactive=False, verbosity=0, stdout=StringIO())


def _patient_with_history(program) -> Patient:
    busiest = (Event.objects.filter(program=program).values("patient").order_by("patient").first())["patient"]
    return Patient.objects.get(pk=busiest)


def test_the_event_path_reads_no_big_table_whole(bench_program):
    from bench.engine_data import make_events

    from sojourn.tracking.services.events import record_events

    assert tables_without_statistics(BIG) == []  # planned as at volume, with statistics

    pseudonyms = list(Patient.objects.filter(program=bench_program, status="active")
                      .values_list("pseudonym", flat=True)[:50])
    with statements() as seen:
        result = record_events(Actor.system("test"), make_events(300, pseudonyms, "hot", seed=9), source="test")
    assert len(result.accepted) == 300
    assert full_reads(seen, BIG) == {}


def test_the_workers_rounds_read_no_big_table_whole(bench_program):
    from sojourn.channels.services.delivery import deliver_due
    from sojourn.dialogue.services.agenda import run_due_agenda

    later = timezone.now() + timedelta(days=3)  # the delayed steps are due, the deferred messages too
    with statements() as seen:
        agenda = run_due_agenda(owner="plan-test", now=later, limit=200)
        delivered = deliver_due(owner="plan-test", now=later, limit=200)
    assert agenda and delivered  # they did work
    assert full_reads(seen, BIG) == {}


def test_a_patients_timeline_and_decisions_read_no_big_table_whole(bench_program):
    from sojourn.dialogue.queries import decisions_of, timeline

    patient = _patient_with_history(bench_program)
    with statements() as seen:
        moments = timeline(patient)
        decisions_of(patient)
    assert moments
    assert full_reads(seen, BIG) == {}


def test_the_plans_see_a_scan_when_there_is_one(bench_program):
    """The check itself: a look-up by a column no index leads with is reported as a full read."""
    with statements() as seen, connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Event._meta.db_table} WHERE source = %s", ["test"])
    assert list(full_reads(seen, BIG)) == [seen[0][0]]
