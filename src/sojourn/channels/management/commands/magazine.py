"""`sojourn magazine build --program P --issue 2026-12 [--folder DIR]` and
`sojourn magazine delivered --program P --issue 2026-12 --file MANIFEST.csv`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from sojourn.channels.services.magazine import build_issue, record_delivery_manifest
from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program


class Command(SojournCommand):
    help = "Build an issue of the printed magazine into the print house's drop folder, or read its delivery report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="a PDF per patient who agreed to post, a manifest and checksums")
        build.add_argument("--program", required=True)
        build.add_argument("--issue", required=True)
        build.add_argument("--folder", default=str(settings.SOJOURN_PRINT_DIR))
        delivered = sub.add_parser("delivered", help="the print house's CSV: file, status, date")
        delivered.add_argument("--program", required=True)
        delivered.add_argument("--issue", required=True)
        delivered.add_argument("--file", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"no program {options['program']}")
        actor = Actor.system("cli")
        self.source = options.get("file") or ""  # refusals name the manifest's lines
        if options["action"] == "build":
            report = build_issue(actor=actor, program=program, label=options["issue"],
                                 folder=Path(options["folder"]))
            # "laid out" counts new copies and those an interrupted build left without a PDF.
            self.stdout.write(f"{report.folder}: {len(report.made)} copies laid out, {len(report.already)} "
                              f"already there, {len(report.skipped)} skipped")
            for pseudonym, reason in sorted(report.skipped.items()):
                self.stdout.write(f"  skipped {pseudonym}: {reason}")
            if report.uploaded:
                self.stdout.write(f"uploaded {len(report.uploaded)} files to the print house")
            if report.upload_error:
                raise CommandError(f"the upload failed ({report.upload_error}); the files are in "
                                   f"{report.folder}: run the command again to retry")
            return
        try:
            text = Path(options["file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{options['file']}: {error}") from None
        count = record_delivery_manifest(actor=actor, program=program, label=options["issue"], text=text)
        self.stdout.write(f"{count} lines recorded")
