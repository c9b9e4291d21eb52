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

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, connections
from django.utils import timezone

from sojourn.channels.services.callbacks import forget_old_receipts
from sojourn.channels.services.delivery import deliver_due
from sojourn.content.services.review import expire_due
from sojourn.core.actors import Actor
from sojourn.core.services.audit_checkpoints import write_checkpoint
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


def _why(error: Exception) -> str:
    """The error's class and, for the database's own operational errors ("database is locked", a
    connection the server closed), its first line: those name no row values, and operators (and
    `sojourn bench soak`) count them."""
    if isinstance(error, OperationalError):
        return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"
    return type(error).__name__


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
                 report: Callable[[WorkerTotals], None] | None = None, standby: bool = False) -> None:
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch, self.lease, self.poll = batch, lease, poll
        self.standby = standby  # on SQLite, wait for the running worker to stop instead of refusing
        self.stopping = False
        self.totals = WorkerTotals()
        self.report = report
        self._lock: IO[str] | None = None
        self._last_schedule: datetime | None = None
        self._last_checkpoint = time.monotonic()  # real time: a simulated clock must not write checkpoints

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        self.stopping = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def single_writer(self) -> bool:
        """SQLite has one writer: a second worker would only wait for locks, so it is refused (a standby
        waits instead). False when the standby was stopped before its turn came."""
        if connection.vendor != "sqlite":
            return True
        name = str(connection.settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            return True
        path = Path(f"{name}.worker.lock")
        self._lock = path.open("w")
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not self.standby:
                    raise AnotherWorker(f"another worker is running on {name}; on SQLite one worker does all the "
                                        "work (run several on PostgreSQL, or --standby to take over)") from None
            # A standby: the lock is the kernel's, so it is free the moment the running worker dies.
            deadline = time.monotonic() + self.poll
            while time.monotonic() < deadline:
                if self.stopping:
                    return False
                time.sleep(min(0.1, self.poll))

    def housekeeping(self, now: datetime) -> None:
        """Now and then: forget webhook ids past their retry horizon; anchor the audit trail outside the
        database (a failed checkpoint is logged loudly but never stops deliveries)."""
        forget_old_receipts(now=now)
        if time.monotonic() - self._last_checkpoint >= settings.SOJOURN_AUDIT_CHECKPOINT_EVERY:
            self._last_checkpoint = time.monotonic()
            try:
                write_checkpoint(actor=WORKER)
            except Exception as error:
                log.error("audit checkpoint failed and will be tried again: %s", error)

    def step(self) -> int:
        """One round: returns how many rows it claimed (0 means there was nothing due)."""
        now = timezone.now()
        # By the clock the plans are made for (a simulation moves it by hours between steps); a clock
        # set back plans at once.
        since = None if self._last_schedule is None else (now - self._last_schedule).total_seconds()
        if since is None or not 0 <= since < SCHEDULE_EVERY:
            self.totals.planned += plan_schedules(now=now)
            expire_due(actor=WORKER, now=now)  # content past its last day (never resolved even before this)
            self.housekeeping(now)
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
            log.warning("agenda batch failed and will be retried: %s", _why(error))
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
            log.warning("outbox batch failed and will be retried: %s", _why(error))
        self.totals.batches += 1
        if self.report:
            self.report(self.totals)
        return claimed

    def run(self, *, once: bool = False, max_seconds: float | None = None) -> WorkerTotals:
        """Work until stopped (or, with once, until nothing is due)."""
        if not self.single_writer():
            return self.totals
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
