"""Bulk writes for the event path, where the ORM's per-object cost is larger than the work itself:
Django's bulk_update builds one CASE per field and row, and model instances cost more to build than
to store. These run one parameterised statement per batch, converting values as the fields would."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, models

MAX_BOUND_VALUES = 30_000


def _sqlite_datetimes() -> Callable[[datetime | None], str | None]:
    """A converter that remembers its last value: most rows of a batch carry the same `now`."""
    last: list[Any] = [None, None]

    def convert(value: datetime | None) -> str | None:
        if value is last[0]:
            return last[1]
        text = None if value is None else str(value.astimezone(UTC).replace(tzinfo=None))
        last[0], last[1] = value, text
        return text

    return convert


Converters = list[Callable[[Any], Any] | None]


def column_names(model: type[models.Model], fields: Sequence[str]) -> tuple[list[str], Converters]:
    """The quoted columns of these fields and a converter for each value that needs one (None where the
    value goes as it is): what the fields would write, without building their ORM objects."""
    names, kinds = _column_kinds(model, tuple(fields), connection.vendor, settings.USE_TZ)
    # Converters are made per statement: the SQLite one remembers its last value, the other belongs
    # to this thread's connection.
    return names, [_converter_for(kind) for kind in kinds]


def _converter_for(kind: str | None) -> Callable[[Any], Any] | None:
    if kind == "json":  # the text the ORM's JSONField writes (its exact lookups on SQLite compare that text)
        return json.dumps
    if kind == "sqlite-datetime":
        return _sqlite_datetimes()
    if kind == "datetime":
        return connection.ops.adapt_datetimefield_value
    return None


@functools.cache
def _column_kinds(model: type[models.Model], fields: tuple[str, ...], vendor: str, use_tz: bool
                  ) -> tuple[list[str], list[str | None]]:
    """Quoted column names and how each is converted, found once per process (the event path writes
    the same columns thousands of times, and looking the fields up cost more than converting)."""
    columns = [model._meta.get_field(name) for name in fields]
    kinds: list[str | None] = []
    for column in columns:
        if isinstance(column, models.JSONField):
            kinds.append("json")
        elif isinstance(column, models.DateTimeField):
            kinds.append("sqlite-datetime" if vendor == "sqlite" and use_tz else "datetime")
        else:
            kinds.append(None)
    return [connection.ops.quote_name(c.column) for c in columns], kinds


def _prepared(rows: Iterable[Sequence[Any]], convert: Converters) -> list[list[Any]]:
    """Each row as the database takes it: only the columns that need converting are touched."""
    width = len(convert)
    active = [(i, c) for i, c in enumerate(convert) if c is not None]
    out = []
    for row in rows:
        values = list(row)
        if len(values) != width:
            raise ValueError(f"a row of {len(values)} values for {width} columns")
        for i, c in active:
            values[i] = c(values[i])
        out.append(values)
    return out


def update_sql(model: type[models.Model], fields: Sequence[str], key: str = "id", increment: str | None = None
               ) -> tuple[str, Converters]:
    """UPDATE model SET fields… WHERE key = …, and a converter per value (the key's last, None); with
    `increment`, that column is also raised by one in each row."""
    names, convert = column_names(model, fields)
    key_column = connection.ops.quote_name(model._meta.get_field(key).column)
    assignments = ", ".join(f"{name} = %s" for name in names)
    if increment:
        column = connection.ops.quote_name(model._meta.get_field(increment).column)
        assignments += f", {column} = {column} + 1"
    sql = f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} WHERE {key_column} = %s"
    return sql, [*convert, None]


def insert_sql(model: type[models.Model], fields: Sequence[str], skip_conflicts_on: str | None = None,
               conflict_update: str = "") -> tuple[str, Converters]:
    """INSERT of values in `fields` order, and a converter per value; with skip_conflicts_on, a row whose
    unique column is taken already is skipped (ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike),
    or updated with `conflict_update`."""
    names, convert = column_names(model, fields)
    conflict = ""
    if skip_conflicts_on:
        target = connection.ops.quote_name(model._meta.get_field(skip_conflicts_on).column)
        conflict = f" ON CONFLICT ({target}) DO {('UPDATE SET ' + conflict_update) if conflict_update else 'NOTHING'}"
    table = connection.ops.quote_name(model._meta.db_table)
    return (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}){conflict}",
            convert)


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]],
                key: str = "id", increment: str | None = None) -> None:
    """Run `update_sql` for rows of (value per field…, key value). On PostgreSQL, rows with distinct keys
    go as one statement over one JSON document (`_pg_update`)."""
    if not rows:
        return
    if connection.vendor == "postgresql" and len(rows) > 1 and len({row[-1] for row in rows}) == len(rows):
        _pg_update(model, fields, rows, key, increment)
        return
    sql, convert = update_sql(model, fields, key, increment)
    with connection.cursor() as cursor:
        cursor.executemany(sql, _prepared(rows, convert))


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], *,
                skip_conflicts_on: str | None = None, conflict_update: str = "") -> None:
    """Run `insert_sql` for rows of values in `fields` order (on PostgreSQL, one statement over a JSON document)."""
    if not rows:
        return
    sql, convert = insert_sql(model, fields, skip_conflicts_on, conflict_update)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1:
            before, after = sql.split(" VALUES (", 1)
            cursor.execute(f"{before} {_pg_rows(model, fields)}{after.split(')', 1)[1]}",
                           _pg_document(rows, convert))
        else:
            cursor.executemany(sql, _prepared(rows, convert))


def insert_new_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]],
                    returning: Sequence[str]) -> list[tuple[Any, ...]]:
    """INSERT rows, skipping any that a unique constraint already holds, and return `returning` of the
    rows written: one statement per 1,000 rows (the duplicate check, the insert and the read of the
    new ids in one round trip)."""
    if not rows:
        return []
    names, convert = column_names(model, fields)
    back = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in returning)
    row_marks = "(" + ", ".join(["%s"] * len(names)) + ")"
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({', '.join(names)}) {_pg_rows(model, fields)} "
                           f"ON CONFLICT DO NOTHING RETURNING {back}", _pg_document(rows, convert))
            return cursor.fetchall()
    out: list[tuple[Any, ...]] = []
    # Up to 1,000 rows a statement, within the bound values a statement may carry (SQLite 32,766).
    step = max(1, min(1000, MAX_BOUND_VALUES // len(names)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            sql = (f"INSERT INTO {table} ({', '.join(names)}) "
                   f"VALUES {', '.join([row_marks] * len(chunk))} ON CONFLICT DO NOTHING RETURNING {back}")
            cursor.execute(sql, [v for row in _prepared(chunk, convert) for v in row])
            out.extend(cursor.fetchall())
    return out


# ---- PostgreSQL: a batch of rows as one statement over one JSON document --------------------------
# executemany sends every row as an execution of its own (pipelined, but each parsed, bound and run on
# the server): 60–150 ms per 1,000 rows on the event path, which made PostgreSQL a third of SQLite's
# speed. One array per column through `unnest` wrote the batch in one execution, but psycopg quotes
# every element of an array in Python: 22 ms per 1,000 rows of seven columns, most of it escaping the
# JSON columns' text. The batch now goes as one JSON document (the standard library's encoder, in C),
# which PostgreSQL's own parser splits into rows and casts column by column: 4.5 ms for the same rows
# (docs/benchmarks.md, 2026-12-07). Same ON CONFLICT and RETURNING, same casts as the columns' types.

@functools.cache
def _pg_column_types(model: type[models.Model], fields: tuple[str, ...]) -> list[str]:
    return [model._meta.get_field(name).db_type(connection) for name in fields]


def _pg_columns(model: type[models.Model], fields: Sequence[str], names: Sequence[str] | None = None) -> str:
    """Each field of a row of the document, as its column's type (a JSON column's value is the text the
    converter made of it, parsed here)."""
    casts = [f"(r->>{n})::{kind}" for n, kind in enumerate(_pg_column_types(model, tuple(fields)))]
    if names is not None:
        casts = [f"{cast} AS {name}" for cast, name in zip(casts, names, strict=True)]
    return ", ".join(casts)


def _pg_rows(model: type[models.Model], fields: Sequence[str]) -> str:
    return f"SELECT {_pg_columns(model, fields)} FROM json_array_elements(%s::json) AS r"


def _json_scalar(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)  # Decimal, UUID: their text is what PostgreSQL reads


def _pg_document(rows: Sequence[Sequence[Any]], convert: Converters) -> list[str]:
    """The rows, each value converted as the field would write it, as one JSON document (the one
    parameter of the statement)."""
    return [json.dumps(_prepared(rows, convert), default=_json_scalar, separators=(",", ":"))]


def _pg_update(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], key: str,
               increment: str | None) -> None:
    names, convert = column_names(model, fields)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key_column = quote(model._meta.get_field(key).column)
    columns = [f"c{n}" for n in range(len(names))]
    assignments = ", ".join(f"{name} = u.{column}" for name, column in zip(names, columns, strict=True))
    if increment:
        counter = quote(model._meta.get_field(increment).column)
        assignments += f", {counter} = {table}.{counter} + 1"
    values = _pg_columns(model, (*fields, key), [*columns, "k"])
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} FROM (SELECT {values} FROM json_array_elements(%s::json) "
                       f"AS r) AS u WHERE {table}.{key_column} = u.k", _pg_document(rows, [*convert, None]))


def select_rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """A plain SELECT, for the small reads every event and worker batch repeats (the market list, live
    rule sets, a program's stages and needs), where compiling the ORM query costs more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def rows_for_ids(sql: str, ids: Iterable[int | str], params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a SELECT in which ``{ids}`` stands for "is one of these ids" (or keys), as one bound parameter (a JSON
    array on SQLite, an array on PostgreSQL) rather than a thousand placeholders; `params` fill the
    other placeholders in order. For the reads of the event path and the worker, where building
    the ORM query and its value converters cost more than the query. Read values with `as_datetime`,
    `as_time` and `as_json`, which accept what either database returns."""
    wanted = list(ids)
    if not wanted:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*_for_ids(sql, wanted, params))
        return cursor.fetchall()


def _for_ids(sql: str, wanted: list[int | str], params: Sequence[Any]) -> tuple[str, list[Any]]:
    before, after = sql.split("{ids}")
    if connection.vendor == "sqlite":
        clause, bound = "IN (SELECT value FROM json_each(%s))", json.dumps(wanted)
    else:
        clause, bound = "= ANY(%s)", wanted
    position = before.count("%s")
    return before + clause + after, [*params[:position], bound, *params[position:]]


# PostgreSQL's "try again" states: serialization failure, deadlock broken, lock not available.
_RETRY_SQLSTATES = {"40001", "40P01", "55P03"}


def is_transient(error: BaseException) -> bool:
    """PostgreSQL failed this transaction to break a deadlock or a serialization conflict: running it
    again at once is the remedy it asks for."""
    return isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) in _RETRY_SQLSTATES


def is_contention(error: BaseException) -> bool:
    """Whether the database refused this transaction only because others held what it needed (SQLite's
    write lock past the busy timeout, or `is_transient`): it was rolled back whole, and sending the
    same request again works."""
    return is_transient(error) or (isinstance(error, OperationalError) and str(error).startswith(
        ("database is locked", "database table is locked")))


def read_locked(model: type[models.Model], ids: Iterable[int], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Read these rows and hold them until the transaction ends. On PostgreSQL transactions write side
    by side: two that read a patient's counters, caps or flags and then write them would each write
    over the other, so the rows are locked (in id order: two overlapping sets wait for each other
    instead of deadlocking). On SQLite the transaction holds the database's one write lock from its
    start (IMMEDIATE), so the read alone is enough."""
    if not connection.in_atomic_block:
        raise RuntimeError("read_locked holds rows for a transaction: call it inside one")
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    key = connection.ops.quote_name(model._meta.pk.column)
    return rows_for_ids(f"SELECT {names} FROM {connection.ops.quote_name(model._meta.db_table)} "
                        f"WHERE {key} {{ids}} ORDER BY {key}{for_update()}", sorted(set(ids)))


