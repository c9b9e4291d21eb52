"""sojourn createstaff --email E --name N [--role R --program SLUG --markets DE,JP | --platform-admin]"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.permissions import Role
from sojourn.people.services.staff import create_staff, grant_membership


class Command(SojournCommand):
    help = "Create a staff account and give it a role in a program, in some markets or all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="display name")
        parser.add_argument("--role", choices=Role.values)
        parser.add_argument("--program", help="program slug for the role")
        parser.add_argument("--markets", help="comma-separated country codes; omit for every market")
        parser.add_argument("--language", default="", help="console language: en, de, ja, fr")
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--platform-admin", action="store_true", help="may create programs and staff anywhere")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    def _password(self, from_stdin: bool) -> str:
        """Read the password from one line of standard input, or ask twice on a terminal."""
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin read no password: send it as one line on standard input")
            return password
        if not sys.stdin.isatty():
            # getpass would fall back to reading a pipe with a warning, and end in EOFError on an empty one.
            raise CommandError("no terminal to ask for the password on: send it on standard input with "
                               "--password-stdin (echo \"$PASSWORD\" | sojourn createstaff … --password-stdin)")
        try:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("no password given; nothing was created") from None
        return password

    def handle(self, *args: Any, **o: Any) -> None:
        if bool(o["role"]) != bool(o["program"]):
            raise CommandError("--role and --program go together")
        program = None
        if o["program"]:
            program = Program.objects.filter(slug=o["program"]).first()
            if program is None:
                raise CommandError(f"no program with the slug {o['program']!r}")
        password = self._password(o["password_stdin"])
        actor = Actor.system("cli: createstaff")
        markets = [m.strip().upper() for m in o["markets"].split(",") if m.strip()] if o["markets"] else None
        user = create_staff(actor=actor, email=o["email"], display_name=o["name"], password=password,
                            language=o["language"], time_zone=o["time_zone"],
                            is_platform_admin=o["platform_admin"])
        if program is not None:
            grant_membership(actor=actor, user=user, program=program, role=Role(o["role"]), markets=markets)
        where = ",".join(markets) if markets else "all markets"
        scope = f" as {o['role']} in {o['program']} ({where})" if program else ""
        self.stdout.write(f"created {user.get_username()}{scope}")
