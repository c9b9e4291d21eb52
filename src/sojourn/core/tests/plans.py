"""How the database plans a query, in words a test can assert on: which tables it reads whole.

`reads(sql, params)` asks the database for the plan of a statement (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN (FORMAT JSON) on PostgreSQL, where full reads are forbidden while planning so that a tiny test
table shows which index would serve it at volume: FORBIDDEN) and gives one `Read` per table access: the index it
goes through, "PRIMARY KEY", or "SCAN" when the table, or a whole index that is not partial, is read from
end to end. A partial index (a queue's waiting rows) read whole is the point of it and is named."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, transaction

# On a tiny test table PostgreSQL reads whole what it would look up at volume: a table read whole,
# and the joins that read their inputs whole (hash and merge), are forbidden while planning, so what
# is left is the index that would serve each look-up, or a full read when there is none.
FORBIDDEN = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")


@dataclass(frozen=True)
class Read:
    table: str
    how: str  # an index's name, "PRIMARY KEY", "SCAN", or "SORT" (a temporary sort; table "")


def partial_indexes() -> set[str]:
    return {index.name for model in apps.get_models() for index in model._meta.indexes
            if getattr(index, "condition", None) is not None}


def reads(sql: str, params: Sequence[Any] | None = None, *, statistics: bool = True) -> list[Read]:
    """`statistics=False` plans as if no table had ever been analyzed: on SQLite, the only way to ask
    which index would serve a look-up on a few test rows, since statistics an earlier test left on the
    connection (a tiny table) make a full read the right plan."""
    if connection.vendor == "sqlite":
        return _sqlite_reads(sql, params, statistics)
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in FORBIDDEN:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        for setting in FORBIDDEN:  # SET LOCAL outlives the savepoint, until the test's transaction ends
            cursor.execute(f"RESET {setting}")
    partial = partial_indexes()
    found: list[Read] = []
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        kind, table, index = node["Node Type"], node.get("Relation Name", ""), node.get("Index Name", "")
        if kind in {"Sort", "Incremental Sort"}:
            found.append(Read("", "SORT"))
        elif kind == "Seq Scan":
            found.append(Read(table, "SCAN"))
        elif index:
            whole = "Index Cond" not in node and "Recheck Cond" not in node and index not in partial
            found.append(Read(table or _table_of(index), "SCAN" if whole else
                              "PRIMARY KEY" if index.endswith("_pkey") else index))
    return found


def _sqlite_reads(sql: str, params: Sequence[Any] | None, statistics: bool) -> list[Read]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_stat%'")
        kept = [name for (name,) in cursor.fetchall()]
        blind = not statistics and bool(kept)
        with transaction.atomic():
            if blind:
                for name in kept:
                    cursor.execute(f"DELETE FROM {name}")  # names read from sqlite_schema
                cursor.execute("ANALYZE sqlite_schema")  # re-reads the (now empty) statistics
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            found = [r for _id, _parent, _unused, line in cursor.fetchall() if (r := _sqlite_read(line))]
            transaction.set_rollback(True)  # the statistics come back as they were
        if blind:
            cursor.execute("ANALYZE sqlite_schema")
    return found


def _sqlite_read(line: str) -> Read | None:
    if "TEMP B-TREE" in line:
        return Read("", "SORT")
    words = line.split()
    if len(words) < 2 or words[0] not in {"SCAN", "SEARCH"} or words[1] in {"json_each", "CONSTANT"}:
        return None
    table = words[1]
    if words[0] == "SCAN" and " INDEX " not in line:
        return Read(table, "SCAN")
    if "PRIMARY KEY" in line:
        return Read(table, "PRIMARY KEY")
    index = line.split(" INDEX ")[1].split()[0]
    return Read(table, "SCAN" if words[0] == "SCAN" and index not in partial_indexes() else index)


def _table_of(index: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_indexes WHERE indexname = %s", [index])
        row = cursor.fetchone()
    return row[0] if row else ""


@contextmanager
def statements() -> Iterator[list[tuple[str, Sequence[Any]]]]:
    """The SELECT and UPDATE statements run inside the block, with their parameters, to plan afterwards."""
    seen: list[tuple[str, Sequence[Any]]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not many and sql.lstrip().split(None, 1)[0].upper() in {"SELECT", "UPDATE", "WITH"}:
            seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def full_reads(found: list[tuple[str, Sequence[Any]]], tables: set[str]) -> dict[str, list[Read]]:
    """Each statement that reads one of `tables` whole, with how it reads everything."""
    out = {}
    for sql, params in found:
        planned = reads(sql, params)
        if any(r.how == "SCAN" and r.table in tables for r in planned):
            out[sql] = planned
    return out
