"""Answering in the patient portal: one question per screen, saved as you go, resumable, in the
patient's language, then a review of the answers before they are sent."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.consent.portal import market_locale, patient_actor, signed_in_patient
from sojourn.core.errors import InvalidInput
from sojourn.core.views import shown_on_page
from sojourn.people.models import Patient
from sojourn.questionnaires.answers import Answers, enabled_items, initial_answers, read_answers, response_items
from sojourn.questionnaires.definition import Definition, Item, Quantity
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.scoring import band_label
from sojourn.questionnaires.services.definitions import definition as definition_of
from sojourn.questionnaires.services.responses import save_response
from sojourn.questionnaires.urgent_help import urgent_flags, urgent_help


def _patient(request: HttpRequest) -> tuple[Patient | None, str]:
    patient = signed_in_patient(request)
    if patient is None:
        return None, ""
    locale = market_locale(request, patient.market, preference=patient.locale)
    return patient, locale.split("-")[0]


def _current(patient: Patient, questionnaire: Questionnaire) -> QuestionnaireResponse | None:
    return QuestionnaireResponse.objects.filter(patient=patient, questionnaire=questionnaire,
                                                status="in-progress").first()


def _answers(definition: Definition, response: QuestionnaireResponse | None) -> Answers:
    if response is None:
        return {}
    answers, _problems = read_answers(definition, response.items)
    return answers


def _asked(definition: Definition, answers: Answers) -> list[Item]:
    """The questions the patient answers now: enabled, neither hidden, read-only nor calculated."""
    enabled = enabled_items(definition, answers)
    return [item for item in definition.questions() if item.link_id in enabled and item.asked]


def _notes(definition: Definition, item: Item, enabled: set[str], language: str) -> list[str]:
    """The display items shown with a question: those since the previous question, then its own."""
    pending: list[str] = []
    for other in definition.walk():
        if other is item:
            return [*pending, *(c.label(language) for c in item.items
                                if c.type == "display" and c.link_id in enabled and not c.hidden)]
        if other.type == "display" and other.link_id in enabled and not other.hidden:
            parent = definition.by_link_id().get(other.parent or "")
            if parent is None or parent.type == "group":
                pending.append(other.label(language))
        elif other.asked and other.link_id in enabled:
            pending = []
    return pending


def _initial(definition: Definition, item: Item, answers: Answers) -> list[Any]:
    if item.initial:
        return list(item.initial)
    try:
        return initial_answers(definition, answers).get(item.link_id, [])
    except InvalidInput:
        return []  # a pre-filled value is a convenience: the question is asked all the same


def _unit(item: Item, chosen: str) -> dict[str, str]:
    units = item.unit_options or ((item.unit,) if item.unit else ())
    return next((u for u in units if u.get("code") == chosen), units[0] if units else {})


def _entered(item: Item, text: str, unit: str) -> Any:
    """One value typed into the portal, as the item's answer; ValueError if it cannot be read."""
    if item.type == "dateTime":
        moment = datetime.fromisoformat(text)
        # The browser sends the patient's wall-clock time; FHIR wants it with its offset.
        return moment if moment.tzinfo else timezone.make_aware(moment)
    if item.type == "time":
        return time.fromisoformat(text)
    if item.type == "url":
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError as exc:
            raise ValueError(text) from exc
        return text
    units = _unit(item, unit)
    return Quantity(Decimal(text.replace(",", ".")), units.get("display", "") or units.get("code", ""),
                    units.get("system", ""), units.get("code", ""))


def prune(definition: Definition, answers: Answers) -> Answers:
    """Drop answers to questions that other answers have since switched off."""
    while True:
        enabled = enabled_items(definition, answers)
        kept = {k: v for k, v in answers.items() if k in enabled}
        if kept == answers:
            return kept
        answers = kept


