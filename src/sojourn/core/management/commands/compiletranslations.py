"""Compile the .po catalogs to .mo with Babel, so no system gettext is needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import CommandError

from sojourn.core.management.base import SojournCommand


class Command(SojournCommand):
    help = "Compile every locale/*/LC_MESSAGES/*.po under the project into .mo files."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                with po_path.open("rb") as handle:
                    try:
                        catalog = read_po(handle, abort_invalid=True)
                    except Exception as exc:
                        raise CommandError(f"{po_path}: {exc}") from exc
                with po_path.with_suffix(".mo").open("wb") as handle:
                    write_mo(handle, catalog, use_fuzzy=False)
                count += 1
        self.stdout.write(f"compiled {count} catalog(s)")
