"""A questionnaire approved in a program: the scales its definition says measure needs are mapped."""

from __future__ import annotations

from sojourn.core.actors import Actor
from sojourn.programs.services import current_version
from sojourn.questionnaires.hooks import questionnaire_approved
from sojourn.questionnaires.models import Questionnaire
from sojourn.tracking.models import Need
from sojourn.tracking.services.taxonomy import map_scale_to_need


@questionnaire_approved.connect
def map_measured_needs(questionnaire: Questionnaire) -> None:
    """The definition was approved already; mapping what it declares is its consequence, done by the
    platform (the reviewer of an instrument need not manage the program). A scale the definition
    names and this version lacks refuses the approval, naming it."""
    current = current_version(questionnaire.program)
    if current is None:
        return
    actor = Actor.system("program definition")
    for need_part in current.document.get("needs", []):
        for measured in need_part.get("measured_by", []):
            if measured["questionnaire"] == questionnaire.url:
                need = Need.objects.get(program_id=questionnaire.program_id, code=need_part["code"])
                map_scale_to_need(actor=actor, need=need, questionnaire=questionnaire, scale=measured["scale"])
