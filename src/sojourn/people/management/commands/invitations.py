"""sojourn invitations issue --program SLUG --market DE --count N [--hcp PSEUDONYM] [--batch NAME]

Prints the codes as CSV (code, market, professional, batch) for the print house."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.spreadsheets import csv_writer
from sojourn.people.models import Hcp
from sojourn.people.services.invitations import issue_invitations


class Command(SojournCommand):
    help = "Issue a print run of invitation codes that dermatologists hand their patients."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue codes and print them as CSV")
        issue.add_argument("--program", required=True, help="program slug")
        issue.add_argument("--market", required=True, help="country code, e.g. DE")
        issue.add_argument("--count", required=True, type=int)
        issue.add_argument("--hcp", default="", help="the professional's pseudonym, who hands the cards out")
        issue.add_argument("--batch", default="", help="a name for the print run")

    def handle(self, *args: Any, **o: Any) -> None:
        program = Program.objects.filter(slug=o["program"]).first()
        if program is None:
            raise CommandError(f"no program with the slug {o['program']!r}")
        hcp = None
        if o["hcp"]:
            hcp = Hcp.objects.filter(program=program, pseudonym=o["hcp"]).first()
            if hcp is None:
                raise CommandError(f"no professional {o['hcp']!r} in this program")
        made = issue_invitations(actor=Actor.system("cli: invitations"), program=program,
                                 market=o["market"].strip().upper(), count=o["count"], hcp=hcp, batch=o["batch"])
        writer = csv_writer(self.stdout, lineterminator="\n")
        writer.writerow(["code", "market", "professional", "batch"])
        for invitation in made:
            writer.writerow([invitation.code, o["market"].strip().upper(), o["hcp"], invitation.batch])
