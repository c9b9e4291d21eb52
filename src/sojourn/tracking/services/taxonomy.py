"""The program's need taxonomy, journey stages and the declared mapping from questionnaire scales to needs."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.questionnaires.models import Questionnaire
from sojourn.tracking.models import Need, NeedMapping, Stage


def define_need(*, actor: Actor, program: Program, code: str, labels: dict[str, str], position: int = 0) -> Need:
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    if not labels.get("en"):
        raise InvalidInput(_("Give the need an English label at least."), field="labels")
    with transaction.atomic():
        need, created = Need.objects.update_or_create(program=program, code=code,
                                                      defaults={"labels": labels, "position": position})
        record_audit(actor=actor, action="need.defined" if created else "need.changed", subject_type="need",
                     subject_id=need.pk, program_id=program.pk, after={"code": code})
        return need


def define_stage(*, actor: Actor, program: Program, code: str, labels: dict[str, str], position: int) -> Stage:
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    with transaction.atomic():
        stage, _created = Stage.objects.update_or_create(program=program, code=code,
                                                         defaults={"labels": labels, "position": position})
        record_audit(actor=actor, action="stage.defined", subject_type="stage", subject_id=stage.pk,
                     program_id=program.pk, after={"code": code, "position": position})
        return stage


def map_scale_to_need(*, actor: Actor, need: Need, questionnaire: Questionnaire, scale: str) -> NeedMapping:
    """Declare that a scale of a questionnaire measures the need; its highest value makes the score 1."""
    actor.require(Permission.PROGRAM_MANAGE, need.program_id)
    if questionnaire.program_id != need.program_id:
        raise InvalidInput(_("The questionnaire belongs to another program."), field="questionnaire")
    declared = next((s for s in questionnaire.scoring.get("scales", []) if s["id"] == scale), None)
    if declared is None:
        raise InvalidInput(_("%(scale)s is not a scale of this questionnaire.") % {"scale": scale}, field="scale")
    from sojourn.questionnaires.services.definitions import definition

    items = definition(questionnaire).by_link_id()
    highest = 0.0
    for link_id in declared["items"]:
        item = items[link_id]
        weights = [float(o.weight) for o in item.options if o.weight is not None]
        highest = max(highest, max(weights) if weights else float(item.max_value or 0))
    if declared.get("method", "sum") == "sum":
        highest *= len(declared["items"])
    highest *= float(declared.get("multiplier", 1))
    if highest <= 0:
        raise InvalidInput(_("The scale %(scale)s has no highest value to compare with.") % {"scale": scale},
                           field="scale")
    with transaction.atomic():
        mapping, _created = NeedMapping.objects.update_or_create(
            need=need, questionnaire_url=questionnaire.url, scale=scale, defaults={"scale_max": highest})
        record_audit(actor=actor, action="need.mapped", subject_type="need", subject_id=need.pk,
                     program_id=need.program_id, after={"questionnaire": questionnaire.url, "scale": scale})
        return mapping
