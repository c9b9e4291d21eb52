"""From intake to case: a person decides every intake, cases keep their number through follow-ups,
and the clocks run from day zero, never from when a case was opened."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from sojourn.consent.tests.factories import enroll
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import Case, Intake
from sojourn.safety.reconciliation import reconcile
from sojourn.safety.services import decide_intake, forward_case, mark_duplicate, nullify_case, record_intake
from sojourn.safety.tests.helpers import assessed as assess
from sojourn.tracking.tests.helpers import SYSTEM

BERLIN = ZoneInfo("Europe/Berlin")
DAY_ZERO = datetime(2026, 4, 2, 18, 30, tzinfo=BERLIN)  # the Thursday before Easter
LATER = DAY_ZERO + timedelta(days=2)


@pytest.fixture
def officer(cast):
    return actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program))


def _intake(patient, key: str = "call:1", day_zero: datetime = DAY_ZERO) -> Intake:
    return record_intake(actor=SYSTEM, patient=patient, source="nurse call", reason="adverse event on a call",
                         detail={}, idempotency_key=key, day_zero=day_zero, at=LATER)


def test_the_forward_clock_runs_from_day_zero_over_the_markets_holidays(active_patient):
    intake = _intake(active_patient)
    assert intake.due_at == datetime(2026, 4, 8, tzinfo=BERLIN)  # Good Friday and Easter Monday do not count
    assert _intake(active_patient).pk == intake.pk  # the same report twice is one intake


def test_an_adverse_event_becomes_a_case_and_later_information_a_follow_up(active_patient, officer):
    first = decide_intake(actor=officer, intake=_intake(active_patient), kind="adverse_event", reason="", at=LATER)
    case = first.case
    assert (first.status, case.number, case.version, case.day_zero) == ("case", "DE-2026-00001", 1, DAY_ZERO)
    assert case.forward_due_at == first.due_at and case.status == "open"
    more = decide_intake(actor=officer, intake=_intake(active_patient, "sms:7", DAY_ZERO + timedelta(days=5)),
                         kind="adverse_event", reason="same rash, now on both arms", at=LATER, follow_up_of=case)
    assert (more.case.number, more.case.version, more.case.day_zero) == ("DE-2026-00001", 2, DAY_ZERO)
    other = decide_intake(actor=officer, intake=_intake(active_patient, "call:2"), kind="special_situation",
                          reason="", at=LATER)
    assert other.case.number == "DE-2026-00002"
    actions = list(AuditEntry.objects.filter(action__startswith="safety.").values_list("action", flat=True))
    assert actions.count("safety.intake_decided") == 3 and actions.count("safety.intake_recorded") == 3


def test_not_an_adverse_event_needs_a_reason_and_a_decision_is_made_once(active_patient, officer):
    intake = _intake(active_patient)
    with pytest.raises(InvalidInput) as refused:
        decide_intake(actor=officer, intake=intake, kind=None, reason="  ", at=LATER)
    assert refused.value.field == "reason" and Intake.objects.get(pk=intake.pk).status == "open"
    decided = decide_intake(actor=officer, intake=intake, kind=None, reason="asked about delivery only", at=LATER)
    assert (decided.status, decided.case, decided.decision_reason) == ("not_ae", None, "asked about delivery only")
    with pytest.raises(Conflict):
        decide_intake(actor=officer, intake=intake, kind="adverse_event", reason="", at=LATER)
    with pytest.raises(InvalidInput) as unknown:
        decide_intake(actor=officer, intake=_intake(active_patient, "x"), kind="gossip", reason="", at=LATER)
    assert unknown.value.field == "kind"


def test_seriousness_sets_the_authority_clock_from_day_zero_and_forwarding_stops_the_forward_clock(
        active_patient, officer):
    case = decide_intake(actor=officer, intake=_intake(active_patient), kind="adverse_event", reason="",
                         at=LATER).case
    assessed = assess(officer, case, LATER, serious=True)
    assert assessed.authority_due_at == datetime(2026, 4, 18, tzinfo=BERLIN)  # the end of day 15
    sent = forward_case(actor=officer, case=case, at=LATER)
    assert (sent.status, sent.forwarded_at) == ("forwarded", LATER)
    assert AuditEntry.objects.get(action="safety.case_forwarded").after["on_time"] is True
    with pytest.raises(Conflict):
        forward_case(actor=officer, case=case, at=LATER)


def test_a_nullified_case_stays_with_its_reason_and_takes_no_follow_up(active_patient, officer):
    case = decide_intake(actor=officer, intake=_intake(active_patient), kind="adverse_event", reason="",
                         at=LATER).case
    with pytest.raises(InvalidInput):
        nullify_case(actor=officer, case=case, reason="", at=LATER)
    nullify_case(actor=officer, case=case, reason="entered for the wrong patient", at=LATER)
    assert Case.objects.get(pk=case.pk).nullified_reason == "entered for the wrong patient"
    with pytest.raises(Conflict):
        decide_intake(actor=officer, intake=_intake(active_patient, "call:2"), kind="adverse_event", reason="",
                      at=LATER, follow_up_of=case)
    assert Intake.objects.get(idempotency_key="call:2").status == "open"  # nothing half-written


@pytest.mark.parametrize("who", ["nurse_de", "analyst", "admin_of_another_program"])
def test_only_a_safety_officer_of_the_program_decides(active_patient, cast, who):
    user = cast.outsider if who == "admin_of_another_program" else getattr(cast, who)
    with pytest.raises(AccessDenied):
        decide_intake(actor=actor_for_user(user), intake=_intake(active_patient), kind="adverse_event", reason="",
                      at=LATER)
    assert not Case.objects.exists()


def test_a_nurse_records_an_intake_but_an_analyst_may_not(active_patient, cast):
    recorded = record_intake(actor=actor_for_user(cast.nurse_de), patient=active_patient, source="nurse call",
                             reason="r", detail={}, idempotency_key="n:1", day_zero=DAY_ZERO)
    assert recorded.status == "open"
    with pytest.raises(AccessDenied):
        record_intake(actor=actor_for_user(cast.analyst), patient=active_patient, source="nurse call", reason="r",
                      detail={}, idempotency_key="n:2", day_zero=DAY_ZERO)


def test_a_follow_up_of_a_forwarded_case_must_reach_drug_safety_by_its_own_deadline(active_patient, officer):
    case = decide_intake(actor=officer, intake=_intake(active_patient), kind="adverse_event", reason="",
                         at=LATER).case
    forward_case(actor=officer, case=assess(officer, case, LATER), at=LATER)
    later = DAY_ZERO + timedelta(days=20)
    more = decide_intake(actor=officer, intake=_intake(active_patient, "sms:9", later), kind="adverse_event",
                         reason="", at=later + timedelta(hours=3), follow_up_of=case)
    case.refresh_from_db()
    assert (case.status, case.version, more.case_version) == ("open", 2, 2)  # back on the queue
    assert case.forward_due_at == more.due_at > later and case.day_zero == DAY_ZERO
    forward_case(actor=officer, case=case, at=more.due_at + timedelta(hours=1))
    assert [(f.version, f.on_time) for f in case.forwardings.order_by("version")] == [(1, True), (2, False)]


def test_the_same_report_twice_is_linked_as_a_duplicate_and_counted_once(active_patient, officer, cast, client,
                                                                          program):
    case = decide_intake(actor=officer, intake=_intake(active_patient), kind="adverse_event", reason="",
                         at=LATER).case
    again = _intake(active_patient, "sms:3", DAY_ZERO + timedelta(hours=1))  # she texted what she said on the call
    done = mark_duplicate(actor=officer, intake=again, case=case, reason="the call's report, texted", at=LATER)
    assert (done.status, done.case, done.case_version) == ("duplicate", case, 1)
    assert Case.objects.get(pk=case.pk).version == 1  # nothing new for drug safety
    with pytest.raises(Conflict):
        mark_duplicate(actor=officer, intake=again, case=case, reason="", at=LATER)
    lines = {line.intake: line for line in reconcile(officer, program, date(2026, 4, 1), LATER).lines}
    assert (lines[again.pk].status, lines[again.pk].discrepancy) == ("duplicate", "")
    # The console offers it for a patient who has a case, and asks which case it repeats.
    client.force_login(get_user_model().objects.get(username="safety@sponsor.example"))
    third = _intake(active_patient, "sms:4", DAY_ZERO + timedelta(hours=2))
    page = client.get(f"/console/safety/intakes/{third.pk}/").content.decode()
    assert 'value="duplicate"' in page
    refused = client.post(f"/console/safety/intakes/{third.pk}/", {"kind": "duplicate", "follow_up_of": ""})
    assert refused.status_code == 422 and Intake.objects.get(pk=third.pk).status == "open"
    client.post(f"/console/safety/intakes/{third.pk}/", {"kind": "duplicate", "follow_up_of": case.number})
    assert Intake.objects.get(pk=third.pk).status == "duplicate"
    with pytest.raises(InvalidInput):  # another patient's case is not the same report
        other = decide_intake(actor=officer, intake=_intake(enroll(program, "GB", email="sam@example.org").subject,
                                                            "gb:1"), kind="adverse_event", reason="", at=LATER).case
        mark_duplicate(actor=officer, intake=_intake(active_patient, "sms:5"), case=other, reason="", at=LATER)
