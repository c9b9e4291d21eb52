"""Bulk writes made ready before their transaction: the statement and every row's values as the database
takes them, tagged with the patient each row is about.

Ingestion decides a batch before its write transaction (tracking/services/ingestion.py) and only runs
these inside it, so the time under the database's write lock is spent writing, not converting. A
value that names an event of the batch, which has no id yet, is an `EventId`, filled in when the
batch's events are stored; the rows about a patient whose state moved meanwhile are dropped. The
objects hold plain values only, so a batch decided in one process can be written by another.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, models

from sojourn.core.db import insert_sql, update_sql


class EventId(NamedTuple):
    """The id of the batch's `slot`-th event: the number itself (`before` None), or text with the id
    inside (a key such as `e<id>:…`, a JSON document that names the event)."""

    slot: int
    before: str | None = None
    after: str = ""

    def filled(self, ids: Sequence[int | None]) -> int | str:
        pk = ids[self.slot]
        if pk is None:
            raise RuntimeError("an event named by a write was not stored")
        return pk if self.before is None else f"{self.before}{pk}{self.after}"


@dataclass
class Statement:
    """One parameterised statement and its rows (each row's patient beside it)."""

    sql: str
    rows: list[list[Any]]
    patients: list[int]
    later: list[tuple[int, int]] = field(default_factory=list)  # (row, column) of the EventIds

    def drop(self, patient_ids: Collection[int]) -> None:
        kept = [n for n, pid in enumerate(self.patients) if pid not in patient_ids]
        if len(kept) == len(self.rows):
            return
        renumber = {old: new for new, old in enumerate(kept)}
        self.later = [(renumber[row], column) for row, column in self.later if row in renumber]
        self.rows = [self.rows[n] for n in kept]
        self.patients = [self.patients[n] for n in kept]

    def run(self, ids: Sequence[int | None] = ()) -> None:
        if not self.rows:
            return
        for row, column in self.later:
            self.rows[row][column] = self.rows[row][column].filled(ids)
        self.later = []
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, self.rows)


@dataclass
class Writes:
    """What a part of the product decided about a batch: statements, then calls to make after them. A
    call is a module-level function with a list of items, each about one patient (its first value),
    and the batch's time: `function(items, now)`, such as the audited stage changes rules decided."""

    statements: list[Statement] = field(default_factory=list)
    calls: list[tuple[Callable[[list[tuple[Any, ...]], datetime], None], list[tuple[Any, ...]], datetime]] = \
        field(default_factory=list)

    def drop(self, patient_ids: Collection[int]) -> None:
        if patient_ids:
            for statement in self.statements:
                statement.drop(patient_ids)
            self.calls = [(call, [item for item in items if item[0] not in patient_ids], now)
                          for call, items, now in self.calls]

    def run(self, ids: Sequence[int | None] = ()) -> None:
        for statement in self.statements:
            statement.run(ids)
        for call, items, now in self.calls:
            if items:
                call([tuple(v.filled(ids) if isinstance(v, EventId) else v for v in item) for item in items], now)


def insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], patients: Iterable[int],
           *, skip_conflicts_on: str | None = None, conflict_update: str = "", later: Collection[str] = ()
           ) -> Statement:
    """core.db.insert_sql with its rows converted now; the fields in `later` may hold EventIds."""
    sql, convert = insert_sql(model, fields, skip_conflicts_on, conflict_update)
    return _statement(sql, rows, patients, convert, [fields.index(f) for f in later])


def update(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], patients: Iterable[int],
           *, key: str = "id", increment: str | None = None) -> Statement:
    """core.db.update_sql with its rows (value per field…, key value) converted now."""
    sql, convert = update_sql(model, fields, key, increment)
    return _statement(sql, rows, patients, convert, [])


def _statement(sql: str, rows: Iterable[Sequence[Any]], patients: Iterable[int],
               convert: list[Callable[[Any], Any] | None], later_columns: list[int]) -> Statement:
    """Values converted as the fields would convert them; an EventId (only in `later_columns`) is left
    for later."""
    out: list[list[Any]] = []
    later: list[tuple[int, int]] = []
    active = [(i, c) for i, c in enumerate(convert) if c is not None and i not in later_columns]
    maybe = [(i, convert[i]) for i in later_columns]
    for n, row in enumerate(rows):
        values = list(row)
        if len(values) != len(convert):
            raise ValueError(f"a row of {len(values)} values for {len(convert)} columns")
        for i, c in active:
            values[i] = c(values[i])
        for i, c in maybe:
            if isinstance(values[i], EventId):
                later.append((n, i))
            elif c is not None:
                values[i] = c(values[i])
        out.append(values)
    return Statement(sql, out, list(patients), later)
