"""sojourn insights refresh [--program SLUG] [--everything]

Brings the journey facts behind the KPIs up to date: what arrived since the last refresh, or
everything from scratch. The dashboard refreshes before it draws, so run this every few minutes
(cron, a systemd timer) where ingestion is heavy and pages must not do that work."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.insights.services.facts import refresh_journey_facts


class Command(SojournCommand):
    help = "Bring the journey facts behind the KPIs up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="recompute the facts of patients with something new")
        refresh.add_argument("--program", default="", help="program slug (default: every program)")
        refresh.add_argument("--everything", action="store_true", help="rebuild every patient's facts")

    def handle(self, *args: Any, **o: Any) -> None:
        programs = Program.objects.order_by("slug")
        if o["program"]:
            programs = programs.filter(slug=o["program"])
            if not programs.exists():
                raise CommandError(f"no program with the slug {o['program']!r}")
        for program in programs:
            with self.progress(f"Journey facts of {program.slug}") as progress:
                done = refresh_journey_facts(program, everything=o["everything"], progress=progress)
            self.stdout.write(f"{program.slug}: {done:,} patients' facts recomputed.")
