"""Outside patient data for the demo: an invented patient community panel (600 pseudonymous
respondents, five markets) exported as CSV the way survey tools do, imported by the insights analyst
with a column mapping, and the journey hypothesis the panel tests. The figures are invented, made so
that markets differ (see the shares below); nothing here describes real patients."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from django.contrib.auth import get_user_model

from sojourn.core.models import Program
from sojourn.insights.models import SurveyImport
from sojourn.insights.services.hypotheses import propose_hypothesis
from sojourn.insights.services.surveys import import_survey
from sojourn.people.queries import actor_for_user

SOURCE = "Psoriasis community panel 2026 (invented for the demo)"
# Share of respondents starting a treatment who feel unprepared for its side effects (4 or 5 of 5).
UNPREPARED = {"DE": 0.62, "US": 0.55, "GB": 0.5, "JP": 0.72, "CA": 0.3}
MAPPING = {
    "respondent": "Respondent ID", "market": "Country", "stage": "Where are you in your treatment?",
    "stage_values": {"Recently diagnosed": "diagnosis", "Starting a new treatment": "treatment_initiation",
                     "On treatment for a while": "daily_management"},
    "date": "Completed", "date_format": "YYYY-MM-DD",
    "questions": [
        {"column": "I feel prepared for the side effects of my treatment (1 = fully, 5 = not at all)",
         "code": "unprepared_side_effects", "min": 1, "max": 5},
        {"column": "How much did itching bother you this week? (0-10)", "code": "itch_week", "min": 0, "max": 10},
    ],
}


def panel_csv(seed: int = 2026) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Respondent ID", "Country", "Where are you in your treatment?", "Completed",
                     MAPPING["questions"][0]["column"], MAPPING["questions"][1]["column"]])
    stages = list(MAPPING["stage_values"])
    for country, unprepared in UNPREPARED.items():
        for i in range(120):
            stage = stages[1] if i < 100 else rng.choice([stages[0], stages[2]])
            answer = rng.choice([4, 5]) if rng.random() < unprepared else rng.choice([1, 2, 3])
            itch = "" if rng.random() < 0.05 else min(10, max(0, round(rng.gauss(5.5, 2.2))))
            writer.writerow([f"CP-{country}-{i:04d}", country, stage,
                             (date(2026, 3, 1) + timedelta(days=rng.randrange(60))).isoformat(), answer, itch])
    return out.getvalue().encode()


def import_demo_survey(program: Program, analyst_email: str) -> None:
    if SurveyImport.objects.filter(program=program).exists():
        return
    analyst = actor_for_user(get_user_model().objects.get(username=analyst_email))
    import_survey(actor=analyst, program=program, source=SOURCE, filename="community-panel-2026.csv",
                  content=panel_csv(), mapping=MAPPING)
    propose_hypothesis(
        actor=analyst, program=program, stage="treatment_initiation", claim="at_least", threshold=0.5,
        statement="At treatment initiation, at least half of patients feel unprepared for side effects "
                  "(community panel).",
        metric={"kind": "survey_share", "question": "unprepared_side_effects", "op": ">=", "value": 4})
