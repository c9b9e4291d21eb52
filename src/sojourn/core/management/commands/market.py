"""sojourn market validate PATH… | sojourn market activate PATH… [--program SLUG]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.packs import read_pack_file
from sojourn.core.services.markets import activate_market


class Command(SojournCommand):
    help = "Validate market packs, or activate markets from them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="report every problem in one or more packs; writes nothing")
        validate.add_argument("paths", nargs="+", metavar="PATH")
        activate = sub.add_parser("activate", help="create or update markets from packs, all or nothing")
        activate.add_argument("paths", nargs="+", metavar="PATH")
        activate.add_argument("--program", help="also run the program with this slug in these markets")

    def handle(self, *args: Any, action: str, paths: list[str], program: str | None = None, **options: Any) -> None:
        readings = [read_pack_file(path) for path in paths]
        bad = [r for r in readings if not r.ok]
        for reading in readings:
            if reading.ok:
                self.stdout.write(f"{reading.path}: ok ({reading.pack.country}, sha256 {reading.sha256[:12]})")
            else:
                for problem in reading.problems:
                    self.stderr.write(str(problem))
        if bad:
            count = sum(len(r.problems) for r in bad)
            verb = "nothing was activated" if action == "activate" else "fix them and validate again"
            raise CommandError(f"{count} problem(s) in {len(bad)} pack(s); {verb}.")
        if action == "validate":
            return
        target = None
        if program:
            target = Program.objects.filter(slug=program).first()
            if target is None:
                raise CommandError(f"no program with the slug {program!r}")
        actor = Actor.system("cli: market activate")
        for reading in readings:
            result = activate_market(actor=actor, reading=reading, program=target)
            state = "updated" if result.pack_changed else "unchanged"
            linked = f"; now open in {target.slug}" if result.program_linked else ""
            self.stdout.write(f"{result.market.country}: {state}{linked}")
