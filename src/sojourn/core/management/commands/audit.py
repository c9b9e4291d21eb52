"""sojourn audit verify | checkpoint"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.crypto import KeyMaterialError
from sojourn.core.management.base import SojournCommand
from sojourn.core.services.audit_checkpoints import verify_audit_trail, write_checkpoint


class Command(SojournCommand):
    help = ("Check the audit trail (every entry's MAC and link, the last signed checkpoint, the rows that must "
            "have entries), or write a checkpoint.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="walk the whole chain and report every break, truncation and missing entry")
        sub.add_parser("checkpoint", help="write a signed checkpoint of the chain to SOJOURN_AUDIT_CHECKPOINT_DIR")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "checkpoint":
            try:
                checkpoint = write_checkpoint(actor=Actor.system("sojourn audit checkpoint"))
            except KeyMaterialError as error:
                raise CommandError(f"TAMPERED: the audit chain's key cannot be opened ({error})") from None
            self.stdout.write(f"checkpoint of entry {checkpoint.seq} written to {checkpoint.path}")
            return
        with self.progress("Verifying the audit trail") as progress:
            result, checkpoint = verify_audit_trail(progress=progress)
        for note in result.notes:
            self.stderr.write(f"note: {note}")
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(f"TAMPERED: {problem}")
            raise CommandError(
                f"the audit trail has {len(result.problems)} problem(s) in {result.entries_checked} entries"
            )
        anchored = f", anchored by the checkpoint of entry {checkpoint.seq}" if checkpoint else ""
        self.stdout.write(
            f"audit trail intact: {result.entries_checked} entries, head {result.head_seq} "
            f"(MAC {result.head_mac[:16]}…){anchored}"
        )
