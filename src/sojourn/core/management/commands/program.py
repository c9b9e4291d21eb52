"""sojourn program launch --program SLUG"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.services.programs import launch_program


class Command(SojournCommand):
    help = "Launch a program: from set-up (draft) to live."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        launch = sub.add_parser("launch", help="take a program from draft to live (needs an active market)")
        launch.add_argument("--program", required=True, help="the program's slug")

    def handle(self, *args: Any, action: str, program: str, **options: Any) -> None:
        found = Program.objects.filter(slug=program).first()
        if found is None:
            raise CommandError(f"--program: no program with the slug {program!r}")
        launched = launch_program(actor=Actor.system("sojourn program launch"), program=found)
        self.stdout.write(f"{launched.name} is {launched.status}")
