"""sojourn simulate --program SLUG [--cohort FILE] --patients N --days D --seed S: run a cohort through the
program on a simulated clock. Without --cohort, a demo program's own cohort file is taken."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import sojourn
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.simulation.models import SimulationRun
from sojourn.simulation.population import Population, read_population_file
from sojourn.simulation.runner import MAGAZINE_EVERY, simulate


class Command(SojournCommand):
    help = ("Simulate a cohort of patients living through the program for some days: real enrollment, events, "
            "rules, agenda, outbox and channels on a simulated clock. The same seed gives the same result; an "
            "interrupted run resumes where it stopped.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", default="psoriasis-companion", help="the program's slug")
        parser.add_argument("--cohort", default="", metavar="FILE",
                            help="who the patients are (a cohort file, docs/simulation.md); by default the demo "
                                 "program's own, and a resumed run keeps the one it started with")
        parser.add_argument("--patients", type=int, default=5000)
        parser.add_argument("--days", type=int, default=180)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--start", type=date.fromisoformat, default=None,
                            help="day 0 as YYYY-MM-DD (midnight UTC); by default the run ends now")
        parser.add_argument("--nurse-calls-per-day", type=int, default=30,
                            help="calls the nurse team makes a day in each market")
        parser.add_argument("--magazine-every", type=int, default=MAGAZINE_EVERY,
                            help="days between issues of the printed magazine (0: none)")

    def handle(self, *args: Any, program: str, cohort: str, patients: int, days: int, seed: int,
               nurse_calls_per_day: int, magazine_every: int, start: date | None, **options: Any) -> None:
        if not 1 <= patients <= 1_000_000:
            raise CommandError("--patients must be from 1 to 1,000,000")
        if not 1 <= days <= 3650:
            raise CommandError("--days must be from 1 to 3,650")
        if nurse_calls_per_day < 0:
            raise CommandError("--nurse-calls-per-day cannot be negative")
        if magazine_every < 0:
            raise CommandError("--magazine-every cannot be negative (0: no magazine)")
        found = Program.objects.filter(slug=program).first()
        if found is None:
            raise CommandError(f"there is no program {program!r} (build the demo with `sojourn demo --no-serve`)")
        population = _population(cohort, found.slug)
        console = self.console()
        before = SimulationRun.objects.filter(program=found, seed=seed, patients=patients, days=days).first()
        if before is not None and before.days_done:
            console.print(f"Resuming at day {before.days_done} of {days}.")
        with Progress(TextColumn("[bold]Simulating[/bold]"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("days"), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("days", total=days, completed=before.days_done if before else 0)
            run = simulate(program=found, patients=patients, days=days, seed=seed, population=population,
                           nurse_calls_per_day=nurse_calls_per_day, magazine_every=magazine_every,
                           start=datetime.combine(start, time(0), tzinfo=UTC) if start else None,
                           progress=lambda r: bar.update(task, completed=r.days_done))
        totals = run.totals
        console.print(f"[green]Done:[/green] {totals.get('enrolled', 0):,} enrolled, {totals.get('verified', 0):,} "
                      f"confirmed, {totals.get('events', 0):,} events, {totals.get('sent', 0):,} messages sent, "
                      f"{totals.get('calls', 0):,} nurse calls, {totals.get('magazines', 0):,} magazines printed "
                      f"({totals.get('magazines_delivered', 0):,} delivered), {totals.get('withdrawn', 0):,} withdrew.")


def _population(path: str, slug: str) -> Population | None:
    """The cohort named, else a demo program's own (a file beside its definition, read, not imported:
    the demo is above the simulator), else none (a resumed run has its own)."""
    if not path:
        demo = Path(sojourn.__file__).parent / "demo" / "programs" / slug / "cohort.yaml"
        if not demo.exists():
            return None
        path = str(demo)
    reading = read_population_file(path)
    if not reading.ok:
        raise CommandError("\n".join(str(problem) for problem in reading.problems))
    return reading.document
