"""The workers of `sojourn bench soak` and the chaos loop that hurts them.

Each of K slots runs `sojourn worker` (with a short lease; on SQLite `--standby`, since one worker
holds the database's writer lock and the others wait to take over). The chaos loop, in turns drawn
at random, SIGKILLs a worker (and starts its slot again a moment later), SIGSTOPs one for longer
than its lease and then SIGCONTs it (the paused worker resumes after another took its rows over),
and on PostgreSQL ends a worker's connection with `pg_terminate_backend`. Its victim is a worker
holding claimed rows when there is one. At each kill and pause it notes which outbox rows the
victim held: the history checker measures how long they took to be delivered after the fault.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEASE = 6.0  # seconds: short, so a pause past the lease happens many times in a two-minute soak
PAUSE = LEASE + 4.0  # a SIGSTOP lasts this long; under SQLite's busy timeout (20 s) for the API's writes
BATCH = 50  # rows a claim takes: a batch finishes well inside the lease when nothing is paused
APP_NAME = "sojourn-soak-worker"  # the workers' PostgreSQL application_name (libpq's PGAPPNAME)


@dataclass
class Fault:
    kind: str  # kill, pause, terminate
    at: float  # time.time()
    slot: int
    held: list[int] = field(default_factory=list)  # outbox rows the victim had claimed


@dataclass
class Slot:
    number: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    paused_until: float = 0.0
    starts: int = 0
    unexpected_exits: list[int] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Fleet:
    """K `sojourn worker` processes, each writing to its own log, started again when killed."""

    def __init__(self, count: int, folder: Path, env: dict[str, str], *, sqlite: bool) -> None:
        self.env, self.sqlite = env, sqlite
        self.slots = [Slot(n, folder / f"worker-{n}.log") for n in range(count)]
        self.command = [str(Path(sys.executable).with_name("sojourn")), "worker", "--lease", str(LEASE),
                        "--batch", str(BATCH), "--poll", "0.5", *(["--standby"] if sqlite else [])]
        self.lock = threading.Lock()

    def start(self, slot: Slot) -> None:
        with slot.log.open("ab") as log:
            log.write(f"--- start {slot.starts + 1} at {time.time():.3f}\n".encode())
            slot.process = subprocess.Popen(
                self.command, env=dict(self.env, PGAPPNAME=f"{APP_NAME}-{slot.number}"), stdout=log,
                stderr=subprocess.STDOUT)
        slot.starts += 1

    def start_all(self) -> None:
        for slot in self.slots:
            self.start(slot)

    def wait_started(self, timeout: float = 180) -> None:
        """Until every worker has said it started (Django loaded: seconds on a busy machine)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(slot.log.read_text(errors="replace").count(" started") >= slot.starts for slot in self.slots):
                return
            if any(slot.process is not None and slot.process.poll() is not None for slot in self.slots):
                raise RuntimeError("a worker stopped at start: see its log in the soak's folder")
            time.sleep(0.2)
        raise RuntimeError("the workers did not start within three minutes")

    def pid_of(self, slot: Slot) -> int:
        return slot.process.pid if slot.process else 0

    def revive(self) -> None:
        """Start again every slot whose worker ended by itself (a crash, not our kill)."""
        with self.lock:
            for slot in self.slots:
                if slot.process is not None and slot.process.poll() is not None:
                    slot.unexpected_exits.append(slot.process.returncode)
                    self.start(slot)

    def stop_all(self, timeout: float = 60) -> None:
        """SIGCONT the paused, SIGTERM everyone (a worker finishes its batch), SIGKILL what hangs."""
        for slot in self.slots:
            if slot.alive:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
                    slot.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        for slot in self.slots:
            if slot.process is None:
                continue
            try:
                slot.process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                slot.process.kill()
                slot.process.wait()


