"""Many batches of events recorded in one go, on two cores: an import, a backfill, a replay from
another platform (`sojourn events import`).

`record_event_stream` records each batch exactly as `record_events` would and yields its result, in
order. A helper process, forked when the stream starts, checks and decides each batch
(services/ingestion.prepare: the reads, the profile arithmetic, the rules, the rows to write) while
this process writes the batch before it (`apply`: the patients locked, what moved since read again,
the events stored and the rows run). The batches are read here, from the caller's iterable, and sent
to the helper; it sends back each plan as plain values (core.writes), so this process spends its time
writing. The helper is at most two batches ahead. A patient whose state the batch being written
changes is decided again under the lock when the next batch is written, so the outcome is the one of
the batches recorded one after another.

A SQLite database in memory (the tests' on the SQLite leg) cannot be opened by a second process:
there the batches are decided here, one after another, with the same results.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.db import is_transient
from sojourn.tracking.event_types import EventTypeSpec
from sojourn.tracking.services.events import check_events, sorted_result, store_checked
from sojourn.tracking.services.ingestion import Candidate, IngestResult, Plan, apply, new_in_batch, prepare

AHEAD = 2  # batches sent to the helper before the first plan comes back


@dataclass
class Prepared:
    """A batch checked and decided, to be written."""

    now: datetime
    result: IngestResult
    checked: list[Candidate]
    types: dict[int, dict[str, EventTypeSpec]]
    plan: Plan | None


def record_event_stream(actor: Actor, batches: Iterable[Sequence[Any]], *, source: str, helper: bool = True
                        ) -> Iterator[IngestResult]:
    """Record batches of up to 1,000 events, one transaction each, and yield each batch's result in
    order (see the module's docstring). A batch the checks refuse as a whole (not a list, too many
    events) raises its error when its turn comes, as `record_events` would."""
    if connection.in_atomic_block:
        raise RuntimeError("record_event_stream writes a transaction per batch: call it outside one")
    if not helper or (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        for items in batches:
            yield _write(decide(actor, items, source), source)
        return
    connections.close_all()  # the helper opens its own connection, never one it inherited
    fork = multiprocessing.get_context("fork")
    ours, theirs = fork.Pipe()
    process = fork.Process(target=_helper, args=(theirs, actor, source), daemon=True)
    process.start()
    theirs.close()
    pending = iter(batches)
    try:
        sent = sum(_send_next(ours, pending) for _ in range(AHEAD))
        while sent:
            try:
                message = ours.recv_bytes()
            except EOFError:
                raise RuntimeError(f"the helper deciding the batches stopped (exit {process.exitcode})") from None
            sent -= 1
            kind, payload = pickle.loads(message)  # noqa: S301  (our own helper's, over a private pipe)
            if kind == "error":
                raise payload
            sent += _send_next(ours, pending)  # the helper decides it while this batch is written
            yield _write(payload, source)
    finally:
        with contextlib.suppress(OSError):
            ours.send_bytes(pickle.dumps(None))
        ours.close()
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()


def _send_next(pipe: Connection, pending: Iterator[Sequence[Any]]) -> int:
    items = next(pending, None)
    if items is None:
        return 0
    pipe.send_bytes(pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL))
    return 1


def decide(actor: Actor, items: Sequence[Any], source: str) -> Prepared:
    """Check and decide a batch, writing nothing."""
    now = timezone.now()
    result, checked, types = check_events(actor, items, now, allow_internal=False)
    plan = prepare(new_in_batch(checked, result), types, now, source, False) if checked else None
    return Prepared(now, result, checked, types, plan)


def _helper(pipe: Connection, actor: Actor, source: str) -> None:
    """The helper process: decide each batch it is sent, until it is sent None or the pipe closes."""
    inbox = _drained(pipe)
    code = 1  # unless the caller said it was done
    try:
        while (raw := inbox.get()) is not None:
            items = pickle.loads(raw)  # noqa: S301  (from the process that forked this one)
            if items is None:
                code = 0
                break
            try:
                message: tuple[str, Any] = ("batch", decide(actor, items, source))
            except Exception as error:  # raised by the caller at this batch's turn
                message = ("error", error)
            pipe.send_bytes(_pickled(message))
    except (BrokenPipeError, ConnectionResetError):  # the caller stopped
        pass
    finally:
        connections.close_all()
        pipe.close()
        os._exit(code)  # not the caller's exit handlers: they belong to the process that forked this one


def _drained(pipe: Connection) -> queue.SimpleQueue[bytes | None]:
    """What the caller sends, read as it comes by a thread of its own; None once the caller stopped. A
    pipe holds only so much: read between decisions, a caller sending a large batch and this process
    sending a large plan back would each wait for the other to read, for ever (seen with events of a
    program's own type carrying two 1,000-character fields)."""
    inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                inbox.put(pipe.recv_bytes())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=read, name="batches", daemon=True).start()
    return inbox


def _pickled(message: tuple[str, Any]) -> bytes:
    try:
        return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an error that does not pickle is told by its words
        return pickle.dumps(("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]}")))


def _write(prepared: Prepared, source: str) -> IngestResult:
    result = prepared.result
    if prepared.plan is not None:
        try:
            with transaction.atomic():
                apply(prepared.plan, result)
        except (IntegrityError, OperationalError) as error:
            # Another writer created the same rows meanwhile, or PostgreSQL broke a deadlock: decided
            # again here from what is stored, as record_events does.
            if isinstance(error, OperationalError) and not is_transient(error):
                raise
            indexes = {c.index for c in prepared.checked}
            result.accepted.clear()
            result.duplicates = [d for d in result.duplicates if d not in indexes]
            result.rejected = [r for r in result.rejected if r.index not in indexes]
            store_checked(prepared.checked, prepared.types, result, prepared.now, source, False)
    return sorted_result(result)
