"""The worker loop behind `sojourn worker`: plan schedules, run due agenda steps, deliver due outbox
messages; stop between batches on SIGTERM or SIGINT."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO

from django.db import close_old_connections, connection, connections
from django.utils import timezone

from sojourn.channels.services.delivery import deliver_due
from sojourn.content.services.review import expire_due
from sojourn.core.actors import Actor
from sojourn.dialogue.services.agenda import plan_schedules, run_due_agenda

log = logging.getLogger(__name__)
SCHEDULE_EVERY = 60.0
WORKER = Actor.system("worker")


def peak_memory_mb() -> int:
    """The process's peak resident memory (VmHWM: since exec, unlike ru_maxrss after a fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


class AnotherWorker(RuntimeError):
    pass


@dataclass
class WorkerTotals:
    agenda_done: int = 0
    agenda_cancelled: int = 0
    agenda_contended: int = 0
    outbox_contended: int = 0
    fired: int = 0
    sent: int = 0
    deferred: int = 0
    cancelled: int = 0
    retried: int = 0
    dead: int = 0
    planned: int = 0
    errors: int = 0
    batches: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(self, *, batch: int = 500, lease: timedelta = timedelta(minutes=2), poll: float = 1.0,
                 report: Callable[[WorkerTotals], None] | None = None) -> None:
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch, self.lease, self.poll = batch, lease, poll
        self.stopping = False
        self.totals = WorkerTotals()
        self.report = report
        self._lock: IO[str] | None = None
        self._last_schedule: datetime | None = None

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        self.stopping = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def single_writer(self) -> None:
        """SQLite has one writer: a second worker would only wait for locks, so it is refused."""
        if connection.vendor != "sqlite":
            return
        name = str(connection.settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            return
        path = Path(f"{name}.worker.lock")
        self._lock = path.open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherWorker(f"another worker is running on {name}; on SQLite one worker does all the work "
                                "(run several on PostgreSQL)") from None

    def step(self) -> int:
        """One round: returns how many rows it claimed (0 means there was nothing due)."""
        now = timezone.now()
        # By the clock the plans are made for (a simulation moves it by hours between steps); a clock
        # set back plans at once.
        since = None if self._last_schedule is None else (now - self._last_schedule).total_seconds()
        if since is None or not 0 <= since < SCHEDULE_EVERY:
            self.totals.planned += plan_schedules(now=now)
            expire_due(actor=WORKER, now=now)  # content past its last day (never resolved even before this)
            self._last_schedule = now
        claimed = 0
        try:
            agenda = run_due_agenda(owner=self.owner, now=now, limit=self.batch, lease=self.lease)
            claimed += agenda["claimed"]
            self.totals.agenda_done += agenda["done"]
            self.totals.agenda_cancelled += agenda["cancelled"]
            self.totals.fired += agenda["fired"]
            self.totals.agenda_contended += agenda["contended"]
        except Exception as error:
            self.totals.errors += 1
            log.warning("agenda batch failed and will be retried: %s", type(error).__name__)
        if self.stopping:
            return claimed
        try:
            outbox = deliver_due(owner=self.owner, now=timezone.now(), limit=self.batch, lease=self.lease)
            claimed += outbox.claimed
            self.totals.sent += outbox.sent
            self.totals.deferred += outbox.deferred
            self.totals.cancelled += outbox.cancelled
            self.totals.retried += outbox.retried
            self.totals.dead += outbox.dead
            self.totals.outbox_contended += outbox.contended
        except Exception as error:
            self.totals.errors += 1
            log.warning("outbox batch failed and will be retried: %s", type(error).__name__)
        self.totals.batches += 1
        if self.report:
            self.report(self.totals)
        return claimed

    def run(self, *, once: bool = False, max_seconds: float | None = None) -> WorkerTotals:
        """Work until stopped (or, with once, until nothing is due)."""
        self.single_writer()
        # The worker keeps its connection (and SQLite's page cache with it) from one step to the next;
        # close_old_connections still replaces one that broke.
        for alias in connections:
            connections[alias].settings_dict["CONN_MAX_AGE"] = None
            connections[alias].close_at = None
        started = time.monotonic()
        while not self.stopping:
            close_old_connections()
            claimed = self.step()
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            if claimed == 0:
                if once:
                    break
                deadline = time.monotonic() + self.poll
                while not self.stopping and time.monotonic() < deadline:
                    time.sleep(min(0.1, self.poll))
        return self.totals
