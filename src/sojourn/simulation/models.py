"""A simulation run: its parameters, how far it got, and the cohort's state at the last finished day,
so an interrupted run resumes where it stopped."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

# What changes of a simulated patient from day to day (the rest is drawn once from the seed).
STATE_FIELDS = ("pseudonym", "status", "engaged", "next_refill", "refills", "stopped_sms", "seen_cards")


class SimulationRun(models.Model):
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField()
    patients = models.PositiveIntegerField()
    days = models.PositiveIntegerField()
    starts_at = models.DateTimeField()  # the simulated clock at day 0
    days_done = models.PositiveIntegerField(default=0)
    # Each simulated patient as drawn at the start (traits and first state; no personal data) and the
    # changing part of it at the last finished day, a list per patient in STATE_FIELDS order: a day's
    # save writes about 100 bytes a patient instead of the whole cohort's 800.
    cohort = models.JSONField(default=list)
    state = models.JSONField(default=list)
    totals = models.JSONField(default=dict)  # what happened, counted as it happened
    # Who the patients are (the cohort file, as read at the start): a resumed run lives the same people.
    population = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "seed", "patients", "days"], name="simulation_once"),
            models.CheckConstraint(condition=Q(days_done__lte=models.F("days")), name="simulation_days_done_valid"),
            models.CheckConstraint(condition=Q(patients__gte=1) & Q(days__gte=1), name="simulation_size_valid"),
        ]

    def __str__(self) -> str:
        return f"seed {self.seed}: {self.patients} patients, day {self.days_done}/{self.days}"

    def cohort_now(self) -> list[dict[str, Any]]:
        """Each simulated patient as of the last finished day."""
        if not self.state:  # not started, or saved whole (runs before the state was kept apart)
            return [dict(c) for c in self.cohort]
        return [{**traits, **dict(zip(STATE_FIELDS, row, strict=True))}
                for traits, row in zip(self.cohort, self.state, strict=True)]
