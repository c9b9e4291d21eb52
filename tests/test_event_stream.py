"""The stream's helper process (tracking/services/stream.py) changes when a batch is decided, never what
is written. On the benchmark's program (the demo's, with its 50 live rules and 200 patients), the same
4,000 events in four batches are recorded twice from the same database: once with the helper deciding
each batch while the one before is written, once in one process. Most patients have events in every
batch, so the helper keeps deciding about patients whose last batch is not yet committed: each of those
must be decided again under the lock. Every row the events caused (profiles, need scores, decisions,
messages, agenda steps, flags, safety referrals) must come out the same.

SQLite files (a second process cannot open the SQLite leg's in-memory database), so it runs on the
SQLite leg; on PostgreSQL, tracking/tests/test_stream.py runs the helper in process."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SOJOURN

pytestmark = pytest.mark.skipif(
    os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] in {"postgres", "postgresql"},
    reason="makes its own SQLite files: runs on the SQLite leg")

ROOT = Path(__file__).resolve().parent.parent
BUILD = """
import json, django
django.setup()
from bench.engine_data import build
from sojourn.people.models import Patient
program = build(0.002, lambda _line: None)["program"]
print(json.dumps(sorted(Patient.objects.filter(program=program, status="active").values_list("pseudonym", flat=True))))
"""
STREAM = """
import json, sys
from datetime import datetime
import django
django.setup()
from django.utils import timezone
# One clock for both runs: the rules read the hour and the days enrolled, and caps count the last day.
fixed = datetime.fromisoformat(sys.argv[2])
timezone.now = lambda: fixed
from bench.engine_data import make_events
from sojourn.core.actors import Actor
from sojourn.tracking.services.stream import record_event_stream
events = make_events(4000, json.loads(sys.argv[3]), "s", seed=3)
batches = [events[n:n + 1000] for n in range(0, len(events), 1000)]
results = record_event_stream(Actor.system("test"), batches, source="test", helper=sys.argv[1] == "helper")
print(json.dumps([[len(r.accepted), len(r.duplicates), len(r.rejected)] for r in results]))
"""
# What the events caused, without the rows' own ids and the profile's revision (a concurrency token).
CAUSED = {
    "tracking_event": "SELECT client_id, type, patient_id, occurred_at, data FROM tracking_event",
    "tracking_patientprofile": "SELECT patient_id, engagement, last_meaningful_at, interactions_30d, needs, stage_id, "
                               "stage_since, updated_at FROM tracking_patientprofile",
    "tracking_patientneed": "SELECT patient_id, need_id, explicit, implicit, combined, confidence, updated_at "
                            "FROM tracking_patientneed",
    "dialogue_decision": "SELECT key, patient_id, version_id, rule_key, event_id, agenda_item_id, decided_at, why, "
                         "outcomes FROM dialogue_decision",
    "channels_outboxmessage": "SELECT idempotency_key, decision_key, patient_id, channel, kind, payload, rule_key, "
                              "due_at, lane, status FROM channels_outboxmessage",
    "dialogue_agendaitem": "SELECT idempotency_key, patient_id, rule_key, kind, payload, due_at, status "
                           "FROM dialogue_agendaitem",
    "dialogue_dialoguestate": "SELECT patient_id, flags, content_level FROM dialogue_dialoguestate",
    "safety_intake": "SELECT idempotency_key, patient_id, reason, detail, status, day_zero, due_at FROM safety_intake",
}


def _environment(database: Path, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SETTINGS_MODULE": "sojourn.settings", "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def _rows(database: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(database) as stored:
        return {table: sorted(stored.execute(select).fetchall(), key=repr) for table, select in CAUSED.items()}


def test_the_helper_writes_what_one_process_writes_on_the_benchmarks_program(tmp_path):
    built = tmp_path / "built.db"
    env = _environment(built, tmp_path)
    subprocess.run([SOJOURN, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=600)
    made = subprocess.run([sys.executable, "-c", BUILD], env=env, check=True, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    pseudonyms = made.stdout.strip().splitlines()[-1]
    before = _rows(built)
    with sqlite3.connect(built) as source:
        now = source.execute("SELECT strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')").fetchone()[0]
    outcomes, rows = {}, {}
    for way in ("helper", "one-process"):
        database = tmp_path / f"{way}.db"
        with sqlite3.connect(built) as source, sqlite3.connect(database) as copy:
            source.backup(copy)
        ran = subprocess.run([sys.executable, "-c", STREAM, way, now, pseudonyms],
                             env=_environment(database, tmp_path), capture_output=True, text=True, timeout=600,
                             cwd=ROOT)
        assert ran.returncode == 0, ran.stderr[-3000:]
        outcomes[way] = json.loads(ran.stdout.strip().splitlines()[-1])
        rows[way] = _rows(database)
    assert outcomes["helper"] == outcomes["one-process"]
    assert sum(accepted for accepted, _d, _r in outcomes["helper"]) == 4000
    caused = {table: len(found) - len(before[table]) for table, found in rows["helper"].items()}
    # The rules did decide and send (else the comparison proves little).
    assert caused["dialogue_decision"] > 1000 and caused["channels_outboxmessage"] > 500, caused
    for table in CAUSED:
        assert rows["helper"][table] == rows["one-process"][table], f"{table} differs with the helper"