def rows_for_pairs(sql: str, pairs: Iterable[tuple[int, int]]) -> list[tuple[Any, ...]]:
    """Like `rows_for_ids` for two columns: ``{pairs}`` stands for "is one of these pairs of ids",
    written after a row value such as ``(patient_id, need_id)``."""
    wanted = list(pairs)
    if not wanted:
        return []
    before, after = sql.split("{pairs}")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(before + "IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
                           "FROM json_each(%s))" + after, [json.dumps(wanted)])
        else:
            cursor.execute(before + "IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))" + after,
                           [[a for a, _b in wanted], [b for _a, b in wanted]])
        return cursor.fetchall()


def json_part(column: str, *keys: str) -> str:
    """A part of a JSON column, in either database's words, read back with `as_json` (a whole pack
    decoded in Python for one value costs more than the query that read it)."""
    if connection.vendor == "sqlite":
        return f"json_extract({column}, '$.{'.'.join(keys)}')"
    return f"{column} #> '{{{','.join(keys)}}}'"


def json_text(column: str, *keys: str) -> str:
    """A text value inside a JSON column, read back as a plain string (None when it is missing)."""
    if connection.vendor == "sqlite":
        return f"json_extract({column}, '$.{'.'.join(keys)}')"
    return f"{column} #>> '{{{','.join(keys)}}}'"


