"""Reading an outside survey export (CSV or XLSX) into a header and rows of cells, each row with the
line (CSV) or row number (XLSX) a person would look for in the file. Nothing is interpreted here:
`services.surveys` checks the cells against the mapping."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from sojourn.core.control_characters import has_control_character
from sojourn.core.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 500


@dataclass(frozen=True)
class SurveyTable:
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (row number in the file, column → cell)


def read_table(filename: str, content: bytes) -> SurveyTable:
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 20 MB."), field="file")
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return _xlsx(content)
    if lower.endswith((".csv", ".txt")):
        return _csv(content)
    raise InvalidInput(_("Upload a CSV or an XLSX file."), field="file")


def _checked(header: list[str], rows: list[tuple[int, dict[str, Any]]]) -> SurveyTable:
    if not header or not any(header):
        raise InvalidInput(_("The file has no header row."), field="file")
    if len(header) > MAX_COLUMNS:
        raise InvalidInput(_("The file has more than %(n)d columns.") % {"n": MAX_COLUMNS}, field="file")
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise InvalidInput(_("The column %(column)s appears twice in the header.") % {"column": name},
                               field="file")
        seen.add(name)
    if len(rows) > MAX_ROWS:
        raise InvalidInput(_("The file has more than %(n)d rows.") % {"n": MAX_ROWS}, field="file")
    if not rows:
        raise InvalidInput(_("The file has a header but no rows."), field="file")
    # Each cell is checked, since neither the file nor its upload passed the request guard.
    bad = [1] if any(has_control_character(name) for name in header) else []
    bad += [line for line, cells in rows
            if any(isinstance(cell, str) and has_control_character(cell) for cell in cells.values())]
    if bad:
        raise InvalidInput(_("Line %(line)d holds a control character (such as NUL); remove it and import again.")
                           % {"line": bad[0]}, field="file")
    return SurveyTable(header, rows)


def _csv(content: bytes) -> SurveyTable:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[:error.start].count(b"\n") + 1
        raise InvalidInput(_("Line %(line)d is not UTF-8 text; export the survey as UTF-8 CSV.") % {"line": line},
                           field="file") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            line = reader.line_num
            if len(record) > len(header):
                raise InvalidInput(_("Line %(line)d has %(n)d cells but the header names %(m)d columns.") % {
                    "line": line, "n": len(record), "m": len(header)}, field="file")
            rows.append((line, {h: record[i].strip() if i < len(record) else "" for i, h in enumerate(header)}))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        raise InvalidInput(_("Line %(line)d cannot be read as CSV: %(problem)s") % {
            "line": reader.line_num, "problem": str(error)}, field="file") from None
    return _checked(header, rows)


def _xlsx(content: bytes) -> SurveyTable:
    from openpyxl import load_workbook  # only needed for spreadsheets

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # zip, XML and format errors alike mean "not a workbook"
        raise InvalidInput(_("The file is not an XLSX workbook."), field="file") from None
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = [_cell_text(v).strip() for v in next(cells, ())]
        while header and not header[-1]:
            header.pop()
        rows = []
        for number, record in enumerate(cells, start=2):
            values = list(record)[:len(header)]
            if not any(v not in (None, "") for v in values):
                continue
            if any(v not in (None, "") for v in list(record)[len(header):]):
                raise InvalidInput(_("Row %(row)d has cells beyond the named columns.") % {"row": number},
                                   field="file")
            rows.append((number, {h: _value(values[i]) if i < len(values) else "" for i, h in enumerate(header)}))
            if len(rows) > MAX_ROWS:
                break
    finally:
        book.close()
    return _checked(header, rows)


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value)


def _value(value: Any) -> Any:
    """Spreadsheet cells keep their type where it matters (numbers, dates); text is stripped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date | int | float):
        return value
    return str(value).strip()
