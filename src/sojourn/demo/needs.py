"""Where the demo's patients stand on the journey (its stages are the definition's: psoriasis.yaml)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from sojourn.core.models import Program
from sojourn.people.models import Patient
from sojourn.people.queries import actor_for_user
from sojourn.tracking.models import Stage
from sojourn.tracking.services.profiles import refresh_profile, set_journey_stage


def place_demo_patients(program: Program, admin_email: str) -> None:
    """Give each demo patient a journey stage and a fresh profile."""
    actor = actor_for_user(get_user_model().objects.get(username=admin_email))
    stages = list(Stage.objects.filter(program=program).order_by("position").values_list("code", flat=True))
    for n, patient in enumerate(Patient.objects.filter(program=program, status="active").select_related("market")
                                .order_by("pk")):
        set_journey_stage(actor=actor, patient=patient, stage_code=stages[n % len(stages)],
                          reason="demo placement")
        refresh_profile(patient)
