"""Reconciliation, as an inspector asks for it: every possible adverse event the program received in a
month, per market, against what became of it (a case, forwarded on time or late, or a person's "not an
adverse event"), with every discrepancy listed. A month is the market's own, in its time zone; an intake
belongs to the month of its day zero."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy
from weasyprint import HTML

from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.safety.models import CaseForwarding, Intake, Screening

# What is wrong with a line, worst first; an empty code: nothing.
DISCREPANCIES = {
    "undecided_overdue": gettext_lazy("not decided, and the forward deadline has passed"),
    "not_forwarded_overdue": gettext_lazy("a case not forwarded, and its deadline has passed"),
    "forwarded_late": gettext_lazy("forwarded after the deadline"),
    "undecided": gettext_lazy("not decided yet (the deadline has not passed)"),
    "not_forwarded": gettext_lazy("a case not forwarded yet (the deadline has not passed)"),
}
COLUMNS = ("market", "intake", "source", "patient", "day_zero", "forward_due", "status", "decided_at", "case",
           "case_version", "case_status", "forwarded_at", "on_time", "discrepancy", "reporter")


@dataclass(frozen=True)
class Line:
    """One intake of the month and what became of it."""

    market: str
    intake: int
    source: str
    patient: str  # the pseudonym: the patient's, or the reporting doctor's when `reporter` is "doctor"
    day_zero: datetime
    forward_due: datetime
    status: str  # open, case, duplicate, not_ae
    decided_at: datetime | None
    case: str
    case_version: int | None
    case_status: str
    forwarded_at: datetime | None  # of the version this intake made, or a later one
    discrepancy: str
    reporter: str = "patient"  # patient (or about them: a nurse, a rule), or doctor

    @property
    def on_time(self) -> bool | None:
        return None if self.forwarded_at is None else self.forwarded_at <= self.forward_due


@dataclass
class MarketSummary:
    market: str
    counts: Counter[str] = field(default_factory=Counter)  # intakes, case, duplicate, not_ae, open, on_time, late, …


@dataclass(frozen=True)
class Reconciliation:
    program: Program
    month: date
    at: datetime
    markets: list[MarketSummary]
    lines: list[Line]

    @property
    def discrepancies(self) -> list[Line]:
        order = list(DISCREPANCIES)
        return sorted((line for line in self.lines if line.discrepancy),
                      key=lambda line: (order.index(line.discrepancy), line.market, line.day_zero))


def reconcile(actor: Actor, program: Program, month: date, at: datetime, market: str | None = None
              ) -> Reconciliation:
    """The month's reconciliation for the markets where the actor manages safety (one, if named)."""
    summaries, lines = [], []
    for each in markets_for(actor, program, Permission.SAFETY_MANAGE):
        if market and each.country != market:
            continue
        zone = ZoneInfo(each.pack["time_zones"][0])
        start = datetime(month.year, month.month, 1, tzinfo=zone)
        end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
        intakes = list(Intake.objects.filter(program=program, market=each, day_zero__gte=start,
                                             day_zero__lt=end)
                       .select_related("patient", "hcp", "case").order_by("day_zero", "pk"))
        forwardings: dict[int, list[CaseForwarding]] = {}
        for forwarding in CaseForwarding.objects.filter(case__in={i.case_id for i in intakes if i.case_id}):
            forwardings.setdefault(forwarding.case_id, []).append(forwarding)
        summary = MarketSummary(each.country)
        for intake in intakes:
            line = _line(each.country, intake, forwardings.get(intake.case_id or 0, []), at)
            lines.append(line)
            summary.counts.update(["intakes", line.status])
            if line.status == "case":
                summary.counts[{True: "on_time", False: "late", None: "not_forwarded"}[line.on_time]] += 1
                summary.counts["nullified"] += line.case_status == "nullified"
            if line.discrepancy:
                summary.counts["discrepancies"] += 1
        # The unflagged messages a person had to read: read in time, or late (or still unread past due).
        for due_at, screened_at in Screening.objects.filter(program=program, market=each, received_at__gte=start,
                                                            received_at__lt=end).values_list("due_at", "screened_at"):
            summary.counts["screened"] += screened_at is not None
            summary.counts["screened_late"] += (screened_at or at) > due_at
        summaries.append(summary)
    return Reconciliation(program, month, at, summaries, lines)


def _line(market: str, intake: Intake, forwardings: list[CaseForwarding], at: datetime) -> Line:
    case = intake.case
    # The intake reached drug safety with the first forwarding of the version it made (or a later one).
    covering = sorted((f for f in forwardings if f.version >= (intake.case_version or 1)), key=lambda f: f.version)
    forwarded_at = covering[0].forwarded_at if covering else None
    discrepancy = ""
    if intake.status == Intake.Status.OPEN:
        discrepancy = "undecided_overdue" if intake.due_at <= at else "undecided"
    elif intake.status == Intake.Status.CASE and case is not None and case.status != case.Status.NULLIFIED:
        # A duplicate adds nothing drug safety does not have from its case: no clock of its own.
        if forwarded_at is None:
            discrepancy = "not_forwarded_overdue" if intake.due_at <= at else "not_forwarded"
        elif forwarded_at > intake.due_at:
            discrepancy = "forwarded_late"
    return Line(market=market, intake=intake.pk, source=intake.source, patient=intake.subject.pseudonym,
                day_zero=intake.day_zero, forward_due=intake.due_at, status=intake.status,
                decided_at=intake.decided_at, case=case.number if case else "",
                case_version=intake.case_version, case_status=case.status if case else "",
                forwarded_at=forwarded_at, discrepancy=discrepancy,
                reporter="patient" if intake.patient_id else "doctor")


def as_csv(report: Reconciliation) -> str:
    """One line per intake, UTC times in ISO 8601; the discrepancy column is empty when all is well."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in report.lines:
        writer.writerow([line.market, line.intake, line.source, line.patient, _iso(line.day_zero),
                         _iso(line.forward_due), line.status, _iso(line.decided_at), line.case,
                         line.case_version or "", line.case_status, _iso(line.forwarded_at),
                         {True: "yes", False: "no", None: ""}[line.on_time], line.discrepancy, line.reporter])
    return out.getvalue()


def as_pdf(report: Reconciliation, language: str) -> bytes:
    with translation.override(language):
        html = render_to_string("safety/reconciliation.html", {
            "report": report, "discrepancies": [(line, DISCREPANCIES[line.discrepancy])
                                                for line in report.discrepancies]})
    return HTML(string=html).write_pdf()


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat() if moment else ""