def parse_answer(item: Item, entered: list[str], other: str = "", unit: str = "") -> tuple[list[Any], str]:
    """The values entered for one item (portal or nurse), or why they cannot be read."""
    raw = [v for v in entered if v.strip()]
    if item.type == "open-choice" and other.strip():
        raw.append(other.strip())
    values: list[Any] = []
    for text in raw:
        if item.type in {"choice", "open-choice"}:
            option = next((o for o in item.options if str(o.value) == text), None)
            if option is None and item.type == "choice":
                return [], _("Choose one of the answers.")
            values.append(option.value if option else text)
        elif item.type == "boolean":
            if text not in {"true", "false"}:
                return [], _("Choose yes or no.")
            values.append(text == "true")
        elif item.type == "integer":
            try:
                values.append(int(text))
            except ValueError:
                return [], _("Enter a whole number.")
        elif item.type == "decimal":
            try:
                values.append(Decimal(text.replace(",", ".")))
            except InvalidOperation:
                return [], _("Enter a number.")
        elif item.type == "date":
            try:
                values.append(date.fromisoformat(text))
            except ValueError:
                return [], _("Enter a date.")
        elif item.type in {"dateTime", "time", "url", "quantity"}:
            try:
                values.append(_entered(item, text, unit))
            except (ValueError, InvalidOperation):
                return [], {"dateTime": _("Enter a date and a time."), "time": _("Enter a time."),
                            "url": _("Enter a web address starting with https://."),
                            "quantity": _("Enter a number.")}[item.type]
        else:
            values.append(text)
    if item.required and not values:
        return [], _("Please answer this question.")
    return values, ""


def _approved(patient: Patient, name: str) -> Questionnaire | None:
    return Questionnaire.objects.filter(program_id=patient.program_id, name=name, status="approved").first()


def questionnaire_list(request: HttpRequest) -> HttpResponse:
    patient, language = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    rows = []
    for questionnaire in Questionnaire.objects.filter(program_id=patient.program_id, status="approved"):
        definition = definition_of(questionnaire)
        last = (QuestionnaireResponse.objects.filter(patient=patient, questionnaire__url=questionnaire.url,
                                                     status="completed").order_by("-completed_at").first())
        rows.append({"questionnaire": questionnaire, "title": definition.title_in(language),
                     "in_progress": _current(patient, questionnaire) is not None, "last": last})
    return render(request, "questionnaires/portal/list.html", {"patient": patient, "rows": rows})


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, name: str) -> HttpResponse:
    patient, language = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    questionnaire = _approved(patient, name)
    if questionnaire is None:
        return render(request, "consent/portal/gone.html", status=404)
    definition = definition_of(questionnaire)
    answers = _answers(definition, _current(patient, questionnaire))
    asked = _asked(definition, answers)
    wanted = request.POST.get("item") or request.GET.get("q")
    item = next((i for i in asked if i.link_id == wanted), None)
    if item is None and wanted:
        return redirect("questionnaires-portal:answer", name=name)
    if item is None:
        item = next((i for i in asked if i.link_id not in answers), None)
        if item is None:
            return redirect("questionnaires-portal:review", name=name)
    error = ""
    if request.method == "POST":
        values, error = parse_answer(item, request.POST.getlist("answer"), request.POST.get("other", ""),
                                     request.POST.get("unit", ""))
        if not error:
            updated = {k: v for k, v in answers.items() if k != item.link_id}
            if values:
                updated[item.link_id] = values
            updated = prune(definition, updated)
            with shown_on_page(hide=()) as refusal:
                save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                              items=response_items(definition, updated), source="portal", complete=False,
                              locale=patient.locale)
                ids = [i.link_id for i in _asked(definition, updated)]
                at = ids.index(item.link_id) if item.link_id in ids else len(ids)
                following = ids[at + 1] if at + 1 < len(ids) else None
                if request.GET.get("review") or following is None:
                    return redirect("questionnaires-portal:review", name=name)
                return redirect(reverse("questionnaires-portal:answer", args=[name]) + f"?q={following}")
            error = refusal.message
    position = [i.link_id for i in asked].index(item.link_id)
    intro = _notes(definition, item, enabled_items(definition, answers), language)
    current = answers.get(item.link_id) or _initial(definition, item, answers)
    first = current[0] if current else ""
    return render(request, "questionnaires/portal/question.html", {
        "patient": patient, "questionnaire": questionnaire, "title": definition.title_in(language), "item": item,
        "label": item.label(language), "intro": intro, "number": position + 1, "total": len(asked),
        "options": [(str(o.value), o.label(language)) for o in item.options],
        "chosen": {str(v) for v in current}, "current": first, "error": error,
        "shown_value": _form_value(item, first), "units": item.unit_options,
        "unit": (first.code if isinstance(first, Quantity) else "") or (item.unit or {}).get("display")
        or (item.unit or {}).get("code", ""),
        "previous": asked[position - 1].link_id if position > 0 else "", "review": request.GET.get("review")},
        status=400 if error else 200)


