"""`sojourn demo` builds its programs as they were before the simulated cohorts joined, lives each
cohort through its program until now, and a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from sojourn.core.models import Program
from sojourn.people.models import Patient
from sojourn.simulation.models import SimulationRun


@pytest.mark.django_db(transaction=True)
def test_the_demo_command_builds_the_program_then_lives_a_cohort_through_it_until_now():
    out = StringIO()
    call_command("demo", no_serve=True, patients=24, days=12, seed=5, stdout=out)
    program = Program.objects.get(slug="psoriasis-companion")
    run = SimulationRun.objects.get(program=program)
    assert (run.days_done, run.patients) == (12, 24) and run.finished_at is not None
    simulated = Patient.objects.filter(pseudonym__in=[c["pseudonym"] for c in run.cohort_now()])
    assert simulated.count() == 24
    # History reads in order: the program existed before its first simulated patient, and nobody joined
    # in the future.
    assert program.created_at < min(p.created_at for p in simulated)
    assert max(p.created_at for p in simulated) <= timezone.now()
    assert "manager@demo.sojourn.example" in out.getvalue()

    # The second program, made of its files, lives a fifth of the cohort.
    eczema = SimulationRun.objects.get(program__slug="eczema-companion")
    assert (eczema.days_done, eczema.patients) == (12, 24 // 5) and eczema.finished_at is not None
    assert "/p/eczema-companion/GB/enroll/" in out.getvalue()

    call_command("demo", no_serve=True, patients=24, days=12, seed=5, stdout=StringIO())
    assert Patient.objects.filter(program=program).count() == 24 + 10
    assert Patient.objects.filter(program=eczema.program).count() == 24 // 5
    assert SimulationRun.objects.count() == 2
