"""What the demo team believes about the psoriasis journey before looking at the data: hypotheses the
insights analyst records, which the simulated cohort then supports in some markets and refutes in
others (the simulator's market traits shift some needs; see simulation/personas.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from sojourn.core.models import Program
from sojourn.insights.models import Hypothesis
from sojourn.insights.services.hypotheses import propose_hypothesis
from sojourn.people.queries import actor_for_user

NEEDS_ANALYSIS = "urn:sojourn:questionnaire:psoriasis-needs"


def _needs(scale: str) -> dict[str, Any]:
    # "Often" or "all the time" on average over the scale's questions (each 0–3).
    return {"kind": "answer_share", "questionnaire": NEEDS_ANALYSIS, "scale": scale, "op": ">=", "value": 2}


DEMO_HYPOTHESES: list[dict[str, Any]] = [
    {"stage": "diagnosis", "metric": _needs("psychosocial"), "claim": "at_least", "threshold": 0.5,
     "statement": "At diagnosis, at least half of patients say psoriasis often weighs on their mood or on how "
                  "they feel seen."},
    {"stage": "diagnosis", "metric": _needs("practical_access"), "claim": "higher", "threshold": None,
     "statement": "Newly diagnosed patients in the United States worry more about the cost of and access to "
                  "treatment than patients elsewhere."},
    {"stage": "treatment_initiation", "metric": {"kind": "event_share", "event": "content.viewed", "within_days": 30},
     "claim": "at_least", "threshold": 0.5,
     "statement": "At treatment initiation, at least half of patients read an article of the program within 30 "
                  "days."},
    {"stage": "daily_management", "metric": {"kind": "fact_mean", "fact": "who5_change"}, "claim": "at_least",
     "threshold": 5.0, "smallest_difference": 2.0,
     "statement": "In daily management, well-being (WHO-5) improves by at least five points by week 12."},
]


def propose_demo_hypotheses(program: Program, analyst_email: str) -> None:
    if Hypothesis.objects.filter(program=program).exists():
        return
    analyst = actor_for_user(get_user_model().objects.get(username=analyst_email))
    for hypothesis in DEMO_HYPOTHESES:
        propose_hypothesis(actor=analyst, program=program, **hypothesis)
