"""sojourn market validate PATH… | sojourn market activate PATH… [--program SLUG] |
sojourn market new COUNTRY [--output PATH]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.pack_template import market_pack_template
from sojourn.core.packs import read_pack_file
from sojourn.core.services.markets import activate_market


class Command(SojournCommand):
    help = "Validate market packs, activate markets from them, or start a new market's pack."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="report every problem in one or more packs; writes nothing")
        validate.add_argument("paths", nargs="+", metavar="PATH")
        activate = sub.add_parser("activate", help="create or update markets from packs, all or nothing")
        activate.add_argument("paths", nargs="+", metavar="PATH")
        activate.add_argument("--program", help="also run the program with this slug in these markets")
        new = sub.add_parser("new", help="write a pack for a country to finish by hand: every field explained, "
                                         "placeholders refused until filled in")
        new.add_argument("country", metavar="COUNTRY", help="ISO 3166-1 alpha-2 code, such as PT")
        new.add_argument("--output", metavar="PATH", help="write the pack to this new file (never over one)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "new":
            self.new(options["country"], options.get("output"))
        else:
            self.check_or_activate(action, options["paths"], options.get("program"))

    def new(self, country: str, output: str | None) -> None:
        text = market_pack_template(country)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            with Path(output).open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise CommandError(f"{output} exists; choose another path (a pack is never overwritten)") from None
        except OSError as exc:
            raise CommandError(f"{output} cannot be written: {exc.strerror}") from None
        self.stdout.write(f"{output}: written; fill in every <FILL IN …>, then `sojourn market validate {output}`")

    def check_or_activate(self, action: str, paths: list[str], program: str | None) -> None:
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
