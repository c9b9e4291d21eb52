"""Claiming, holding, completing and retrying rows of a database work queue (agenda, outbox).

PostgreSQL: any number of workers claim with `FOR UPDATE SKIP LOCKED`, so two never take one row.
SQLite: one writer at a time by nature; `sojourn worker` holds a lock file so only one worker runs.
A claim is a lease: a worker that dies leaves rows whose lease expires, and `release_expired` hands
them to the next worker.

Every hand-over is fenced. A claim raises the row's `lease_generation` and gives the worker that
number (`Leases`: row id → generation); everything the worker does to the row afterwards (`hold`,
`complete`, `fail`, `give_back`) is a statement whose WHERE names that generation, so a worker whose
lease was taken over, however long it was stopped, changes nothing. Before anything leaves the
building the worker `hold`s its rows: on PostgreSQL they stay locked until its transaction ends, so no
other worker can take them between the check and the send (`release_expired` skips locked rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models

from sojourn.core.db import db_datetime

# Row id → the lease generation its claim gave this worker (the fencing token).
Leases = Mapping[int, int]
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Rows this worker still holds: its name, still claimed, and per row the generation its claim got. The
# ids come first so that the planner walks the primary key; each list is one bound parameter.
_HELD = {
    "sqlite": "lease_owner = %s AND status = 'claimed' AND id IN (SELECT value FROM json_each(%s)) "
              "AND (id, lease_generation) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
              "FROM json_each(%s))",
    "postgresql": "lease_owner = %s AND status = 'claimed' AND id = ANY(%s) "
                  "AND (id, lease_generation) IN (SELECT * FROM unnest(%s::bigint[], %s::integer[]))",
}


def _fence(leases: Leases, owner: str) -> tuple[str, list[Any]]:
    """The WHERE of a statement on rows this worker still holds, and its parameters."""
    pairs = sorted(leases.items())
    ids = [pk for pk, _gen in pairs]
    if connection.vendor == "sqlite":
        return _HELD["sqlite"], [owner, json.dumps(ids), json.dumps(pairs)]
    return _HELD["postgresql"], [owner, ids, ids, [gen for _pk, gen in pairs]]


def claim(model: type[models.Model], *, owner: str, limit: int, lease: timedelta, now: datetime,
          lanes: Iterable[int] | None = None) -> dict[int, int]:
    """Take up to `limit` due rows, most urgent lane first, then oldest due, then first written; returns
    their ids (in no order: callers read the rows in that same order) with the generation each claim
    raised the row to, which the worker names in everything it does to the row afterwards."""
    table = _table(model)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    lane_list = sorted(set(lanes)) if lanes is not None else None
    lane_sql = f" AND lane IN ({', '.join(str(int(lane)) for lane in lane_list)})" if lane_list else ""
    sql = (f"UPDATE {table} SET status = 'claimed', lease_owner = %s, lease_until = %s, attempts = attempts + 1, "
           "lease_generation = lease_generation + 1 "
           f"WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND due_at <= %s{lane_sql} "
           f"ORDER BY lane, due_at, id LIMIT %s{lock}) RETURNING id, lease_generation")
    with connection.cursor() as cursor:
        cursor.execute(sql, [owner, db_datetime(now + lease), db_datetime(now), limit])
        return {row[0]: row[1] for row in cursor.fetchall()}


def release_expired(model: type[models.Model], *, now: datetime) -> int:
    """Rows whose worker died: back to pending (their attempt counts, so a poison row still ends dead).
    On PostgreSQL a row some worker holds (`hold`: it is sending it now) is skipped, not waited for:
    that worker may be stopped, and its rows are released when its transaction ends."""
    table = _table(model)
    expired = "status = 'claimed' AND lease_until < %s"
    if connection.vendor == "postgresql":
        where = f"id IN (SELECT id FROM {table} WHERE {expired} FOR UPDATE SKIP LOCKED) AND {expired}"
        params = [db_datetime(now), db_datetime(now)]
    else:
        where, params = expired, [db_datetime(now)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET status = 'pending', lease_owner = '', lease_until = NULL "
                       f"WHERE {where}", params)
        return cursor.rowcount


def hold(model: type[models.Model], leases: Leases, *, owner: str) -> dict[int, int]:
    """The rows this worker still holds, kept until the caller's transaction ends: checked at the moment
    of sending, in the transaction that sends and completes them. PostgreSQL locks them (a row another
    transaction has locked is being released or cancelled: it is left out, never waited for); on SQLite
    the transaction has held the one write lock since it began."""
    if not connection.in_atomic_block:
        raise RuntimeError("hold keeps rows for a transaction: call it inside one")
    if not leases:
        return {}
    where, params = _fence(leases, owner)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {_table(model)} WHERE {where}{lock}", params)
        return {row[0]: leases[row[0]] for row in cursor.fetchall()}


def complete(model: type[models.Model], leases: Leases, *, owner: str, now: datetime, status: str = "done",
             also: Mapping[str, str] | None = None, each: Mapping[str, Mapping[int, str]] | None = None) -> int:
    """Finish rows this worker still holds, setting the text columns in `also` (the same for every row)
    and in `each` (field → row id → value) on the way; returns how many (fewer means a lease was taken
    over, and those rows were not touched)."""
    if not leases:
        return 0
    where, params = _fence(leases, owner)
    with connection.cursor() as cursor:
        for name, values in (each or {}).items():
            column = connection.ops.quote_name(model._meta.get_field(name).column)
            fenced = "id = %s AND lease_generation = %s AND lease_owner = %s AND status = 'claimed'"
            cursor.executemany(f"UPDATE {_table(model)} SET {column} = %s WHERE {fenced}",
                               [(value, pk, leases[pk], owner) for pk, value in values.items() if pk in leases])
        extra = also or {}
        more = "".join(f", {connection.ops.quote_name(model._meta.get_field(name).column)} = %s" for name in extra)
        cursor.execute(f"UPDATE {_table(model)} SET status = %s, finished_at = %s, lease_owner = '', "
                       f"lease_until = NULL{more} WHERE {where}", [status, db_datetime(now), *extra.values(), *params])
        return cursor.rowcount


def give_back(model: type[models.Model], leases: Leases, *, owner: str, error: str) -> int:
    """Rows this worker claimed but could not work on because the database was busy with others (a
    lock held past the busy timeout, a deadlock PostgreSQL broke), or that it kept while another worker
    took the rest of its batch: pending again at once, their attempt given back, so contention never
    walks a row toward dead."""
    if not leases:
        return 0
    where, params = _fence(leases, owner)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_table(model)} SET status = 'pending', lease_owner = '', lease_until = NULL, "
                       "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = %s "
                       f"WHERE {where}", [error[:500], *params])
        return cursor.rowcount


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def fail(model: type[models.Model], row_id: int, *, generation: int, owner: str, now: datetime, error: str,
         permanent: bool = False, max_attempts: int = MAX_ATTEMPTS) -> str:
    """A failed attempt: retry later with backoff, or dead after the last attempt (or at once if permanent);
    "lost" (and nothing written) when this worker no longer holds the row."""
    lease = {row_id: generation}
    where, params = _fence(lease, owner)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT attempts FROM {_table(model)} WHERE {where}", params)
        row = cursor.fetchone()
        if row is None:
            return "lost"
        attempts = row[0]
        dead = permanent or attempts >= max_attempts
        status = "dead" if dead else "pending"
        cursor.execute(f"UPDATE {_table(model)} SET status = %s, due_at = %s, last_error = %s, lease_owner = '', "
                       f"lease_until = NULL, finished_at = %s WHERE {where}",
                       [status, db_datetime(now if dead else now + backoff(attempts)), error[:500],
                        db_datetime(now) if dead else None, *params])
        if cursor.rowcount == 0:  # taken over between the two statements
            return "lost"
    return status
