"""Analytics read from a streaming replica when one is configured (`SOJOURN_REPLICA_URL`).

The KPI dashboard, its exports and the hypotheses' verdicts read a program's whole history; on a busy
primary those reads compete with the event path and the workers. A PostgreSQL hot standby holds the
same rows a moment later, so a page that only reads can be served from it. Only a moment later:
the dashboard first folds what is new into the journey facts (a write, on the primary), and a reader
must see that write. So `analytics_reads()` asks the primary where its write-ahead log stands, waits
until the replica has replayed that far (`SOJOURN_REPLICA_WAIT_MS`, 2 s by default), and only then
sends the block's reads there; a replica that lags further, is unreachable or is no longer a standby
leaves the reads on the primary, with a warning in the log. Writes always go to the primary.

The choice is made by a database router (`AnalyticsRouter`, in DATABASE_ROUTERS) from a context
variable, so the code inside the block stays ordinary ORM code and reads outside it never move.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
log = logging.getLogger("sojourn.replicas")
_reading: ContextVar[str | None] = ContextVar("sojourn_analytics_reads", default=None)


class AnalyticsRouter:
    """Reads inside `analytics_reads()` go where it decided; every write, and every migration, to the
    primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _reading.get()  # None: Django's own choice (the primary)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # a row read from the replica is the primary's row

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def replica_configured() -> bool:
    return REPLICA in connections.databases


@contextmanager
def analytics_reads() -> Iterator[str]:
    """Within the block, reads go to the replica if it has caught up with the primary's writes so far,
    to the primary otherwise; yields the alias chosen."""
    alias = _caught_up_replica() if replica_configured() else DEFAULT_DB_ALIAS
    token = _reading.set(alias)
    try:
        yield alias
    finally:
        _reading.reset(token)


def _caught_up_replica() -> str:
    primary = connections[DEFAULT_DB_ALIAS]
    if primary.in_atomic_block:  # writes not yet committed are on no replica
        return DEFAULT_DB_ALIAS
    try:
        with primary.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            position = cursor.fetchone()[0]
        deadline = time.monotonic() + settings.SOJOURN_REPLICA_WAIT_MS / 1000
        with connections[REPLICA].cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
                standby, caught_up = cursor.fetchone()
                if not standby:
                    log.warning("the replica is not a standby (promoted, or another server): analytics read the "
                                "primary")
                    return DEFAULT_DB_ALIAS
                if caught_up:
                    return REPLICA
                if time.monotonic() >= deadline:
                    log.warning("the replica had not replayed the primary's writes within %s ms: analytics read "
                                "the primary", settings.SOJOURN_REPLICA_WAIT_MS)
                    return DEFAULT_DB_ALIAS
                time.sleep(0.02)
    except DatabaseError as error:
        log.warning("the replica could not be asked (%s): analytics read the primary", type(error).__name__)
        return DEFAULT_DB_ALIAS


def replica_problem() -> str | None:
    """Why the configured replica cannot serve analytics, or None when it can (for the deploy check)."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            if not cursor.fetchone()[0]:
                return "it is not a standby: it accepts writes of its own, so it would drift from the primary"
    except DatabaseError as error:
        return f"it could not be reached: {error}"
    return None
