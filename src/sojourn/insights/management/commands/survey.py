"""sojourn survey import --program SLUG --source NAME --mapping mapping.yaml FILE.csv|FILE.xlsx

Imports an outside survey export; every problem is printed with its row and column, and nothing is
imported from a file that has one. Importing the same file again changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.safe_yaml import load_yaml
from sojourn.insights.services.surveys import import_survey


class Command(SojournCommand):
    line_label = "row"  # a refusal's line is a row of the export
    help = "Import outside patient survey data (CSV or XLSX) with a column mapping."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("import", help="import a survey export")
        run.add_argument("--program", required=True, help="program slug")
        run.add_argument("--source", required=True, help="who ran the survey, e.g. 'Community panel 2026'")
        run.add_argument("--mapping", required=True, type=Path, help="YAML or JSON file: the column mapping")
        run.add_argument("file", type=Path)

    def handle(self, *args: Any, **o: Any) -> None:
        program = Program.objects.filter(slug=o["program"]).first()
        if program is None:
            raise CommandError(f"no program with the slug {o['program']!r}")
        try:
            mapping = load_yaml(o["mapping"].read_text(encoding="utf-8"))
            content = o["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {error.filename}: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise CommandError(f"{o['mapping']}: not valid YAML or JSON: {error}") from None
        made, new = import_survey(actor=Actor.system("cli: survey import"), program=program, source=o["source"],
                                  filename=o["file"].name, content=content, mapping=mapping)
        if new:
            self.stdout.write(f"Imported {made.answers:,} answers from {made.rows:,} rows of {made.filename}.")
        else:
            self.stdout.write(f"This file was imported already on {made.imported_at:%Y-%m-%d}; nothing changed.")
