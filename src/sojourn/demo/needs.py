"""The demo program's needs (those of the needs analysis), its journey stages, and the mapping of
each needs-analysis scale onto its need."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from sojourn.core.models import Program
from sojourn.people.models import Patient
from sojourn.people.queries import actor_for_user
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.needs_analysis import NEEDS
from sojourn.tracking.services.profiles import refresh_profile, set_journey_stage
from sojourn.tracking.services.taxonomy import define_need, define_stage, map_scale_to_need

STAGES = [
    ("diagnosis", {"en": "Diagnosis", "de": "Diagnose", "fr": "Diagnostic", "ja": "診断"}),
    ("treatment_initiation", {"en": "Treatment initiation", "de": "Therapiebeginn", "fr": "Début du traitement",
                              "ja": "治療開始"}),
    ("daily_management", {"en": "Daily management", "de": "Alltag mit der Therapie", "fr": "Gestion au quotidien",
                          "ja": "日常の管理"}),
    ("switching", {"en": "Switching", "de": "Therapiewechsel", "fr": "Changement de traitement",
                   "ja": "治療の切り替え"}),
]


def define_demo_needs(program: Program, manager_email: str) -> None:
    manager = actor_for_user(get_user_model().objects.get(username=manager_email))
    for position, (code, labels) in enumerate(NEEDS.items()):
        define_need(actor=manager, program=program, code=code, labels=labels, position=position)
    for position, (code, labels) in enumerate(STAGES):
        define_stage(actor=manager, program=program, code=code, labels=labels, position=position)


def map_demo_needs(program: Program, manager_email: str) -> None:
    manager = actor_for_user(get_user_model().objects.get(username=manager_email))
    analysis = Questionnaire.objects.get(program=program, name="psoriasis-needs", status="approved")
    for need in program.needs.all():
        map_scale_to_need(actor=manager, need=need, questionnaire=analysis, scale=need.code)


def place_demo_patients(program: Program, admin_email: str) -> None:
    """Give each demo patient a journey stage and a fresh profile."""
    actor = actor_for_user(get_user_model().objects.get(username=admin_email))
    for n, patient in enumerate(Patient.objects.filter(program=program, status="active").select_related("market")
                                .order_by("pk")):
        set_journey_stage(actor=actor, patient=patient, stage_code=STAGES[n % len(STAGES)][0],
                          reason="demo placement")
        refresh_profile(patient)
