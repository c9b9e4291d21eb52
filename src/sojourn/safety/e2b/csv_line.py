"""The PV line list: one CSV row per case version and reaction, from the same IcsrCase the ICSR is built
from. The message number tells the versions of a case apart, as an acknowledgement names them."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime

from sojourn.core.spreadsheets import csv_writer

from .icsr import DrugRole, IcsrCase, Moment, NullFlavor, PartialDate, Seriousness

COLUMNS = ("safety_report_id", "message_number", "day_zero", "country", "reporter_qualification", "verbatim_term",
           "meddra_code", "serious", "seriousness_criteria", "outcome", "suspect_products",
           "nullification_amendment")
# Interacting drugs are suspected too (ICH G.k.1); concomitant and not-administered ones are not.
SUSPECTED = (DrugRole.SUSPECT, DrugRole.INTERACTING)


def line_list(cases: Iterable[IcsrCase]) -> str:
    """Return the line list as CSV text with a header row.

    The country is where the reaction occurred (E.i.9), else the primary source's (C.2.r.3). Cells go
    through csv_writer, so a verbatim term that starts like a formula stays text in a spreadsheet.
    """
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for case in cases:
        qualification = case.primary_source.qualification
        suspects = "; ".join(drug.name for drug in case.drugs if drug.role in SUSPECTED)
        reporter_country = case.primary_source.country
        for reaction in case.reactions:
            writer.writerow([
                case.safety_report_id,
                case.message_number,
                iso(case.first_received),
                reaction.country or ("" if isinstance(reporter_country, NullFlavor) else reporter_country),
                qualification.label if qualification else "unknown",
                reaction.verbatim,
                reaction.meddra_code or "",
                "yes" if reaction.serious else "no",
                "; ".join(criterion.label for criterion in Seriousness if criterion in reaction.seriousness),
                reaction.outcome.label,
                suspects,
                case.nullification.kind.label if case.nullification else "",
            ])
    return out.getvalue()


def iso(moment: Moment) -> str:
    """Return a moment as ISO 8601 at its own precision: 2024, 2024-05, 2024-05-17 or the date and time."""
    if isinstance(moment, PartialDate):
        return f"{moment.year:04d}" + (f"-{moment.month:02d}" if moment.month else "")
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()
