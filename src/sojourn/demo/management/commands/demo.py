"""sojourn demo [--no-serve] [--port N] [--patients N] [--days D] [--seed S]: migrate, build the demo's
programs as they were `days` ago (each from its folder of files), live a cohort through each until
now, print sign-ins, serve."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser

from sojourn.core.management.base import SojournCommand
from sojourn.demo.builder import DEMO_PASSWORD, STAFF, build_demo_programs
from sojourn.demo.folder import DEMO_PROGRAMS
from sojourn.demo.journeys import revise_demo_journey_on_evidence
from sojourn.simulation.models import SimulationRun
from sojourn.simulation.runner import default_start

DEMO_PATIENTS = 5000  # the demo issue's cohort: about ten minutes on two cores (see the README)
SMALLER = 5  # each other program lives a fifth of the main program's cohort
DEMO_DAYS = 180


class Command(SojournCommand):
    help = "Build the demo program on the configured database (SQLite in var/ by default) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="only build the demo")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--patients", type=int, default=DEMO_PATIENTS, help="simulated patients (0: none)")
        parser.add_argument("--days", type=int, default=DEMO_DAYS, help="days of program life to simulate")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, no_serve: bool, port: int, patients: int, days: int, seed: int,
               **options: Any) -> None:
        if patients < 0 or not 1 <= days <= 3650:
            raise CommandError("--patients cannot be negative and --days is from 1 to 3,650")
        console = self.console()
        console.print("[bold]Migrating the database…[/bold]")
        call_command("migrate", interactive=False, verbosity=0)
        run = SimulationRun.objects.filter(program__slug=DEMO_PROGRAMS[0].slug, seed=seed, patients=patients,
                                           days=days).first()
        # The program is built the day before the simulated cohort starts, so its history reads in order.
        built_on = run.starts_at if run else default_start(days)
        with console.status("Building the demo programs…") as status, \
                time_machine.travel(built_on - timedelta(days=1), tick=True):
            programs = build_demo_programs(progress=lambda step: status.update(f"Building the demo: {step}…"))
        program = programs[0]
        console.print("[bold green]Demo programs ready:[/bold green] " + ", ".join(p.name for p in programs))
        for built, folder in zip(programs, DEMO_PROGRAMS, strict=True):
            cohort = patients if built == program else patients // SMALLER
            if not cohort:
                continue
            console.print(f"{built.name}: living {cohort:,} patients through {days} days of the program (seed "
                          f"{seed}); interrupted, it resumes where it stopped.")
            call_command("simulate", program=built.slug, cohort=str(folder.path / "cohort.yaml"), patients=cohort,
                         days=days, seed=seed)
        if patients:
            revised = revise_demo_journey_on_evidence(program, "analyst@demo.sojourn.example")
            if revised is not None:
                console.print(f"The patient journey is revised on the evidence (version {revised.number}).")
        console.print(f"\nOpen http://127.0.0.1:{port}/ and sign in with password [bold]{DEMO_PASSWORD}[/bold] as:")
        for member in STAFF:
            role = member.role.label if member.role else "Platform administrator"
            scope = ", ".join(member.markets) if member.markets else "all markets"
            console.print(f"  {member.email:<34} {role} ({scope})")
        base = f"http://127.0.0.1:{port}"
        console.print("\nPatient portal (enroll, then sign in with the code we email):")
        for country in ("DE", "US", "GB", "JP", "CA"):
            console.print(f"  {base}/p/{program.slug}/{country}/enroll/")
        for other in programs[1:]:
            for country in other.program_markets.values_list("market__country", flat=True):
                console.print(f"  {base}/p/{other.slug}/{country}/enroll/  ({other.name})")
        console.print(f"  sign in: {base}/p/sign-in/")
        console.print(f"HCP portal: {base}/p/{program.slug}/US/hcp/enroll/ (sign in: {base}/p/hcp/sign-in/)")
        if not settings.EMAIL_HOST:
            console.print(f"Without SOJOURN_EMAIL_HOST, codes are written as mail files to {settings.EMAIL_FILE_PATH}")
        if not no_serve:
            call_command("serve", port=port)
