"""The demo's questionnaires: every shipped instrument imported by the program manager and approved
by the content reviewer; each demo patient has answered the needs analysis and the WHO-5."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model

from sojourn.consent.portal import patient_actor
from sojourn.core.models import Program
from sojourn.people.models import Patient
from sojourn.people.queries import actor_for_user
from sojourn.questionnaires.answers import enabled_items, response_items
from sojourn.questionnaires.instruments import INSTRUMENTS, shipped
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.services.definitions import (
    approve_questionnaire,
    definition,
    import_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.services.responses import save_response


def approve_instruments(program: Program, manager_email: str, reviewer_email: str,
                        own: Iterable[dict[str, Any]] = (), measuring: Iterable[str] = ()) -> list[Questionnaire]:
    """The instruments Sojourn ships that the program uses (every general one; a needs analysis only
    when it is `measuring` the program's needs, by canonical URL) and the program's `own`."""
    users = get_user_model().objects
    manager = actor_for_user(users.get(username=manager_email))
    reviewer = actor_for_user(users.get(username=reviewer_email))
    measured = set(measuring)
    general = [r for name, r in shipped().items() if name in INSTRUMENTS or r["url"] in measured]
    approved = []
    for resource in [*general, *own]:
        found = Questionnaire.objects.filter(program=program, url=resource["url"], status="approved").first()
        if found is None:
            found = import_questionnaire(actor=manager, program=program, resource=resource)
            submit_questionnaire(actor=manager, questionnaire=found)
            found = approve_questionnaire(actor=reviewer, questionnaire=found)
        approved.append(found)
    return approved


def answer_baseline(program: Program, rng: random.Random) -> int:
    """Each active demo patient answers the needs analysis and the WHO-5, as if in the portal."""
    answered = 0
    for name in ("psoriasis-needs", "who-5"):
        questionnaire = Questionnaire.objects.get(program=program, name=name, status="approved")
        parsed = definition(questionnaire)
        for patient in Patient.objects.filter(program=program, status="active").select_related("market"):
            if QuestionnaireResponse.objects.filter(patient=patient, questionnaire=questionnaire).exists():
                continue
            answers: dict[str, list] = {}
            for item in parsed.questions():
                if item.link_id not in enabled_items(parsed, answers) or not item.options:
                    continue
                if item.repeats:
                    answers[item.link_id] = sorted({rng.choice(item.options).value for _ in range(2)})
                else:
                    answers[item.link_id] = [rng.choice(item.options).value]
            save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                          items=response_items(parsed, answers), source="portal", complete=True)
            answered += 1
    return answered
