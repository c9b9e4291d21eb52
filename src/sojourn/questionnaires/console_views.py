"""Console pages for questionnaires: import, review (four eyes) and retire versions; and a nurse
entering a patient's answers during a call: every question on one page, the ones that do not apply
(given the other answers) dropped on save, then scored like any other response."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.core.errors import NotFound
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Permission
from sojourn.core.views import HIDDEN, shown_on_page
from sojourn.people.console import console_scope
from sojourn.people.queries import access_patient
from sojourn.questionnaires.answers import Answers, read_answers, response_items
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.portal_views import parse_answer, prune
from sojourn.questionnaires.services.definitions import (
    access_questionnaire,
    approve_questionnaire,
    import_questionnaire,
    retire_questionnaire,
    return_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.services.definitions import definition as definition_of
from sojourn.questionnaires.services.responses import save_response


@login_required
@require_http_methods(["GET", "POST"])
def enter_answers(request: HttpRequest, pseudonym: str, name: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym, Permission.PATIENT_MANAGE)
    questionnaire = Questionnaire.objects.filter(program_id=patient.program_id, name=name, status="approved").first()
    if questionnaire is None:
        raise NotFound()
    definition = definition_of(questionnaire)
    language = (get_language() or "en").split("-")[0]
    patient_language = patient.locale.split("-")[0]
    if definition.in_repeating_group():
        # One instance per row of this form would lose the second medicine a patient names: such a
        # form is answered on the patient's page, or imported (services/response_imports.py).
        return render(request, "questionnaires/console/enter.html", {
            "patient": patient, "title": definition.title_in(language), "has_errors": True, "rows": [],
            "general": _("This form has groups answered more than once; the patient answers it on their page, "
                         "or its responses are imported.")})
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
            with shown_on_page() as refusal:
                save_response(actor=request.actor, patient=patient, questionnaire=questionnaire,
                              items=response_items(definition, answers), source="nurse",
                              complete=request.POST.get("finish") == "1", locale=patient.locale)
                done = request.POST.get("finish") == "1"
                messages.success(request, _("The answers are saved and scored.") if done else
                                 _("The answers are saved; the questionnaire stays open."))
                return redirect("tracking:profile", pseudonym=pseudonym) if done else redirect(request.path)
            if refusal.error and refusal.error.details:
                errors = refusal.by_field(rename=lambda field: field.removeprefix("item[").removesuffix("]"))
            general = refusal.message if refusal.error and not refusal.error.details else ""
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


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("FHIR Questionnaire (JSON file)"), required=False)
    text = forms.CharField(label=gettext_lazy("…or paste the JSON"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(_("The file is larger than 2 MB."))
            try:
                data["resource"] = upload.read().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc
        elif data.get("text", "").strip():
            data["resource"] = data["text"]
        else:
            raise forms.ValidationError(_("Choose a file or paste the JSON."))
        return data


MAX_UPLOAD = 2 * 1024 * 1024


@login_required
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None:
        raise NotFound()
    return render(request, "questionnaires/console/list.html", {
        "questionnaires": Questionnaire.objects.filter(program=scope.program).order_by("name", "-version"),
        "may_edit": request.actor.can(Permission.CONTENT_EDIT, scope.program.pk)})


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None or not request.actor.can(Permission.CONTENT_EDIT, scope.program.pk):
        raise NotFound()
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        with shown_on_page() as refusal:
            imported = import_questionnaire(actor=request.actor, program=scope.program,
                                            resource=form.cleaned_data["resource"])
            messages.success(request, _("Imported as a draft. Submit it for review when it is ready."))
            return redirect("questionnaires-console:detail", questionnaire_id=imported.pk)
        if refusal.error:
            problems = refusal.error.as_dict()["details"]
            form.add_error(None, refusal.message)
    return render(request, "questionnaires/console/import.html", {"form": form, "problems": problems},
                  status=400 if form.errors else 200)


@login_required
def detail(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    questionnaire = access_questionnaire(request.actor, questionnaire_id)
    return render(request, "questionnaires/console/detail.html", _detail_context(request, questionnaire))


def _detail_context(request: HttpRequest, questionnaire: Questionnaire, error: str = "") -> dict[str, Any]:
    parsed = definition_of(questionnaire)
    actor = request.actor
    return {
        "questionnaire": questionnaire, "items": list(parsed.walk()), "languages": sorted(parsed.languages()),
        "scales": questionnaire.scoring.get("scales", []), "error": error,
        "history": AuditEntry.objects.filter(subject_type="questionnaire", subject_id=str(questionnaire.pk))
        .order_by("seq"),
        "may_edit": actor.can(Permission.CONTENT_EDIT, questionnaire.program_id),
        "may_review": actor.can(Permission.CONTENT_REVIEW, questionnaire.program_id),
        "is_importer": actor.user_id is not None and actor.user_id == questionnaire.created_by_id}


@login_required
@require_http_methods(["POST"])
def review(request: HttpRequest, questionnaire_id: int, action: str) -> HttpResponse:
    questionnaire = access_questionnaire(request.actor, questionnaire_id)
    if action not in {"submit", "approve", "return", "retire"}:
        raise NotFound()
    with shown_on_page(hide=HIDDEN) as refusal:
        if action == "submit":
            submit_questionnaire(actor=request.actor, questionnaire=questionnaire)
        elif action == "approve":
            approve_questionnaire(actor=request.actor, questionnaire=questionnaire)
        elif action == "return":
            return_questionnaire(actor=request.actor, questionnaire=questionnaire,
                                 comment=request.POST.get("comment", ""))
        else:
            retire_questionnaire(actor=request.actor, questionnaire=questionnaire)
    if refusal:
        questionnaire.refresh_from_db()
        return render(request, "questionnaires/console/detail.html",
                      _detail_context(request, questionnaire, refusal.message), status=400)
    messages.success(request, _("Done."))
    return redirect("questionnaires-console:detail", questionnaire_id=questionnaire_id)
