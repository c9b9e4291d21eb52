"""Event batches from two senders at once to `sojourn serve` with two worker processes on one SQLite
file, as the embedded default runs in production: every batch answered, every event stored once, a
replay sent to both workers stored once, and the profile counts every event.

On PostgreSQL the same is `sojourn/dialogue/tests/test_concurrency.py`; this test makes its own
SQLite file, so it runs on the SQLite leg only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import SETUP, SOJOURN, free_port, get

pytestmark = pytest.mark.skipif(
    os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] in {"postgres", "postgresql"},
    reason="makes its own SQLite file: runs on the SQLite leg (the PostgreSQL leg has test_concurrency.py)")

BATCHES, SIZE = 8, 40


def _interactions(database) -> int:
    with sqlite3.connect(database) as stored:
        found = stored.execute("SELECT interactions_30d FROM tracking_patientprofile").fetchall()
    return found[0][0] if found else 0


def _post(base: str, token: str, events: list[dict]) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/v1/events", data=json.dumps({"events": events}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_two_workers_on_one_sqlite_file_store_every_event_once(tmp_path):
    database = tmp_path / "s.db"
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SETTINGS_MODULE": "sojourn.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([SOJOURN, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=300)
    made = subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, capture_output=True, text=True,
                          timeout=120)
    given = json.loads(made.stdout.strip().splitlines()[-1])
    before = _interactions(database)  # enrollment's own events, if they count
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([SOJOURN, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # A liveness bound, not a timing: a loaded machine (CI beside other work) can take minutes.
        deadline = time.monotonic() + 180
        while True:
            try:
                get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start within 180 s"
                time.sleep(0.3)
        now = datetime.now(UTC)

        def batch(label: str, n: int) -> list[dict]:
            return [{"client_id": f"{label}-{n}-{k}", "type": "content.viewed", "patient": given["patient"],
                     "occurred_at": (now - timedelta(minutes=n * SIZE + k + 1)).isoformat(),
                     "data": {"content": "itch-tips"}} for k in range(SIZE)]

        replay = batch("both", 0)  # sent by both senders: stored once, a duplicate for the other
        answers: list[tuple[int, dict]] = []
        start = threading.Barrier(2)

        def send(label: str) -> None:
            start.wait(timeout=30)
            answers.append(_post(base, given["token"], replay))
            for n in range(BATCHES):
                answers.append(_post(base, given["token"], batch(label, n)))

        senders = [threading.Thread(target=send, args=(label,)) for label in ("a", "b")]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [status for status, _body in answers] == [200] * (2 + 2 * BATCHES), answers
    assert sum(body["accepted"] for _s, body in answers) == SIZE * (1 + 2 * BATCHES)
    assert sum(body["duplicates"] for _s, body in answers) == SIZE
    assert sum(body["rejected"] for _s, body in answers) == 0
    with sqlite3.connect(database) as stored:
        [(events,)] = stored.execute("SELECT COUNT(*) FROM tracking_event WHERE type = 'content.viewed'")
    assert events == SIZE * (1 + 2 * BATCHES)
    assert _interactions(database) == before + events  # each batch saw the other's: no count written over
