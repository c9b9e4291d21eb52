"""What every `sojourn` command shares: a rich console, progress bars, and domain errors as exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sojourn.core.errors import SojournError


class SojournCommand(BaseCommand):
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
        lines = [error.message]
        for detail in error.details:
            where = f"line {detail.line}: " if detail.line else ""
            field = f"{detail.field}: " if detail.field else ""
            lines.append(f"  {where}{field}{detail.message}")
        return CommandError("\n".join(lines))
