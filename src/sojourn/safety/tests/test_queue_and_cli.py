"""The safety queue and `sojourn safety`: soonest deadline first, overdue said plainly, a decision made
from the terminal is the named officer's and is checked like one made in the console."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sojourn.core.errors import AccessDenied
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.safety.models import Case, Intake
from sojourn.safety.queries import safety_counts, safety_queue
from sojourn.safety.services import record_intake
from sojourn.tracking.tests.helpers import SYSTEM


@pytest.fixture
def intakes(active_patient):
    now = timezone.now()
    return [record_intake(actor=SYSTEM, patient=active_patient, source=source, reason="noticed", detail={},
                          idempotency_key=key, day_zero=now - timedelta(days=days))
            for key, source, days in (("a", "rule", 0), ("b", "nurse call", 10))]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("safety", *args, stdout=out)
    return out.getvalue()


def test_the_queue_puts_the_overdue_intake_first_and_counts_reach_other_roles(intakes, cast, program):
    officer = actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program))
    queue = safety_queue(officer, program)
    assert [i.reference for i in queue] == [str(intakes[1].pk), str(intakes[0].pk)]
    assert queue[0].state(timezone.now()) == "overdue" and queue[1].state(timezone.now()) != "overdue"
    counts = safety_counts(actor_for_user(cast.nurse_de), program, timezone.now())
    assert counts["DE"]["open"] == 2 and counts["DE"]["overdue"] == 1
    assert safety_counts(actor_for_user(cast.nurse_gb), program, timezone.now()) == {}  # not their market
    with pytest.raises(AccessDenied):
        safety_queue(actor_for_user(cast.nurse_de), program, market="DE")


def test_the_cli_lists_decides_assesses_and_forwards(intakes, program, tmp_path):
    make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)
    listed = json.loads(_run("list", "--program", program.slug, "--json"))
    assert [(i["kind"], i["state"]) for i in listed] == [("intake", "overdue"), ("intake", "on_time")]
    said = _run("decide", str(intakes[1].pk), "--kind", "adverse-event", "--by", "safety@sponsor.example")
    number = Case.objects.get().number
    assert said.strip() == f"intake {intakes[1].pk}: case {number} version 1"
    assessment = tmp_path / "assessment.json"
    assessment.write_text(json.dumps({
        "reactions": [{"verbatim": "fainted at the pharmacy", "outcome": "recovered", "onset": "2026-03-01",
                       "seriousness": ["hospitalisation"], "causality": "unknown"}],
        "suspect_product": "Demoxumab", "expectedness": "unexpected", "narrative": "Fainted, kept overnight."}))
    with pytest.raises(CommandError, match="Assess the case first"):
        _run("forward", number, "--by", "safety@sponsor.example")
    assert ": serious, authority" in _run("assess", number, "--file", str(assessment), "--by", "safety@sponsor.example")
    assert "forwarded LATE" in _run("forward", number, "--by", "safety@sponsor.example")
    said = _run("decide", str(intakes[0].pk), "--kind", "not-ae", "--reason", "a question about delivery",
                "--by", "safety@sponsor.example")
    assert "not an adverse event" in said and Intake.objects.get(pk=intakes[0].pk).decided_by.username == \
        "safety@sponsor.example"
    assert "0 open, 0 overdue" in _run("list", "--program", program.slug)


def test_the_cli_refuses_a_person_without_the_role_and_names_the_field(intakes, cast):
    with pytest.raises(CommandError):
        _run("decide", str(intakes[0].pk), "--kind", "adverse-event", "--by", "nurse.de@sponsor.example")
    with pytest.raises(CommandError, match="reason"):
        make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, cast.program)
        _run("decide", str(intakes[0].pk), "--kind", "not-ae", "--by", "safety@sponsor.example")
    with pytest.raises(CommandError, match="no case"):
        _run("forward", "DE-2026-99999", "--by", "safety@sponsor.example")
    assert not Case.objects.exists() and Intake.objects.filter(status="open").count() == 2
