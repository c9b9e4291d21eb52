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
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.consent.portal import market_locale, patient_actor, signed_in_patient
from sojourn.core.errors import InvalidInput
from sojourn.core.views import shown_on_page
from sojourn.people.models import Patient
from sojourn.questionnaires.answers import (
    INSTANCE,
    Answers,
    answer_keys,
    enabled_items,
    initial_answers,
    instance_count,
    instance_of,
    link_of,
    read_answers,
    remove_instance,
    response_items,
)
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


def _asked(definition: Definition, answers: Answers, adding: str = "") -> list[tuple[str, Item]]:
    """The questions the patient answers now, by answer key: enabled, neither hidden, read-only nor
    calculated; each repeating group with at least one instance, and the one being added."""
    enabled = enabled_items(definition, answers, adding=adding, one_each=True)
    keys = answer_keys(definition, answers, adding=adding, one_each=True)
    return [(key, item) for key, (item, _parent) in keys.items()
            if key in enabled and item.asked and item.type not in {"group", "display"}]


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


def _initial(definition: Definition, key: str, item: Item, answers: Answers) -> list[Any]:
    if item.initial:
        return list(item.initial)
    try:
        return initial_answers(definition, answers).get(key, [])
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
    if request.GET.get("more"):
        return _more(request, name, definition, answers, request.GET["more"], language)
    wanted = request.POST.get("item") or request.GET.get("q") or ""
    asked = _asked(definition, answers, adding=wanted)
    keys = [key for key, _item in asked]
    if wanted and wanted not in keys:
        return redirect("questionnaires-portal:answer", name=name)
    key = wanted or next((k for k in keys if k not in answers), "")
    if not key:
        return redirect("questionnaires-portal:review", name=name)
    item = dict(asked)[key]
    error = ""
    if request.method == "POST":
        values, error = parse_answer(item, request.POST.getlist("answer"), request.POST.get("other", ""),
                                     request.POST.get("unit", ""))
        if not error:
            updated = {k: v for k, v in answers.items() if k != key}
            if values:
                updated[key] = values
            updated = prune(definition, updated)
            with shown_on_page(hide=()) as refusal:
                save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                              items=response_items(definition, updated), source="portal", complete=False,
                              locale=patient.locale)
                return redirect(_after(name, definition, updated, key, bool(request.GET.get("review"))))
            error = refusal.message
    position = keys.index(key)
    current = answers.get(key) or _initial(definition, key, item, answers)
    first = current[0] if current else ""
    return render(request, "questionnaires/portal/question.html", {
        "patient": patient, "questionnaire": questionnaire, "title": definition.title_in(language), "item": item,
        "key": key, "label": item.label(language), "intro": _intro(definition, key, item, answers, language),
        "instance": _instance_label(definition, key, language), "number": position + 1, "total": len(keys),
        "options": [(str(o.value), o.label(language)) for o in item.options],
        "chosen": {str(v) for v in current}, "current": first, "error": error,
        "shown_value": _form_value(item, first), "units": item.unit_options,
        "unit": (first.code if isinstance(first, Quantity) else "") or (item.unit or {}).get("display")
        or (item.unit or {}).get("code", ""),
        "previous": keys[position - 1] if position > 0 else "", "review": request.GET.get("review")},
        status=400 if error else 200)


def _intro(definition: Definition, key: str, item: Item, answers: Answers, language: str) -> list[str]:
    """The display items shown before the question with this answer key."""
    enabled = {link_of(k) for k in enabled_items(definition, answers, adding=key, one_each=True)}
    return _notes(definition, item, enabled, language)


def _group_key(instance: str) -> str:
    """The repeating group an instance prefix belongs to ("visit[0]/drug[2]/" → "visit[0]/drug")."""
    return instance[:-len(INSTANCE)].rpartition("[")[0]


def _instance_label(definition: Definition, key: str, language: str) -> str:
    """"Medication 2" for a question in the second instance of the group, "" outside repeating groups."""
    instance = instance_of(key)
    if not instance:
        return ""
    group = definition.by_link_id()[link_of(_group_key(instance))]
    number = int(instance[:-len(INSTANCE)].rpartition("[")[2]) + 1
    return _("%(group)s %(n)s") % {"group": group.label(language) or _("Entry"), "n": number}


