"""`sojourn worker` as real processes: several share PostgreSQL and do each item exactly once; one
killed with SIGKILL mid-batch loses and duplicates nothing; SIGTERM stops it gracefully; on SQLite
a second worker is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sojourn.channels.adapters import RECORDING
from sojourn.channels.models import OutboxMessage, RecordedDelivery
from sojourn.dialogue.models import AgendaItem, Decision, RuleSet
from sojourn.dialogue.tests.factories import live_rules, rule

SOJOURN = str(Path(sys.executable).with_name("sojourn"))
needs_postgres = pytest.mark.skipif(
    os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] not in {"postgres", "postgresql"},
    reason="several worker processes need a database they can all open: runs on the PostgreSQL leg")


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(*args: str, delay_ms: int = 0) -> subprocess.Popen:
    # The web cards go to the recording channel, which counts every hand-over: exactly once is provable.
    env = dict(os.environ, SOJOURN_DATABASE_URL=_database_url(), SOJOURN_RECORDING_DELAY_MS=str(delay_ms),
               SOJOURN_CHANNEL_ADAPTERS=f"web={RECORDING}")
    return subprocess.Popen([SOJOURN, "worker", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _work(program, patient, agenda: int, outbox: int) -> None:
    """`agenda` follow-up steps (each fires a rule that sends a web card) and `outbox` web cards, all due
    (all of the approved card the rule names: words that cannot be resolved are never sent)."""
    live_rules(program, [rule("ping", {"follow_up": True}, [{"do": "send", "channel": "web", "content": "card"}])])
    rule_set = RuleSet.objects.get(program=program)
    now = timezone.now() - timedelta(seconds=1)
    AgendaItem.objects.bulk_create([
        AgendaItem(program=program, patient=patient, rule_set=rule_set, rule_key="ping", kind="follow_up",
                   due_at=now, idempotency_key=f"test:{n}", created_at=now) for n in range(agenda)])
    OutboxMessage.objects.bulk_create([
        OutboxMessage(program=program, patient=patient, channel="web", kind="content", payload={"content": "card"},
                      due_at=now, idempotency_key=f"direct:{n}", created_at=now) for n in range(outbox)])


def _assert_exactly_once(agenda: int, outbox: int) -> None:
    assert AgendaItem.objects.filter(status="done").count() == agenda
    assert Decision.objects.count() == agenda  # each step fired its rule once
    assert OutboxMessage.objects.count() == agenda + outbox
    assert OutboxMessage.objects.exclude(status="done").count() == 0
    assert RecordedDelivery.objects.count() == agenda + outbox
    assert RecordedDelivery.objects.filter(deliveries__gt=1).count() == 0  # no message handed over twice


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_on_one_postgresql_do_each_item_exactly_once(active_patient, program):
    _work(program, active_patient, agenda=300, outbox=300)
    workers = [_worker("--once", "--batch", "25", "--poll", "0.2", delay_ms=5) for _ in range(4)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], outputs
    _assert_exactly_once(300, 300)
    owners = {o[0].split()[1] for o in outputs}
    assert len(owners) == 4
    assert sum(int(o[0].split("agenda steps done")[0].split()[-1]) for o in outputs) == 300  # shared the work


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(active_patient, program):
    _work(program, active_patient, agenda=60, outbox=60)
    victim = _worker("--batch", "10", "--lease", "2", "--poll", "0.1", delay_ms=300)
    deadline = time.monotonic() + 30
    while RecordedDelivery.objects.count() < 10 and time.monotonic() < deadline:  # it is mid-way
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert 0 < RecordedDelivery.objects.count() < 120
    time.sleep(2.2)  # its leases expire
    survivor = _worker("--once", "--batch", "50")
    _out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    _assert_exactly_once(60, 60)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_worker_between_batches(active_patient, program):
    _work(program, active_patient, agenda=0, outbox=5)
    worker = _worker("--poll", "0.2")
    deadline = time.monotonic() + 30
    while RecordedDelivery.objects.count() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert "worker stopped: 0 agenda steps done" in out and "5 messages sent" in out


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_second_worker_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    env = dict(os.environ, SOJOURN_DATABASE_URL=url)
    subprocess.run([SOJOURN, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    first = subprocess.Popen([SOJOURN, "worker", "--poll", "0.2"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "one.sqlite3.worker.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        second = subprocess.run([SOJOURN, "worker", "--once"], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert "another worker is running" in second.stderr and "run several on PostgreSQL" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        out, _err = first.communicate(timeout=20)
    assert first.returncode == 0 and "worker stopped" in out


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_standby_worker_waits_and_takes_over_when_the_running_one_dies(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    env = dict(os.environ, SOJOURN_DATABASE_URL=url)
    subprocess.run([SOJOURN, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    first = subprocess.Popen([SOJOURN, "worker", "--poll", "0.2"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    standby = subprocess.Popen([SOJOURN, "worker", "--standby", "--poll", "0.2"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "one.sqlite3.worker.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()  # as the chaos of `bench soak` does: the kernel frees its lock at once
        first.wait(timeout=20)
        # The standby holds the lock now: a third worker is refused, and the standby still runs.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            third = subprocess.run([SOJOURN, "worker", "--once"], env=env, capture_output=True, text=True, timeout=60)
            if third.returncode != 0:
                break
        assert "another worker is running" in third.stderr
        assert standby.poll() is None
    finally:
        standby.send_signal(signal.SIGTERM)
        out, err = standby.communicate(timeout=20)
    assert standby.returncode == 0, err
    assert "worker stopped" in out