class Chaos(threading.Thread):
    """The chaos loop: runs in a thread of the bench's process (with a database connection of its own,
    to see what a victim held) from `start()` until `finish()`; then every pause ends on time."""

    def __init__(self, fleet: Fleet, *, postgres: bool, until: float, seed: int = 33) -> None:
        super().__init__(daemon=True)
        self.fleet, self.postgres, self.until = fleet, postgres, until
        self.rng = random.Random(seed)
        self.faults: list[Fault] = []
        self.terminated = 0
        self._finishing = threading.Event()
        self.error: BaseException | None = None

    def finish(self) -> None:
        self._finishing.set()
        self.join()

    def run(self) -> None:
        from django.db import connection

        try:
            # The first round pauses first (a short soak sees a pause end within it), the next ones
            # draw their order; every kind comes up once in each round.
            kinds = [*(["terminate"] if self.postgres else []), "kill", "pause"]
            while not self._finishing.is_set():
                if not kinds:
                    kinds = ["kill", "pause", *(["terminate"] if self.postgres else [])]
                    self.rng.shuffle(kinds)
                self._resume_due()
                self.fleet.revive()
                kind = kinds.pop()
                if kind == "pause" and time.time() + PAUSE > self.until:  # it would outlast the chaos
                    kind = "kill"
                getattr(self, f"_{kind}")()
                self._finishing.wait(self.rng.uniform(1.5, 4.0))
            while any(slot.paused_until for slot in self.fleet.slots):  # every pause lasts its full time
                self._resume_due()
                time.sleep(0.2)
            self.fleet.revive()
        except BaseException as error:  # reported by the bench, which then stops
            self.error = error
        finally:
            connection.close()

    # ---- the faults ------------------------------------------------------------------------------

    def _victim(self) -> Any:
        """A running, unpaused worker: one holding claimed rows when there is one."""
        running = [s for s in self.fleet.slots if s.alive and not s.paused_until]
        if not running:
            return None
        busy = _owners_holding()
        holders = [s for s in running if self.fleet.pid_of(s) in busy]
        return self.rng.choice(holders or running)

    def _kill(self) -> None:
        with self.fleet.lock:
            slot = self._victim()
            if slot is None:
                return
            slot.process.send_signal(signal.SIGKILL)
            slot.process.wait()
            at = time.time()
            self.faults.append(Fault("kill", at, slot.number, _held_by(slot.process.pid)))
        self._finishing.wait(self.rng.uniform(0.3, 1.0))
        with self.fleet.lock:
            self.fleet.start(slot)

    def _pause(self) -> None:
        with self.fleet.lock:
            running = [s for s in self.fleet.slots if s.alive and not s.paused_until]
            # Another worker stays running to take the paused one's rows over (on SQLite it is the
            # standby, which can only take over once the paused one dies: the pause is outlived).
            if len(running) < 2:
                return
            slot = self._victim()
            slot.process.send_signal(signal.SIGSTOP)
            slot.paused_until = time.monotonic() + PAUSE
            self.faults.append(Fault("pause", time.time(), slot.number, _held_by(slot.process.pid)))

    def _terminate(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name LIKE %s", [f"{APP_NAME}-%"])
            backends = [row[0] for row in cursor.fetchall()]
            if backends:
                cursor.execute("SELECT pg_terminate_backend(%s)", [self.rng.choice(backends)])
                self.terminated += 1
                self.faults.append(Fault("terminate", time.time(), -1))

    def _resume_due(self) -> None:
        with self.fleet.lock:
            for slot in self.fleet.slots:
                if slot.paused_until and time.monotonic() >= slot.paused_until:
                    if slot.alive:
                        slot.process.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
                    slot.paused_until = 0.0


def _owners_holding() -> set[int]:
    """The process ids of the workers holding claimed outbox rows or agenda steps (an owner is
    host:pid:random)."""
    from sojourn.channels.models import OutboxMessage
    from sojourn.dialogue.models import AgendaItem

    owners = set(OutboxMessage.objects.filter(status="claimed").values_list("lease_owner", flat=True).distinct())
    owners |= set(AgendaItem.objects.filter(status="claimed").values_list("lease_owner", flat=True).distinct())
    return {int(owner.split(":")[1]) for owner in owners if owner.count(":") >= 2 and owner.split(":")[1].isdigit()}


def _held_by(pid: int) -> list[int]:
    from sojourn.channels.models import OutboxMessage

    return list(OutboxMessage.objects.filter(status="claimed", lease_owner__contains=f":{pid}:")
                .values_list("pk", flat=True))


def worker_env(database_url: str, smtp_port: int, sms_port: int) -> dict[str, str]:
    """The workers' environment: every channel's real adapter, email to the SMTP sink, text messages
    to the HTTP sink."""
    env = {key: value for key, value in os.environ.items() if key != "SOJOURN_CHANNEL_ADAPTERS"}
    return dict(env, SOJOURN_DATABASE_URL=database_url, SOJOURN_EMAIL_HOST="127.0.0.1",
                SOJOURN_EMAIL_PORT=str(smtp_port), SOJOURN_EMAIL_USE_TLS="false", SOJOURN_SMS_PROVIDER="http",
                SOJOURN_SMS_URL=f"http://127.0.0.1:{sms_port}", SOJOURN_SMS_TOKEN="soak")