def _after(name: str, definition: Definition, answers: Answers, key: str, reviewing: bool) -> str:
    """Where the portal goes once a question is answered: the next question, the offer to add another
    instance after a group instance's last question, or the review."""
    review = reverse("questionnaires-portal:review", args=[name])
    if reviewing:
        return review
    keys = [k for k, _item in _asked(definition, answers, adding=key)]
    at = keys.index(key) if key in keys else len(keys)
    following = keys[at + 1] if at + 1 < len(keys) else None
    instance = instance_of(key)
    if instance and not (following or "").startswith(instance):
        return reverse("questionnaires-portal:answer", args=[name]) + "?" + urlencode({"more": instance})
    if following is None:
        return review
    return reverse("questionnaires-portal:answer", args=[name]) + "?" + urlencode({"q": following})


def _more(request: HttpRequest, name: str, definition: Definition, answers: Answers, instance: str,
          language: str) -> HttpResponse:
    """After a group instance: offer another instance (while the group takes more) or carry on."""
    patient, _language = _patient(request)
    group_key = _group_key(instance) if instance.endswith(INSTANCE) else ""
    group = definition.by_link_id().get(link_of(group_key))
    if group is None or not group.repeating_group:
        return redirect("questionnaires-portal:answer", name=name)
    count = instance_count(answers, group_key)
    adding = f"{group_key}[{count}{INSTANCE}"
    keys = [k for k, _item in _asked(definition, answers, adding=adding)]
    first_new = next((k for k in keys if k.startswith(adding)), None)
    inside = [n for n, k in enumerate(keys) if k.startswith(f"{group_key}[")]
    following = next((k for k in keys[inside[-1] + 1:] if not k.startswith(adding)), None) if inside else None
    address = reverse("questionnaires-portal:answer", args=[name])
    outer = instance_of(group_key)
    if outer and not (following or "").startswith(outer):
        following = None  # the last question of the outer instance: offer another of it next
    can_add = first_new is not None and (group.max_occurs is None or count < group.max_occurs)
    return render(request, "questionnaires/portal/more.html", {
        "patient": patient, "title": definition.title_in(language), "group": group.label(language),
        "count": count, "add": f"{address}?{urlencode({'q': first_new})}" if can_add else "",
        "carry_on": f"{address}?{urlencode({'q': following})}" if following
        else f"{address}?{urlencode({'more': outer})}" if outer
        else reverse("questionnaires-portal:review", args=[name])})


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
        removing = request.POST.get("remove", "")
        with shown_on_page(hide=()) as refusal:
            if removing:
                # Take one instance of a repeating group out; the answers so far stay in progress.
                if removing in {instance_of(key) for key in answers}:
                    kept = prune(definition, remove_instance(answers, removing))
                    save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                                  items=response_items(definition, kept), source="portal", complete=False,
                                  locale=patient.locale)
                return redirect("questionnaires-portal:review", name=name)
            response = save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                                     items=response_items(definition, answers), source="portal", complete=True,
                                     locale=patient.locale)
            return redirect("questionnaires-portal:done", name=name, response_id=response.pk)
        error = refusal.message
    # What the patient answered, and what the questionnaire worked out from it (never what it hides), each
    # instance of a repeating group under its heading, with a button to remove it.
    enabled = enabled_items(definition, answers)
    rows: list[dict[str, Any]] = []
    for key, (item, _parent) in answer_keys(definition, answers).items():
        if key not in enabled or item.hidden or item.type in {"group", "display"}:
            continue
        if item.asked or answers.get(key):
            instance = instance_of(key)
            if instance and not any(row.get("remove") == instance for row in rows):
                rows.append({"heading": _instance_label(definition, key, language), "remove": instance})
            rows.append({"item": item, "key": key, "label": item.label(language),
                         "shown": _shown(item, answers.get(key, []), language)})
    return render(request, "questionnaires/portal/review.html", {
        "patient": patient, "title": definition.title_in(language), "rows": rows, "name": name, "error": error,
        "complete": all(k in answers for k, i in asked if i.required)}, status=400 if error else 200)


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
