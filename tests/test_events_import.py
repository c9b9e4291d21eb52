"""`sojourn events import FILE` on a SQLite file, as an operator runs it: a helper process decides each
batch while the one before is written; every bad line is named by its number and stored not at all; the
same file again stores nothing twice; the profile counts each event once.

Makes its own SQLite file (the command runs in a process of its own, which cannot open the SQLite
leg's in-memory database), so it runs on the SQLite leg."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import SETUP, SOJOURN

pytestmark = pytest.mark.skipif(
    os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] in {"postgres", "postgresql"},
    reason="makes its own SQLite file: runs on the SQLite leg")
GOOD = 2500  # three batches of up to a thousand


def _import(env: dict[str, str], path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOJOURN, "events", "import", str(path), "--source", "backfill"], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _program_with_a_patient(tmp_path) -> tuple[Any, dict[str, str], str]:
    """A migrated SQLite file with a program and one active patient: the file, the environment, the pseudonym."""
    database = tmp_path / "s.db"
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SETTINGS_MODULE": "sojourn.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([SOJOURN, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=300)
    made = subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, capture_output=True, text=True,
                          timeout=120)
    return database, env, json.loads(made.stdout.strip().splitlines()[-1])["patient"]


def test_a_file_is_recorded_line_by_line_and_a_second_run_stores_nothing_twice(tmp_path):
    database, env, patient = _program_with_a_patient(tmp_path)
    with sqlite3.connect(database) as stored:
        found = stored.execute("SELECT interactions_30d FROM tracking_patientprofile").fetchall()
    before = found[0][0] if found else 0  # enrollment's own events, if they count
    now = datetime.now(UTC)
    lines = [json.dumps({"client_id": f"bf-{n}", "type": "content.viewed", "patient": patient,
                         "occurred_at": (now - timedelta(minutes=GOOD - n)).isoformat(),
                         "data": {"content": "itch-tips"}}) for n in range(GOOD)]
    lines.insert(10, "{not json")  # line 11
    lines.insert(1500, "")  # blank: skipped
    lines.insert(2000, json.dumps({"client_id": "bf-future", "type": "content.viewed", "patient": patient,
                                   "occurred_at": (now + timedelta(days=1)).isoformat(),
                                   "data": {"content": "itch-tips"}}))  # line 2001
    lines.append(json.dumps({"client_id": "bf-0", "type": "content.viewed", "patient": patient,
                             "occurred_at": now.isoformat(), "data": {"content": "itch-tips"}}))  # again
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    first = _import(env, path)
    assert first.returncode == 1, first.stderr  # lines were refused
    assert f"{GOOD:,} events stored, 1 stored before (skipped), 2 lines refused." in first.stdout
    assert "line 11: not JSON" in first.stdout
    assert "line 2001: occurred_at: The event is in the future." in first.stdout
    with sqlite3.connect(database) as stored:
        [(events,)] = stored.execute("SELECT COUNT(*) FROM tracking_event WHERE source = 'backfill'")
        [(counted,)] = stored.execute("SELECT interactions_30d FROM tracking_patientprofile")
    assert events == GOOD
    assert counted == before + GOOD  # each batch saw what the one before it wrote: no count written over
    with sqlite3.connect(database) as stored:  # the first import filled a table the planner knew nothing of
        assert stored.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'tracking_event'").fetchone()[0] > 0

    second = _import(env, path)
    assert f"0 events stored, {GOOD + 1:,} stored before (skipped), 2 lines refused." in second.stdout
    with sqlite3.connect(database) as stored:
        [(again,)] = stored.execute("SELECT COUNT(*) FROM tracking_event WHERE source = 'backfill'")
        [(recounted,)] = stored.execute("SELECT interactions_30d FROM tracking_patientprofile")
    assert (again, recounted) == (GOOD, counted)


def test_a_file_that_cannot_be_read_is_said_plainly(tmp_path):
    missing = subprocess.run([SOJOURN, "events", "import", str(tmp_path / "none.jsonl")], capture_output=True,
                             text=True, timeout=120, env={**os.environ, "SOJOURN_VAR_DIR": str(tmp_path),
                                                          "SOJOURN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert missing.returncode == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr


DIARY = """
import django
django.setup()
from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.tracking.services.events import define_event_type
define_event_type(actor=Actor.system("test"), program=Program.objects.get(), code="diary.entry",
                  fields={"morning": {"type": "string", "max_length": 1000},
                          "evening": {"type": "string", "max_length": 1000}})
"""


def test_a_file_of_long_events_is_imported_whole(tmp_path):
    """A program's own event type may carry text fields of up to 1,000 characters: batches of such
    events are imported whole and in time: the batches going to the helper and the plans coming back
    are large, and neither side may wait for the other to read (until 2026-12-04 they did, for ever)."""
    database, env, patient = _program_with_a_patient(tmp_path)
    subprocess.run([sys.executable, "-c", DIARY], env=env, check=True, timeout=120)
    now = datetime.now(UTC)
    lines = [json.dumps({"client_id": f"diary-{n}", "type": "diary.entry", "patient": patient,
                         "occurred_at": (now - timedelta(minutes=n)).isoformat(),
                         "data": {"morning": "slept badly, " * 76, "evening": "itch was calmer " * 62}})
             for n in range(2500)]
    path = tmp_path / "diary.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _import(env, path, timeout=120)
    assert "2,500 events stored, 0 stored before (skipped), 0 lines refused." in done.stdout, done.stderr
    with sqlite3.connect(database) as stored:
        [(events,)] = stored.execute("SELECT COUNT(*) FROM tracking_event WHERE type = 'diary.entry'")
    assert events == 2500