def _form_value(item: Item, value: Any) -> str:
    """A value as the HTML input of its type wants it."""
    if value in ("", None):
        return ""
    if isinstance(value, Quantity):
        return str(value.value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if item.type == "dateTime" else ""
    if isinstance(value, (date, time)):
        return value.isoformat() if item.type != "dateTime" else f"{value.isoformat()}T00:00"
    return str(value)


def _shown(item: Item, values: list[Any], language: str) -> str:
    shown = []
    for value in values:
        option = item.option(value) if item.options else None
        if option is not None:
            shown.append(option.label(language))
        elif isinstance(value, bool):
            shown.append(_("Yes") if value else _("No"))
        else:
            shown.append(str(value))
    return ", ".join(shown)


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, name: str) -> HttpResponse:
    patient, language = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    questionnaire = _approved(patient, name)
    if questionnaire is None:
        return render(request, "consent/portal/gone.html", status=404)
    definition = definition_of(questionnaire)
    answers = _answers(definition, _current(patient, questionnaire))
    asked = _asked(definition, answers)
    error = ""
    if request.method == "POST":
        with shown_on_page(hide=()) as refusal:
            response = save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                                     items=response_items(definition, answers), source="portal", complete=True,
                                     locale=patient.locale)
            return redirect("questionnaires-portal:done", name=name, response_id=response.pk)
        error = refusal.message
    # What the patient answered, and what the questionnaire worked out from it (never what it hides).
    enabled = enabled_items(definition, answers)
    rows = [{"item": i, "label": i.label(language), "shown": _shown(i, answers.get(i.link_id, []), language)}
            for i in definition.questions() if i.link_id in enabled and not i.hidden
            and (i.asked or answers.get(i.link_id))]
    return render(request, "questionnaires/portal/review.html", {
        "patient": patient, "title": definition.title_in(language), "rows": rows, "name": name, "error": error,
        "complete": all(i.link_id in answers for i in asked if i.required)}, status=400 if error else 200)


def done(request: HttpRequest, name: str, response_id: int) -> HttpResponse:
    patient, language = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    response = QuestionnaireResponse.objects.select_related("questionnaire").filter(
        pk=response_id, patient=patient, status="completed").first()
    if response is None:
        return render(request, "consent/portal/gone.html", status=404)
    scoring = response.questionnaire.scoring
    labels = {s["id"]: s.get("label", {}) for s in scoring.get("scales", [])}
    scores = [{"label": labels.get(s["scale"], {}).get(language) or labels.get(s["scale"], {}).get("en", s["scale"]),
               "value": s["value"], "band": band_label(scoring, s["scale"], s["band"], language)}
              for s in response.scores if s["value"] is not None]
    # The needs analysis feeds the program's tailoring; its raw per-need scores mean little to the patient.
    show_scores = not any("need" in s for s in scoring.get("scales", []))
    return render(request, "questionnaires/portal/done.html", {
        "patient": patient, "title": definition_of(response.questionnaire).title_in(language),
        "scores": scores if show_scores else [],
        "urgent": urgent_help(patient) if urgent_flags(response) else None})
