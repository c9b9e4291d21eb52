"""sojourn program validate FILE | diff FILE | apply FILE | export SLUG | check | go-live | launch

    sojourn program export psoriasis > psoriasis.yaml     # the program as a definition file
    sojourn program validate psoriasis.yaml               # every problem, with its line; writes nothing
    sojourn program diff psoriasis.yaml                   # what applying it would change, in words
    sojourn program apply psoriasis.yaml                  # create or change the program, all or nothing
    sojourn program check --program psoriasis [--market DE]   # each market's go-live checklist
    sojourn program go-live --program psoriasis --market DE   # refused, naming what is missing, until ready
    sojourn program launch --program psoriasis            # from set-up (draft) to live (a live market)

`apply` is the operator's path (the platform applies it at once, audited); people draft, submit and
approve a definition in the console or the API, with four eyes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.services.programs import launch_program
from sojourn.programs import services
from sojourn.programs.activation import go_live, readiness
from sojourn.programs.definition import read_definition_file


class Command(SojournCommand):
    help = "Validate, compare, apply and export program definitions; launch a program."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("validate", "report every problem of a definition file; writes nothing"),
                           ("diff", "what applying the file would change in the program, one line each"),
                           ("apply", "create or change the program from the file, all or nothing")):
            sub.add_parser(name, help=text).add_argument("path", metavar="FILE")
        export = sub.add_parser("export", help="write the program's definition (YAML) to standard output")
        export.add_argument("slug")
        check = sub.add_parser("check", help="each market's go-live checklist: what is in place, what is missing")
        check.add_argument("--program", required=True, help="the program's slug")
        check.add_argument("--market", help="one market's country code; omit for all")
        live = sub.add_parser("go-live", help="take a market live in the program once its checklist is complete")
        live.add_argument("--program", required=True, help="the program's slug")
        live.add_argument("--market", required=True, help="the market's country code")
        launch = sub.add_parser("launch", help="take a program from draft to live (needs a live market)")
        launch.add_argument("--program", required=True, help="the program's slug")

    def _program(self, slug: str) -> Program:
        found = Program.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--program: no program with the slug {slug!r}")
        return found

    def handle(self, *args: Any, action: str, **o: Any) -> None:
        if action == "launch":
            launched = launch_program(actor=Actor.system("sojourn program launch"), program=self._program(o["program"]))
            self.stdout.write(f"{launched.name} is {launched.status}")
            return
        if action == "check":
            program = self._program(o["program"])
            links = program.program_markets.select_related("market").order_by("market__country")
            if o["market"]:
                links = links.filter(market__country=o["market"].upper())
            if not links:
                raise CommandError(f"{program.slug} runs in no market {o['market'] or ''}".rstrip())
            for link in links:
                state = "live" if link.live_at else "in set-up"
                self.stdout.write(f"{link.market.country} ({state})")
                for item in readiness(program, link.market):
                    mark = "ok" if item.ok else "missing"
                    detail = "; ".join(item.missing) or item.note
                    self.stdout.write(f"  [{mark}] {item.label}" + (f": {detail}" if detail else ""))
            return
        if action == "go-live":
            program = self._program(o["program"])
            go_live(actor=Actor.system("sojourn program go-live"), program=program, country=o["market"].upper())
            self.stdout.write(f"{o['market'].upper()} is live in {program.slug}")
            return
        if action == "export":
            program = Program.objects.filter(slug=o["slug"]).select_related("sponsor").first()
            if program is None:
                raise CommandError(f"no program with the slug {o['slug']!r}")
            self.stdout.write(services.export_yaml(program), ending="")
            return
        reading = read_definition_file(o["path"])
        if not reading.ok or reading.document is None:
            for problem in reading.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(reading.problems)} problem(s) in {o['path']}; nothing was written.")
        definition = reading.document
        program = Program.objects.filter(slug=definition.program.slug).select_related("sponsor").first()
        self.source = o["path"]
        services.check_against(program, definition)
        if action == "validate":
            self.stdout.write(f"{o['path']}: ok ({definition.program.slug}, sha256 {reading.sha256[:12]})")
        elif action == "diff":
            lines = services.diff(program, definition)
            self.stdout.write("\n".join(lines) if lines else "no change")
        else:
            text = Path(o["path"]).read_text(encoding="utf-8")
            version = services.apply_definition(actor=Actor.system("sojourn program apply"), text=text,
                                                path=o["path"])
            self.stdout.write(f"{version.program.slug}: definition version {version.number} applied")
