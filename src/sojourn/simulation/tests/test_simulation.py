"""The cohort simulator drives the real program: enrollment with consent, events, rules, agenda, outbox,
channels and the nurse queue, on a simulated clock; the same seed gives the same history, an
interrupted run ends where an uninterrupted one does, and patients react only to what reached them."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from sojourn.channels.models import NurseTask, OutboxMessage, PrintBlock, PrintIssue
from sojourn.consent.models import ConsentRecord
from sojourn.core.actors import Actor
from sojourn.core.db import tables_without_statistics
from sojourn.core.models import AuditEntry
from sojourn.core.tests.factories import SYSTEM
from sojourn.demo.builder import build_demo
from sojourn.demo.folder import PSORIASIS
from sojourn.dialogue.models import Decision
from sojourn.insights.queries import MarketKpis
from sojourn.people.models import Invitation, Patient
from sojourn.safety.clocks import Clocks
from sojourn.safety.models import Case, CaseForwarding, Intake, Reaction
from sojourn.safety.queries import safety_queue
from sojourn.safety.services import export_versions
from sojourn.simulation.desk import LAST_CALL, hold_questions, office_time_after
from sojourn.simulation.models import SimulationRun
from sojourn.simulation.queries import history
from sojourn.simulation.runner import _World
from sojourn.simulation.runner import simulate as run_simulation
from sojourn.simulation.services import start_run
from sojourn.tracking.models import Event, PatientProfile


def simulate(**arguments: Any) -> SimulationRun:
    """The demo's cohort file's patients (a resumed run keeps its own)."""
    return run_simulation(population=PSORIASIS.population, **arguments)


START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: the weekly rule fires on the Tuesdays of the run


def kpi_board(program) -> dict[str, list[tuple]]:
    """Every KPI of every market at the end of the 21 simulated days."""
    end = START + timedelta(days=21)
    return {country: [(v.kpi.code, v.stage, v.value, v.n) for values in MarketKpis(program, country, now=end)
                      .by_stage().values() for v in values] for country in ("DE", "US", "GB", "JP", "CA")}


def _fresh_demo():
    call_command("flush", interactive=False, verbosity=0)
    return build_demo()


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_history_resumed_or_not_and_another_seed_another():
    program = build_demo()
    straight = simulate(program=program, patients=36, days=21, seed=7, start=START, magazine_every=10)
    assert straight.days_done == 21 and straight.finished_at is not None
    first = history(program)
    assert sum(first["events"].values()) > 100 and first["decisions"] and first["answers"]
    assert len({key.split(":")[0] for key in first["magazines"]}) == 2  # days 10 and 20, resumed across the first
    kpis = kpi_board(program)
    assert sum(1 for values in kpis.values() for _code, _stage, value, n in values if value is not None and n) > 10

    program = _fresh_demo()
    halfway = simulate(program=program, patients=36, days=21, seed=7, start=START, stop_after=8, magazine_every=10)
    assert (halfway.days_done, halfway.finished_at) == (8, None)
    saved = SimulationRun.objects.get(pk=halfway.pk)  # the cohort as drawn, and each patient's state apart
    assert not any(c["pseudonym"] for c in saved.cohort) and len(saved.state) == 36
    assert {c["status"] for c in saved.cohort_now()} >= {"active", "invited"}
    resumed = simulate(program=program, patients=36, days=21, seed=7, magazine_every=10)
    assert resumed.pk == halfway.pk and resumed.days_done == 21
    assert history(program) == first
    assert kpi_board(program) == kpis  # the same seed, the same KPIs
    assert simulate(program=program, patients=36, days=21, seed=7).totals == resumed.totals  # finished: no-op

    program = _fresh_demo()
    simulate(program=program, patients=36, days=21, seed=8, start=START, magazine_every=10)
    assert history(program) != first
    assert kpi_board(program) != kpis


@pytest.mark.django_db(transaction=True)
def test_simulated_patients_live_through_the_real_program_and_react_only_to_what_reached_them(settings, tmp_path):
    settings.SOJOURN_SMS_GATEWAY_DIR = tmp_path
    settings.SOJOURN_PRINT_DIR = tmp_path / "print"
    settings.SOJOURN_PRINT_SFTP_URL = "sftp://printer@print-house.invalid/in"  # a rehearsal never uploads
    program = build_demo()
    run = simulate(program=program, patients=60, days=40, seed=3, start=START, magazine_every=20)
    simulated = Patient.objects.filter(program=program, pseudonym__in=[c["pseudonym"] for c in run.cohort_now()])
    assert simulated.count() == run.totals["enrolled"] == 60
    # Every one signed a consent; those who confirmed their address are active (or withdrew later).
    assert ConsentRecord.objects.filter(patient__in=simulated).count() == 60
    assert simulated.filter(status="pending").count() == 60 - run.totals["verified"]
    assert all(START <= p.created_at <= START + timedelta(days=40) for p in simulated)
    # The tables grew from nothing: the planner's statistics were refreshed as they did.
    assert tables_without_statistics([m._meta.db_table for m in (Patient, Event, Decision, OutboxMessage)]) == []
    # Each came with a dermatologist's invitation card; more cards were handed out than were used.
    cards = Invitation.objects.filter(program=program)
    assert cards.filter(patient__in=simulated).count() == 60
    assert simulated.filter(referred_by__isnull=False).count() == 60
    assert cards.filter(patient__isnull=True).count() > 20

    # Each confirmed patient is on a journey stage; rules moved some on (a first refill starts treatment).
    stages = PatientProfile.objects.filter(patient__in=simulated.filter(status="active"))
    assert not stages.filter(stage__isnull=True).exists()
    assert Event.objects.filter(patient__in=simulated, type="stage.changed", data__previous="diagnosis").exists()

    # The program's rules decided, the worker delivered on every channel patients agreed to.
    assert {"welcome", "tailor-itch", "stage-initiation"} <= set(
        Decision.objects.filter(patient__in=simulated).values_list("rule_key", flat=True))
    delivered = OutboxMessage.objects.filter(patient__in=simulated, status="done")
    assert {"web", "email", "sms", "phone"} <= set(delivered.values_list("channel", flat=True))
    texts = [json.loads(line) for path in tmp_path.rglob("*.jsonl") for line in path.read_text().splitlines()]
    assert len(texts) == delivered.filter(channel="sms").count()

    # On day 20 the magazine went to the drop folder: a copy for each active patient who agreed to post,
    # with the blocks rules queued for them; five days later the print house's report came back.
    [issue] = PrintIssue.objects.filter(program=program)
    assert issue.label == "sim-2026-03-22" and issue.created_at == START + timedelta(days=20)
    copies = {c.patient.pseudonym: c for c in issue.copies.select_related("patient")}
    assert len(copies) == run.totals["magazines"] > 3
    folder = tmp_path / "print" / f"simulation-{run.pk}" / program.slug / issue.label
    assert sorted(p.name for p in folder.glob("*.pdf")) == sorted(c.file_name for c in copies.values())
    assert (folder / "manifest.csv").read_text().count("\n") == len(copies) + 1
    cohort = {c["pseudonym"]: c for c in run.cohort_now()}  # the demo's own ten patients are readers too
    readers = [cohort[p] for p in copies if p in cohort]
    assert readers and all(sim["choices"]["contact_post"] for sim in readers)
    posted = {p.pseudonym for p in simulated.filter(status="active")} & {
        p for p, c in cohort.items() if c["choices"].get("contact_post") and c["enroll_day"] < 20}
    assert posted and posted <= set(copies)
    queued = PrintBlock.objects.filter(issue=issue)
    assert queued.exists() and set(queued.values_list("patient__pseudonym", flat=True)) <= set(copies)
    arrived = Event.objects.filter(type="print.delivered", source="print", data__issue=issue.label)
    assert arrived.count() == run.totals["magazines_delivered"] == issue.copies.filter(
        delivered_at__isnull=False).count()
    assert run.totals["magazines_delivered"] + run.totals.get("magazines_returned", 0) == len(copies)
    assert all(START + timedelta(days=22) <= e.occurred_at <= START + timedelta(days=25) for e in arrived)

    # Patients open only emails that reached them, and read only cards that were put on their page.
    opened = Event.objects.filter(patient__in=simulated, type="email.opened")
    assert opened.exists()
    reached = {str(pk) for pk in delivered.filter(channel="email").values_list("pk", flat=True)}
    assert {e.data["message"] for e in opened} <= reached
    for viewed in Event.objects.filter(patient__in=simulated, type="content.viewed", source="simulation"):
        assert viewed.patient.portal_cards.filter(content_code=viewed.data["content"],
                                                  delivered_at__lte=viewed.occurred_at).exists()

    # Nurses worked the queue through its services: each call is finished with an outcome and recorded.
    calls = NurseTask.objects.filter(patient__in=simulated)
    assert calls.exists() and not calls.filter(status="done", outcome="").exists()
    assert Event.objects.filter(patient__in=simulated, type="call.completed").count() == calls.filter(
        status="done").count()

    # The safety desk decided every intake older than a day; cases reached drug safety, nearly all on time.
    intakes = Intake.objects.filter(patient__in=simulated)
    assert intakes.exists() and not intakes.filter(status="open", day_zero__lt=START + timedelta(days=39)).exists()
    forwarded = Case.objects.filter(patient__in=simulated, status="forwarded")
    assert forwarded.exists() and forwarded.filter(forwarded_at__lte=F("forward_due_at")).count() >= \
        0.9 * forwarded.count()
    assert not Case.objects.filter(patient__in=simulated, status="open",
                                   forward_due_at__lt=START + timedelta(days=38)).exists()
    # Each case was assessed and coded from the program's term list, so every forwarded version leaves as
    # an E2B(R3) ICSR that passes the check (export_versions refuses the lot otherwise).
    assert not Case.objects.filter(program=program, assessed_at__isnull=True).exists()
    assert not Reaction.objects.filter(case__program=program, meddra_code="").exists()
    icsrs = export_versions(actor=Actor.system("test"), program=program, fmt="e2b", numbers=None, at=START)
    assert len(icsrs) == CaseForwarding.objects.filter(case__program=program).exclude(
        case__kind="product_complaint").count() > 0

    # Consent withdrawn stops everything: nothing is sent and nothing is recorded afterwards.
    for patient in simulated.filter(status="withdrawn"):
        withdrawn_at = Event.objects.get(patient=patient, type="consent.withdrawn").occurred_at
        assert not OutboxMessage.objects.filter(patient=patient, status="done", finished_at__gt=withdrawn_at).exists()
        assert not Event.objects.filter(patient=patient, source="simulation", occurred_at__gt=withdrawn_at).exists()


@pytest.mark.django_db(transaction=True)
def test_a_run_stopped_while_its_magazine_was_laid_out_lays_it_out_when_it_resumes(settings, tmp_path, monkeypatch):
    settings.SOJOURN_PRINT_DIR = tmp_path / "print"
    program = build_demo()

    def killed(world):
        raise KeyboardInterrupt  # after the last day saved, before the press's checksums were recorded

    monkeypatch.setattr(_World, "lay_out", killed)
    with pytest.raises(KeyboardInterrupt):
        simulate(program=program, patients=36, days=14, seed=7, start=START, magazine_every=10, stop_after=12)
    [issue] = PrintIssue.objects.filter(program=program)
    assert issue.copies.exists() and set(issue.copies.values_list("sha256", flat=True)) == {""}
    run = SimulationRun.objects.get()
    assert run.days_done == 12 and run.finished_at is None
    monkeypatch.undo()

    resumed = simulate(program=program, patients=36, days=14, seed=7, magazine_every=10)
    assert resumed.days_done == 14 and resumed.finished_at is not None
    folder = tmp_path / "print" / f"simulation-{run.pk}" / program.slug / issue.label
    copies = list(PrintIssue.objects.get().copies.all())
    assert len(copies) == run.totals["magazines"]  # the same readers, none added on the day it resumed
    for copy in copies:
        assert copy.sha256 == hashlib.sha256((folder / copy.file_name).read_bytes()).hexdigest()
    assert (folder / "manifest.csv").read_text().count("\n") == len(copies) + 1


@pytest.mark.django_db
def test_the_command_says_what_is_wrong_with_its_arguments(program):
    with pytest.raises(CommandError, match="--patients must be from 1"):
        call_command("simulate", "--patients", "0", "--program", program.slug)
    with pytest.raises(CommandError, match="--magazine-every cannot be negative"):
        call_command("simulate", "--magazine-every", "-1", "--program", program.slug)
    with pytest.raises(CommandError, match="there is no program 'nope'"):
        call_command("simulate", "--program", "nope")
    with pytest.raises(CommandError, match="cannot run into the future"):
        call_command("simulate", "--program", program.slug, "--days", "10", "--start", "2099-01-01")
    assert not SimulationRun.objects.exists()

    begun = start_run(actor=SYSTEM, program=program, patients=5, days=10, seed=1, start=START, cohort=[],
                      population={})
    with pytest.raises(CommandError, match="began on 2026-03-02"):
        call_command("simulate", "--program", program.slug, "--patients", "5", "--days", "10", "--seed", "1",
                     "--start", "2026-04-01")
    assert SimulationRun.objects.get() == begun and begun.days_done == 0
    assert AuditEntry.objects.filter(action="simulation.started", after__run=begun.pk).exists()


def test_a_run_resumes_from_its_saved_state_and_one_saved_whole_from_its_cohort():
    drawn = {"index": 0, "country": "DE", "pseudonym": "", "status": "invited", "engaged": True, "next_refill": None,
             "refills": 0, "stopped_sms": False, "seen_cards": []}
    saved = SimulationRun(cohort=[drawn], state=[["P-NEW", "active", False, 12, 3, True, [5]]])
    [patient] = saved.cohort_now()
    assert (patient["pseudonym"], patient["status"], patient["engaged"], patient["next_refill"], patient["refills"],
            patient["stopped_sms"], patient["seen_cards"], patient["country"]) == \
        ("P-NEW", "active", False, 12, 3, True, [5], "DE")
    whole = SimulationRun(cohort=[{**drawn, "pseudonym": "P-OLD", "status": "active"}], state=[])
    assert whole.cohort_now()[0]["pseudonym"] == "P-OLD"  # a run saved before the state was kept apart


END = datetime(2026, 3, 25, 16, tzinfo=UTC)  # a Wednesday: the afternoon in Europe, the morning in America


@pytest.mark.django_db(transaction=True)
def test_the_safety_desk_leaves_a_living_queue_with_one_case_held_for_information(settings, tmp_path):
    settings.SOJOURN_SMS_GATEWAY_DIR = tmp_path
    program = build_demo()
    run = simulate(program=program, patients=200, days=30, seed=1, start=END - timedelta(days=30), magazine_every=0)
    assert run.totals["side_effect_forms"] > 0  # patients report on the portal's form too
    queue = safety_queue(Actor.system("test"), program)
    # As the demo opens, when the run ends: one item overdue, whatever else is open on time or due soon.
    states = Counter(item.state(END) for item in queue)
    assert states["overdue"] == 1, states
    [late] = [item for item in queue if item.state(END) == "overdue"]
    # The overdue one is a case the officer held for drug safety's question, which the nurses have not put yet.
    case = Case.objects.get(number=late.reference)
    [question] = case.follow_ups.filter(status="open")
    assert question.question in hold_questions() and question.due_at > END
    assert not case.forwardings.exists() and case.forward_due_at < END - timedelta(hours=1)
    # Nothing else waited longer than the desk's longest delay: a long weekend.
    assert all(item.day_zero > END - timedelta(days=4) for item in queue if item is not late)
    # Over the run, most versions reached drug safety on time; the months' held cases went late.
    forwarded = CaseForwarding.objects.filter(case__program=program)
    assert forwarded.filter(forwarded_at__lte=F("due_at")).count() >= 0.8 * forwarded.count() > 3
    # The officer works in office hours, or on call in the last hours before a deadline.
    for intake in Intake.objects.filter(program=program).exclude(decided_at=None).select_related("patient__market"):
        clocks = Clocks.for_pack(intake.patient.market.pack)
        local = intake.decided_at.astimezone(clocks.zone)
        assert (clocks.is_business_day(local.date()) and 8 <= local.hour <= 18 + 6) or \
            intake.due_at - intake.decided_at <= LAST_CALL, intake


def test_the_desk_counts_office_hours_skipping_weekends_and_public_holidays():
    berlin = Clocks(country="DE", time_zone="Europe/Berlin", deadline_business_days=1)
    friday_evening = datetime(2026, 3, 27, 17, tzinfo=ZoneInfo("Europe/Berlin"))
    assert office_time_after(berlin, friday_evening, 3) == datetime(2026, 3, 30, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    # Good Friday and Easter Monday: from Thursday evening to Tuesday morning, across the change to summer time.
    before_easter = datetime(2026, 4, 2, 17, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert office_time_after(berlin, before_easter, 1) == datetime(2026, 4, 7, 8, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert office_time_after(berlin, datetime(2026, 4, 7, 9, tzinfo=UTC), 0) == datetime(2026, 4, 7, 9, tzinfo=UTC)
