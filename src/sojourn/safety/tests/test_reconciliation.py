"""A month's reconciliation, as an inspector reads it: every intake of the month in the market's own
time zone, what became of it, and every discrepancy (undecided, not forwarded, late), follow-ups
counted by their own deadline; as a page, a CSV line per intake, a PDF and from the command line."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.safety.reconciliation import as_csv, reconcile
from sojourn.safety.services import decide_intake, export_reconciliation, forward_case, record_intake
from sojourn.safety.tests.helpers import assessed
from sojourn.tracking.tests.helpers import SYSTEM

BERLIN = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 4, 20, 12, tzinfo=BERLIN)


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BERLIN)


@pytest.fixture
def officer(program):
    return make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)


@pytest.fixture
def month_of_march(active_patient, officer):
    """Eight intakes around March 2026 in Germany, each ending differently."""
    actor = actor_for_user(officer)

    def intake(key: str, day_zero: datetime):
        return record_intake(actor=SYSTEM, patient=active_patient, source="rule", reason="a rule", detail={},
                             idempotency_key=key, day_zero=day_zero)

    on_time = decide_intake(actor=actor, intake=intake("a", at(2)), kind="adverse_event", reason="", at=at(2, 14))
    forward_case(actor=actor, case=assessed(actor, on_time.case, at(2, 15)), at=at(2, 16))
    late = decide_intake(actor=actor, intake=intake("b", at(5)), kind="adverse_event", reason="", at=at(9))
    forward_case(actor=actor, case=assessed(actor, late.case, at(9, 12)), at=at(10))
    decide_intake(actor=actor, intake=intake("c", at(10)), kind=None, reason="asked about delivery", at=at(10, 12))
    intake("d", at(20))  # never decided
    unsent = decide_intake(actor=actor, intake=intake("e", at(25)), kind="special_situation", reason="", at=at(25, 12))
    # New information about the first case after it went: its own deadline, not yet met.
    decide_intake(actor=actor, intake=intake("f", at(12)), kind="adverse_event", reason="", at=at(12, 12),
                  follow_up_of=on_time.case)
    intake("g", datetime(2026, 4, 1, 0, 30, tzinfo=BERLIN))  # April in Berlin, still March in UTC
    intake("h", datetime(2026, 3, 1, 0, 30, tzinfo=BERLIN))  # March in Berlin, February in UTC
    return actor, unsent


def test_every_intake_of_the_month_against_what_became_of_it(program, month_of_march):
    actor, _unsent = month_of_march
    report = reconcile(actor, program, date(2026, 3, 1), AT)  # AT: after the month
    by_key = {line.intake: line for line in report.lines}
    assert len(report.lines) == 7  # g is April's
    problems = {line.discrepancy for line in report.lines}
    assert problems == {"", "forwarded_late", "undecided_overdue", "not_forwarded_overdue"}
    codes = sorted((line.day_zero.astimezone(BERLIN).day, line.discrepancy) for line in by_key.values())
    assert codes == [(1, "undecided_overdue"), (2, ""), (5, "forwarded_late"), (10, ""),
                     (12, "not_forwarded_overdue"), (20, "undecided_overdue"), (25, "not_forwarded_overdue")]
    germany = next(m for m in report.markets if m.market == "DE")
    assert {m.market for m in report.markets} == {"CA", "DE", "GB", "JP", "US"}
    assert {k: germany.counts[k] for k in ("intakes", "case", "not_ae", "open", "on_time", "late", "not_forwarded",
                                           "discrepancies")} == {
        "intakes": 7, "case": 4, "not_ae": 1, "open": 2, "on_time": 1, "late": 1, "not_forwarded": 2,
        "discrepancies": 5}
    assert [line.discrepancy for line in report.discrepancies][:2] == ["undecided_overdue", "undecided_overdue"]
    rows = list(csv.DictReader(io.StringIO(as_csv(report))))
    assert len(rows) == 7 and rows[0]["day_zero"].endswith("+00:00")
    assert {r["on_time"] for r in rows if r["discrepancy"] == "forwarded_late"} == {"no"}
    # The messages a person had to read that month: one read in time, one read late, one never read.
    from sojourn.safety.models import Screening
    from sojourn.safety.services import clear_screenings, flag_patient_words

    for n, day in enumerate((3, 6, 24)):
        flag_patient_words(actor=SYSTEM, patient=_unsent.patient, source="sms", text="Danke!",
                           idempotency_key=f"sms-in:{n}", day_zero=at(day))
    read_in_time, read_late, _unread = Screening.objects.order_by("received_at")
    clear_screenings(actor=actor, screenings=[read_in_time], at=at(3, 12))
    clear_screenings(actor=actor, screenings=[read_late], at=at(11))
    screened = next(m for m in reconcile(actor, program, date(2026, 3, 1), AT).markets if m.market == "DE")
    assert (screened.counts["screened"], screened.counts["screened_late"]) == (2, 2)
    # A month with nothing in it says so, and the market is still there.
    assert [m.counts["intakes"] for m in reconcile(actor, program, date(2026, 1, 1), AT).markets] == [0] * 5


def test_the_page_the_files_and_the_command(client, program, officer, month_of_march, tmp_path):
    actor, _unsent = month_of_march
    client.force_login(officer)
    page = client.get("/console/safety/reconciliation/?month=2026-03").content.decode()
    assert 'data-discrepancy="forwarded_late"' in page and "reconciliation-csv" in page
    assert client.get("/console/safety/reconciliation/?month=March").status_code == 422
    pdf = client.get("/console/safety/reconciliation/?month=2026-03&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"
    assert client.get("/console/safety/reconciliation/?month=2026-03&format=xls").status_code == 422
    exported = AuditEntry.objects.filter(action="safety.reconciliation_exported").get()
    assert exported.after == {"month": "2026-03", "format": "pdf", "intakes": 7, "discrepancies": 5}
    out = tmp_path / "march.csv"
    call_command("safety", "reconcile", "--program", program.slug, "--month", "2026-03", "--market", "de",
                 "--out", str(out))
    assert out.read_text().count("\n") == 8
    with pytest.raises(CommandError, match="no market FR"):
        call_command("safety", "reconcile", "--program", program.slug, "--month", "2026-03", "--market", "FR",
                     "--out", str(tmp_path / "none.csv"))
    assert not (tmp_path / "none.csv").exists()
    content, name, _media = export_reconciliation(actor=actor, program=program, month=date(2026, 3, 1), fmt="csv",
                                                  language="ja", at=AT + timedelta(days=1), market="DE")
    assert name == f"safety-reconciliation-{program.slug}-2026-03-DE.csv" and content.decode() == out.read_text()
