"""A simulation run: its parameters, how far it got, and the cohort's state at the last finished day,
so an interrupted run resumes where it stopped."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SimulationRun(models.Model):
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField()
    patients = models.PositiveIntegerField()
    days = models.PositiveIntegerField()
    starts_at = models.DateTimeField()  # the simulated clock at day 0
    days_done = models.PositiveIntegerField(default=0)
    cohort = models.JSONField(default=list)  # each simulated patient's hidden state: no personal data
    totals = models.JSONField(default=dict)  # what happened, counted as it happened
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
