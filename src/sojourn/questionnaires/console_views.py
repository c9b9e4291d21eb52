"""A nurse enters a patient's answers during a call: every question on one page, the ones that do
not apply (given the other answers) dropped on save, then scored like any other response."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.core.errors import SojournError
from sojourn.core.permissions import Permission
from sojourn.people.queries import access_patient
from sojourn.questionnaires.answers import Answers, read_answers, response_items
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.portal_views import parse_answer, prune
from sojourn.questionnaires.services.definitions import definition as definition_of
from sojourn.questionnaires.services.responses import save_response


@login_required
@require_http_methods(["GET", "POST"])
def enter_answers(request: HttpRequest, pseudonym: str, name: str) -> HttpResponse:
    try:
        patient = access_patient(request.actor, pseudonym, Permission.PATIENT_MANAGE)
    except SojournError:
        return render(request, "people/not_found.html", status=404)
    questionnaire = Questionnaire.objects.filter(program_id=patient.program_id, name=name, status="approved").first()
    if questionnaire is None:
        return render(request, "people/not_found.html", status=404)
    definition = definition_of(questionnaire)
    language = (get_language() or "en").split("-")[0]
    patient_language = patient.locale.split("-")[0]
    draft = QuestionnaireResponse.objects.filter(patient=patient, questionnaire=questionnaire,
                                                 status="in-progress").first()
    answers: Answers = read_answers(definition, draft.items)[0] if draft else {}
    errors: dict[str, str] = {}
    general = ""
    if request.method == "POST":
        entered: Answers = {}
        for item in definition.questions():
            values, problem = parse_answer(item, request.POST.getlist(f"answer-{item.link_id}"),
                                           request.POST.get(f"other-{item.link_id}", ""))
            if values:
                entered[item.link_id] = values
            elif problem and problem != parse_answer(item, [])[1]:
                errors[item.link_id] = problem
        answers = prune(definition, entered)
        if not errors:
            try:
                save_response(actor=request.actor, patient=patient, questionnaire=questionnaire,
                              items=response_items(definition, answers), source="nurse",
                              complete=request.POST.get("finish") == "1", locale=patient.locale)
            except SojournError as exc:
                for detail in exc.details:
                    link_id = (detail.field or "").removeprefix("item[").removesuffix("]")
                    errors[link_id] = detail.message
                general = exc.message if not exc.details else ""
            else:
                done = request.POST.get("finish") == "1"
                messages.success(request, _("The answers are saved and scored.") if done else
                                 _("The answers are saved; the questionnaire stays open."))
                return redirect("tracking:profile", pseudonym=pseudonym) if done else redirect(request.path)
    rows: list[dict[str, Any]] = []
    for item in definition.walk():
        rows.append({"item": item, "label": item.label(language), "patient_label": item.label(patient_language),
                     "options": [(str(o.value), o.label(language)) for o in item.options],
                     "chosen": {str(v) for v in answers.get(item.link_id, [])},
                     "current": (answers.get(item.link_id) or [""])[0], "error": errors.get(item.link_id, ""),
                     "conditional": bool(item.conditions)})
    return render(request, "questionnaires/console/enter.html", {
        "patient": patient, "questionnaire": questionnaire, "title": definition.title_in(language), "rows": rows,
        "general": general, "has_errors": bool(errors or general), "same_language": language == patient_language},
        status=400 if errors or general else 200)
