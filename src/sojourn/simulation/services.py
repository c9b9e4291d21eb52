"""Writes of a simulation run: its start (audited: who lived which cohort through which program),
the progress saved after each simulated day, and its end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.simulation.models import SimulationRun


def check_start(start: datetime, days: int) -> None:
    if start + timedelta(days=days) > timezone.now() + timedelta(hours=1):
        raise InvalidInput(_("A simulation cannot run into the future: start it earlier or simulate fewer days."),
                           field="start")


def start_run(*, actor: Actor, program: Program, patients: int, days: int, seed: int, start: datetime,
              cohort: list[dict[str, Any]], population: dict[str, Any]) -> SimulationRun:
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    check_start(start, days)
    run = SimulationRun.objects.create(program=program, seed=seed, patients=patients, days=days, starts_at=start,
                                       created_at=timezone.now(), cohort=cohort, population=population,
                                       totals={"last_message": 0})
    record_audit(actor=actor, action="simulation.started", subject_type="program", subject_id=program.slug,
                 program_id=program.pk, after={"run": run.pk, "patients": patients, "days": days, "seed": seed,
                                               "start": start.isoformat(),
                                               "cohort_of": population.get("program", "")})
    return run


def save_progress(run: SimulationRun, *, days_done: int, state: list[list[Any]], totals: dict[str, Any]) -> None:
    """Where the run is after a simulated day (each patient's state, in `STATE_FIELDS`
    order): what a resumed run starts from."""
    run.days_done, run.state, run.totals = days_done, state, totals
    run.save(update_fields=["days_done", "state", "totals"])


def finish_run(run: SimulationRun) -> None:
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
