"""Many batches of events recorded in one go, on two cores: an import, a backfill, a replay from
another platform (`sojourn events import`).

`record_event_stream` records each batch as `record_events` would and yields its result, in order.
A batch is two halves (services/ingestion.py): `prepare` reads and decides, writing nothing; `apply`
writes, in the batch's transaction. Here a helper process, forked when the stream starts, checks and
prepares batch n+1 while this process applies batch n, so the one writer spends its time writing.
What the helper decided comes back whole, in one pickle (the plan, its events and what the rules
decided about them refer to each other, and keep doing so). A patient that batch n changes was read by
the helper before batch n committed: `apply` sees their profile revision moved and decides about them
again under the lock, so the outcome is the one of the batches recorded one after another.

Measured at full scale (`sojourn bench engine --ingestion-only`, docs/benchmarks.md): the helper buys
about 1.5× on two cores. A SQLite database in memory (the SQLite test leg's) cannot be opened by a
second process: there each batch is prepared here, with the same results.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.db import is_transient
from sojourn.tracking.event_types import EventTypeSpec
from sojourn.tracking.services.events import check_events, sorted_result, store_checked
from sojourn.tracking.services.ingestion import Candidate, IngestResult, Plan, apply, new_in_batch, prepare

AHEAD = 2  # batches the helper may decide before the one being written is done


@dataclass
class Prepared:
    """A batch checked and decided, to be written."""

    now: datetime
    result: IngestResult
    checked: list[Candidate]
    types: dict[int, dict[str, EventTypeSpec]]
    plan: Plan | None


def prepare_batch(actor: Actor, items: Sequence[Any], source: str) -> Prepared:
    """Check and decide a batch, writing nothing (in the helper, or here when there is none)."""
    now = timezone.now()
    result, checked, types = check_events(actor, items, now, allow_internal=False)
    plan = prepare(new_in_batch(checked, result), types, now, source, False) if checked else None
    for c in checked:
        c.data = None  # what was sent: `clean` is what is stored, and the raw copy need not travel back
    return Prepared(now, result, checked, types, plan)


def record_event_stream(actor: Actor, batches: Iterable[Sequence[Any]], *, source: str, helper: bool = True
                        ) -> Iterator[IngestResult]:
    """Record batches of up to 1,000 events, one transaction each, and yield each batch's result in
    order (see the module's docstring). A batch the checks refuse as a whole (not a list, too many
    events) raises its error when its turn comes, as `record_events` would."""
    if connection.in_atomic_block:
        raise RuntimeError("record_event_stream writes a transaction per batch: call it outside one")
    if not helper or (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        for items in batches:
            yield write_prepared(prepare_batch(actor, items, source), source)
        return
    # The helper opens connections of its own: it must not inherit one (PostgreSQL's socket would be
    # shared, and closing it there would close it here).
    connections.close_all()
    pending = iter(batches)
    decided: deque[Future[Prepared]] = deque()
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            for items in pending:
                decided.append(pool.submit(prepare_batch, actor, items, source))
                if len(decided) >= AHEAD:
                    break
            while decided:
                prepared = decided.popleft().result()  # a batch refused whole raises here, at its turn
                items = next(pending, None)
                if items is not None:  # decided by the helper while this batch is written
                    decided.append(pool.submit(prepare_batch, actor, items, source))
                yield write_prepared(prepared, source)
        finally:
            for future in decided:
                future.cancel()
            with contextlib.suppress(BrokenProcessPool):  # the helper stopped: its error is the one raised
                pool.submit(_close_connections).result()  # the helper's own, before it exits


def _close_connections() -> None:
    connections.close_all()


def write_prepared(prepared: Prepared, source: str) -> IngestResult:
    """Apply a prepared batch in a transaction of its own; when another writer created the same rows
    meanwhile or PostgreSQL broke a deadlock, record it again from what is stored (record_events)."""
    result = prepared.result
    if prepared.plan is not None:
        try:
            with transaction.atomic():
                apply(prepared.plan, result)
        except (IntegrityError, OperationalError) as error:
            if isinstance(error, OperationalError) and not is_transient(error):
                raise
            indexes = {c.index for c in prepared.checked}
            result.accepted.clear()
            result.duplicates = [d for d in result.duplicates if d not in indexes]
            result.rejected = [r for r in result.rejected if r.index not in indexes]
            store_checked(prepared.checked, prepared.types, result, prepared.now, source, False)
    return sorted_result(result)