def for_update() -> str:
    """What ends a plain SELECT that locks its rows until the transaction ends (SQLite, one writer at a
    time, has no such clause and needs none)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def db_datetime(value: datetime) -> Any:
    """A timestamp as a bound parameter of a plain statement, written as the ORM writes it."""
    return connection.ops.adapt_datetimefield_value(value)


def db_date(value: date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def joined_text(column: str) -> str:
    """An aggregate joining a text column's values with commas, in either database's words."""
    if connection.vendor == "sqlite":
        return f"group_concat({column}, ',')"
    return f"string_agg({column}, ',')"


def as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    # SQLite keeps UTC without an offset (Django's connection parses it into a naive datetime).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def as_time(value: Any) -> time | None:
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(value)


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def refresh_statistics() -> None:
    """The query planner's statistics, refreshed after whatever changes tables' sizes at once (migrations,
    a bulk build, an import, the demo). Without them PostgreSQL guesses: after a bulk build it ran the
    consent look-up for 1,000 patients as a nested loop over 72 million rows (8.6 s; 8 ms with them).
    Sampled, so seconds on a large database; PostgreSQL's autovacuum keeps them fresh afterwards."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")  # a sample per index, as PRAGMA optimize does
        cursor.execute("ANALYZE")


def tables_without_statistics(tables: Iterable[str]) -> list[str]:
    """Those of `tables` that hold rows but that the planner has no statistics for (never analyzed)."""
    wanted = sorted(set(tables))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            analyzed: set[str] = set()
            if cursor.fetchone():
                cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
                analyzed = {row[0] for row in cursor.fetchall()}
            unknown = [t for t in wanted if t not in analyzed]
        else:  # reltuples is -1 until the table's first ANALYZE or VACUUM (PostgreSQL 14 and later)
            cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind IN ('r', 'p') "
                           "AND reltuples < 0", [wanted])
            unknown = sorted(row[0] for row in cursor.fetchall())
        quote = connection.ops.quote_name
        missing = []
        for table in unknown:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")
            if cursor.fetchone()[0]:
                missing.append(table)
    return missing
