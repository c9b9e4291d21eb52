"""Instruments imported and approved through the services, as the demo and a program team do."""

from __future__ import annotations

from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.questionnaires.instruments import shipped
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.services.definitions import (
    approve_questionnaire,
    import_questionnaire,
    submit_questionnaire,
)


def approved_instrument(program: Program, name: str) -> Questionnaire:
    editor = Actor(kind="system", label="importer")
    questionnaire = import_questionnaire(actor=editor, program=program, resource=shipped()[name])
    submit_questionnaire(actor=editor, questionnaire=questionnaire)
    return approve_questionnaire(actor=Actor(kind="system", label="reviewer"), questionnaire=questionnaire)
