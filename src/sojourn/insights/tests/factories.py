"""Patients, answers and hypotheses for the insights tests: a cohort worried about side effects at
treatment initiation (market by market), and outside survey files with their column mapping."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from django.utils import timezone

from sojourn.consent.tests.factories import enroll
from sojourn.core.tests.factories import SYSTEM
from sojourn.insights.services.hypotheses import propose_hypothesis
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.tracking.models import Event

NOW = timezone.now().replace(microsecond=0)
NEEDS_URL = "https://example.org/needs"
_serial = count()

# Worry about side effects (0–3) at treatment initiation: DE mostly worried, GB mostly not (only four
# worried: a cell under five), US evenly split, JP too few to judge, CA nobody.
SCORES = {"DE": [3] * 20 + [1] * 5, "GB": [2] * 4 + [0] * 16, "US": [3, 2, 2, 1, 2, 0, 3, 1, 0, 2, 1, 1],
          "JP": [3, 3, 1, 2, 2, 0]}


def days(n: float):
    return NOW - timedelta(days=n)


def patient(world, country: str):
    n = next(_serial)
    return enroll(world["program"], country, version=world["versions"][country], email=f"p{n}@example.org").subject


def event(who, kind, at, **data):
    return Event.objects.create(program=who.program, patient=who, type=kind, client_id=f"e{next(_serial)}",
                                occurred_at=at, received_at=at, source="test", data=data)


def answered(who, at, value):
    QuestionnaireResponse.objects.create(
        questionnaire=Questionnaire.objects.get(url=NEEDS_URL), patient=who, status="completed", source="portal",
        locale="en", started_at=at, completed_at=at, scores=[{"scale": "side_effects", "value": value}])


def worry(world, claim="at_least", threshold=0.5, smallest_difference=None, **metric):
    return propose_hypothesis(
        actor=SYSTEM, program=world["program"], stage="treatment_initiation",
        statement="At treatment initiation, at least half of patients worry about side effects.",
        metric=metric or {"kind": "answer_share", "questionnaire": NEEDS_URL, "scale": "side_effects",
                          "op": ">=", "value": 2},
        claim=claim, threshold=threshold, smallest_difference=smallest_difference)


MAPPING = {"respondent": "Respondent", "market": "Country", "stage": "Phase", "date": "Completed",
           "stage_values": {"Starting treatment": "treatment_initiation", "Newly diagnosed": "diagnosis"},
           "questions": [{"column": "Q1 Unprepared for side effects", "code": "unprepared", "min": 1, "max": 5},
                         {"column": "Q2 Itch", "code": "itch", "min": 0, "max": 10}]}
HEADER = "Respondent,Country,Phase,Completed,Q1 Unprepared for side effects,Q2 Itch\n"


def csv_file(rows: list[str]) -> bytes:
    return (HEADER + "".join(f"{r}\n" for r in rows)).encode()
