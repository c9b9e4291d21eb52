"""sojourn keys rotate"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.crypto import KeyMaterialError
from sojourn.core.management.base import SojournCommand
from sojourn.core.services.keys import rotate_master_key


class Command(SojournCommand):
    help = (
        "Re-wrap every data key under the current master key (SOJOURN_MASTER_KEY). Put the old key in "
        "SOJOURN_PREVIOUS_MASTER_KEYS for every process until this has finished; readers never stop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="re-wrap keys in batches, each batch its own transaction")
        rotate.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, action: str, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            with self.progress("Re-wrapping data keys") as progress:
                report = rotate_master_key(actor=Actor.system("cli: keys rotate"), batch_size=batch_size,
                                           progress=progress)
        except KeyMaterialError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"master key {report.new_master_key_id}: {report.data_keys_rewrapped} data key(s) and "
            f"{report.system_keys_rewrapped} system key(s) re-wrapped, {report.already_current} already current"
        )
