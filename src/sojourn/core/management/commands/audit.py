"""sojourn audit verify"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.management.base import SojournCommand
from sojourn.core.services.audit import verify_audit_chain


class Command(SojournCommand):
    help = "Check the audit trail: every entry's MAC and its link to the entry before."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="walk the whole chain and report every break")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        with self.progress("Verifying the audit trail") as progress:
            result = verify_audit_chain(progress=progress)
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(f"TAMPERED: {problem}")
            raise CommandError(
                f"the audit trail has {len(result.problems)} break(s) in {result.entries_checked} entries"
            )
        self.stdout.write(
            f"audit trail intact: {result.entries_checked} entries, head {result.head_seq} "
            f"(MAC {result.head_mac[:16]}…; record it elsewhere to detect truncation later)"
        )
