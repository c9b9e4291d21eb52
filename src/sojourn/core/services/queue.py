"""Claiming, completing and retrying rows of a database work queue (agenda, outbox).

PostgreSQL: any number of workers claim with `FOR UPDATE SKIP LOCKED`, so two never take one row.
SQLite: one writer at a time by nature; `sojourn worker` holds a lock file so only one worker runs.
A claim is a lease: a worker that dies leaves rows whose lease expires, and `release_expired` hands
them to the next worker. Completion checks the lease owner, so a worker whose lease was taken over
cannot complete (and so cannot commit the effects of) a row twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import connection, models

from sojourn.core.db import db_datetime

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def claim(model: type[models.Model], *, owner: str, limit: int, lease: timedelta, now: datetime,
          lanes: Iterable[int] | None = None) -> list[int]:
    """Take up to `limit` due rows, most urgent lane first, then oldest due, then first written; returns
    their ids (in no order: callers read the rows in that same order)."""
    table = _table(model)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    lane_list = sorted(set(lanes)) if lanes is not None else None
    lane_sql = f" AND lane IN ({', '.join(str(int(lane)) for lane in lane_list)})" if lane_list else ""
    sql = (f"UPDATE {table} SET status = 'claimed', lease_owner = %s, lease_until = %s, attempts = attempts + 1 "  # noqa: S608
           f"WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND due_at <= %s{lane_sql} "
           f"ORDER BY lane, due_at, id LIMIT %s{lock}) RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [owner, db_datetime(now + lease), db_datetime(now), limit])
        return [row[0] for row in cursor.fetchall()]


def release_expired(model: type[models.Model], *, now: datetime) -> int:
    """Rows whose worker died: back to pending (their attempt counts, so a poison row still ends dead)."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_table(model)} SET status = 'pending', lease_owner = '', lease_until = NULL "  # noqa: S608
                       "WHERE status = 'claimed' AND lease_until < %s", [db_datetime(now)])
        return cursor.rowcount


def complete(model: type[models.Model], ids: list[int], *, owner: str, now: datetime,
             status: str = "done", also: Mapping[str, str] | None = None) -> int:
    """Finish rows this worker still holds, setting the text columns in `also` in the same statement;
    returns how many (fewer means a lease was taken over)."""
    if not ids:
        return 0
    extra = also or {}
    more = "".join(f", {connection.ops.quote_name(model._meta.get_field(name).column)} = %s" for name in extra)
    done = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"UPDATE {_table(model)} SET status = %s, finished_at = %s, lease_owner = '', "  # noqa: S608
                           f"lease_until = NULL{more} WHERE lease_owner = %s AND status = 'claimed' "
                           f"AND id IN ({marks})", [status, db_datetime(now), *extra.values(), owner, *chunk])
            done += cursor.rowcount
    return done


def still_held(model: type[models.Model], ids: list[int], *, owner: str, now: datetime) -> set[int]:
    """The rows whose lease this worker still holds: checked before anything leaves the building."""
    if not ids:
        return set()
    held: set[int] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT id FROM {_table(model)} WHERE lease_owner = %s AND status = 'claimed' "  # noqa: S608
                           f"AND lease_until > %s AND id IN ({marks})", [owner, db_datetime(now), *chunk])
            held.update(row[0] for row in cursor.fetchall())
    return held


def give_back(model: type[models.Model], ids: list[int], *, owner: str, error: str) -> int:
    """Rows this worker claimed but could not work on because the database was busy with others (a
    lock held past the busy timeout, a deadlock PostgreSQL broke): pending again at once, their attempt
    given back, so contention never walks a row toward dead."""
    given = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"UPDATE {_table(model)} SET status = 'pending', lease_owner = '', lease_until = NULL, "  # noqa: S608
                           "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = %s "
                           f"WHERE lease_owner = %s AND status = 'claimed' AND id IN ({marks})",
                           [error[:500], owner, *chunk])
            given += cursor.rowcount
    return given


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def fail(model: type[models.Model], row_id: int, *, owner: str, now: datetime, error: str,
         permanent: bool = False, max_attempts: int = MAX_ATTEMPTS) -> str:
    """A failed attempt: retry later with backoff, or dead after the last attempt (or at once if permanent)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT attempts FROM {_table(model)} WHERE id = %s AND lease_owner = %s",  # noqa: S608
                       [row_id, owner])
        row = cursor.fetchone()
        if row is None:
            return "lost"
        attempts = row[0]
        dead = permanent or attempts >= max_attempts
        status = "dead" if dead else "pending"
        cursor.execute(f"UPDATE {_table(model)} SET status = %s, due_at = %s, last_error = %s, lease_owner = '', "  # noqa: S608
                       "lease_until = NULL, finished_at = %s WHERE id = %s",
                       [status, db_datetime(now if dead else now + backoff(attempts)), error[:500],
                        db_datetime(now) if dead else None, row_id])
    return status
