"""sojourn events import FILE.jsonl [--source import]

Records touchpoint events from a file of JSON Lines (one event per line, as `POST /api/v1/events` takes
them: client_id, type, patient, occurred_at, data), a thousand at a time, each batch in a transaction
of its own, on two cores (tracking/services/stream.py: a helper process decides a batch while this one
writes the one before). Each event is checked on its own, as the API checks it: a good one
is stored with everything it causes, a bad one is named by its line and field and stored not at all.
Events are idempotent by client id, so running the same file again, after an interruption or after
fixing the refused lines, stores only what is missing. Exits 1 when a line was refused."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import CommandError, CommandParser
from django.db import OperationalError

from sojourn.core.actors import Actor
from sojourn.core.control_characters import control_character_paths
from sojourn.core.db import is_contention, refresh_statistics, tables_without_statistics
from sojourn.core.management.base import SojournCommand
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import MAX_BATCH
from sojourn.tracking.services.stream import record_event_stream

MAX_LINE = 64 * 1024  # an event is a few hundred bytes; a longer line is not one
SHOWN = 20  # refused lines printed one by one; the rest are counted
STATISTICS_AFTER = 10_000  # events stored by one import, after which the planner's statistics are refreshed


class Command(SojournCommand):
    help = "Record touchpoint events from a JSON Lines file (resumable: events already stored are skipped)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("import", help="record the events of a JSON Lines file")
        run.add_argument("file", type=Path)
        run.add_argument("--source", default="import", help="where the events came from, kept with each (20 "
                                                            "characters at most; default: import)")

    def handle(self, *args: Any, **o: Any) -> None:
        source = o["source"].strip()
        if not source or len(source) > 20:
            raise CommandError("--source must be 1 to 20 characters")
        try:
            stream = o["file"].open("rb")
        except OSError as error:
            raise CommandError(f"cannot read {o['file']}: {error.strerror}") from None
        size = max(o["file"].stat().st_size, 1)
        refused: list[tuple[int, str, str]] = []  # (line, field, why)
        lines: deque[list[int]] = deque()  # each batch's line numbers, in the order the results come back
        stored = duplicates = 0
        try:
            with stream, self.progress(f"events from {o['file'].name}") as progress:
                batches = _batches(stream, lines, refused)
                for result in record_event_stream(Actor.system("cli: events import"), batches, source=source):
                    numbers = lines.popleft()
                    stored += len(result.accepted)
                    duplicates += len(result.duplicates)
                    refused.extend((numbers[r.index], r.field, r.message) for r in result.rejected)
                    progress(stream.tell() * 1000 // size, 1000)
        except OperationalError as error:
            if not is_contention(error):
                raise
            raise CommandError(f"the database stayed busy ({error}); the batches before were stored: run the same "
                               "file again") from None
        # A large import changes the tables' sizes at once; a first one fills tables the planner knows nothing of.
        if stored >= STATISTICS_AFTER or (stored and tables_without_statistics([Event._meta.db_table])):
            refresh_statistics()
        self._report(o["file"], stored, duplicates, refused)

    def _report(self, path: Path, stored: int, duplicates: int, refused: list[tuple[int, str, str]]) -> None:
        self.stdout.write(f"{path.name}: {stored:,} events stored, {duplicates:,} stored before (skipped), "
                          f"{len(refused):,} lines refused.")
        for line, field, why in sorted(refused)[:SHOWN]:
            self.stdout.write(f"  line {line}: {field + ': ' if field else ''}{why}")
        if len(refused) > SHOWN:
            self.stdout.write(f"  … and {len(refused) - SHOWN:,} more.")
        if refused:
            raise CommandError("some lines were refused; fix them and run the same file again (what was stored "
                               "is skipped)")


def _batches(stream: BinaryIO, lines: deque[list[int]], refused: list[tuple[int, str, str]]
             ) -> Iterator[list[Any]]:
    """Events of up to a thousand lines at a time; a line that is not a JSON value is refused here."""
    batch: list[Any] = []
    numbers: list[int] = []
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE:
            refused.append((number, "", f"longer than {MAX_LINE // 1024} KB: not one event"))
            continue
        try:
            event = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            refused.append((number, "", "not UTF-8 text"))
            continue
        except (ValueError, RecursionError) as error:
            refused.append((number, "", f"not JSON: {str(error)[:120]}"))
            continue
        bad = next(control_character_paths(event), None)
        if bad is not None:  # PostgreSQL cannot store some of them; no database may hold any
            refused.append((number, ".".join(bad), "holds a control character (such as NUL)"))
            continue
        batch.append(event)
        numbers.append(number)
        if len(batch) == MAX_BATCH:
            lines.append(numbers)
            yield batch
            batch, numbers = [], []
    if batch:
        lines.append(numbers)
        yield batch
