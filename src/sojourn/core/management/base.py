"""What every `sojourn` command shares: a rich console, progress bars, and domain errors as exit codes.

The one place a refusal becomes CLI output: a SojournError that leaves a command's handle() is printed as
its message and one line per problem (file, line or row, field), with exit status 1 and no traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sojourn.core.errors import ErrorDetail, SojournError


class SojournCommand(BaseCommand):
    line_label = "line"  # what a problem's line number counts in this command's input
    source = ""  # the input file a command reads, named before each problem

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except SojournError as error:
            raise self.fail(error) from None
        except DatabaseError:
            if _unmigrated():  # a fresh database file, or one an upgrade has not reached yet
                raise CommandError("The database is not set up for this version of Sojourn: run `sojourn migrate` "
                                   "first.") from None
            raise

    def console(self) -> Console:
        return Console(file=self.stdout._out, highlight=False, soft_wrap=True)  # type: ignore[attr-defined]

    @contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int], None]]:
        """Yield a callback (done, total) that draws a progress bar on the terminal."""
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(file=self.stderr._out), transient=False) as bar:  # type: ignore[attr-defined]
            task = bar.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None)

            yield update

    def fail(self, error: SojournError) -> CommandError:
        """Return the refusal as a command error: its message, then each problem where it is."""
        lines = [error.message]
        details = error.details or ([ErrorDetail(error.message, field=error.field)] if error.field else [])
        for detail in details:
            where = ", ".join(part for part in (f"{self.line_label} {detail.line}" if detail.line else "",
                                                detail.field or "") if part)
            source = f"{self.source}: " if self.source else ""
            lines.append(f"  {source}{where}: {detail.message}" if where else f"  {source}{detail.message}")
        return CommandError("\n".join(lines))


def _unmigrated() -> bool:
    """Whether migrations are waiting to be applied to the default database."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return True
