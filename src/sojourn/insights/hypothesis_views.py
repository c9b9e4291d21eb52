"""Journey hypotheses in the console: every hypothesis of the program with its verdict per market and a
forest plot, one hypothesis in detail, a form to propose one and a button to retire it.

Reading needs insights.view (aggregates only, the reader's markets; the markets are tested as one
family whoever reads); proposing and retiring need journeys.edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sojourn.core.errors import NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.core.replicas import analytics_reads
from sojourn.core.views import shown_on_page
from sojourn.insights.forest import present
from sojourn.insights.metrics import KINDS, MEAN_FACTS, OPERATORS, SHARE_FACTS, describe
from sojourn.insights.models import Hypothesis, SurveyAnswer, SurveyImport
from sojourn.insights.services.facts import refresh_journey_facts
from sojourn.insights.services.hypotheses import propose_hypothesis, retire_hypothesis
from sojourn.insights.verdicts import evaluate
from sojourn.people.console import console_scope
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.scoring import flag_label
from sojourn.tracking.event_types import BUILTIN
from sojourn.tracking.models import EventType, Stage

FORM_FIELDS = ("stage", "statement", "claim", "threshold", "smallest_difference", "alpha", "kind", "questionnaire",
               "scale", "op", "value", "event", "within_days", "fact", "question", "flag")

KIND_LABELS = {
    "answer_share": gettext_lazy("Share of patients whose questionnaire score meets a condition"),
    "answer_mean": gettext_lazy("Mean questionnaire score"),
    "flag_share": gettext_lazy("Share of patients whose answers raise a clinical flag"),
    "event_share": gettext_lazy("Share of patients with an event within days of entering the stage"),
    "fact_share": gettext_lazy("Share of patients in the stage (journey facts)"),
    "fact_mean": gettext_lazy("Mean of a journey fact of the patients in the stage"),
    "survey_share": gettext_lazy("Share of outside survey respondents whose answer meets a condition"),
    "survey_mean": gettext_lazy("Mean answer of outside survey respondents"),
}

FACT_LABELS = {
    "active_at_30_days": gettext_lazy("still active 30 days after entering the stage"),
    "top_need_served": gettext_lazy("their strongest need served with content within 14 days"),
    "who5_change": gettext_lazy("change in WHO-5 well-being since the stage began"),
}


def _survey_questions(program: Program) -> list[tuple[str, str]]:
    """Each survey question's code with the question as the survey asked it (its mapped column)."""
    asked: dict[str, str] = {}
    for survey in SurveyImport.objects.filter(program=program).order_by("-imported_at"):
        for question in (survey.mapping or {}).get("questions", []):
            asked.setdefault(question.get("code", ""), question.get("column", ""))
    codes = sorted(set(SurveyAnswer.objects.filter(program=program).values_list("question", flat=True)))
    return [(code, asked.get(code) or code) for code in codes]


def _scope(request: HttpRequest) -> tuple[Program, list[Market], list[Market]] | None:
    """The program, every market it runs in (the test family) and those the reader may see."""
    program = console_scope(request).program
    if program is None:
        return None
    visible = list(markets_for(request.actor, program, Permission.INSIGHTS_VIEW))  # type: ignore[attr-defined]
    if not visible:
        return None
    return program, list(Market.objects.filter(program_markets__program=program).order_by("country")), visible


def _may_edit(request: HttpRequest, program: Program) -> bool:
    return request.actor.can(Permission.JOURNEYS_EDIT, program.pk)  # type: ignore[attr-defined]


def _stage_names(program: Program) -> dict[int, str]:
    language = (translation.get_language() or "en").split("-")[0]
    return {s.pk: s.label(language) for s in Stage.objects.filter(program=program)}


@login_required
def hypotheses(request: HttpRequest) -> HttpResponse:
    found = _scope(request)
    if found is None:
        raise NotFound()
    program, family, visible = found
    refresh_journey_facts(program)  # the fact metrics read the KPIs' facts
    with analytics_reads():
        names = _stage_names(program)
        shown = {m.country for m in visible}
        cards = []
        for hypothesis in Hypothesis.objects.filter(program=program, retired_at__isnull=True).select_related("stage"):
            evaluation = evaluate(hypothesis, family)
            cards.append({"hypothesis": hypothesis, "stage": names[hypothesis.stage_id],
                          "method": evaluation.method, "plot": present(evaluation, shown)})
        return render(request, "insights/hypotheses.html", {
            "program": program, "cards": cards, "may_edit": _may_edit(request, program),
            "may_import": request.actor.can(Permission.INSIGHTS_IMPORT, program.pk),  # type: ignore[attr-defined]
            "retired": Hypothesis.objects.filter(program=program, retired_at__isnull=False).count()})


@login_required
def hypothesis(request: HttpRequest, pk: int) -> HttpResponse:
    found = _scope(request)
    if found is None:
        raise NotFound()
    program, family, visible = found
    item = Hypothesis.objects.filter(program=program, pk=pk).select_related("stage").first()
    if item is None:
        raise NotFound()
    if request.method == "POST":
        with shown_on_page(request=request):
            retire_hypothesis(actor=request.actor, hypothesis=item)  # type: ignore[attr-defined]
            messages.success(request, _("The hypothesis is retired; its history stays."))
        return redirect("insights-console:hypotheses")
    refresh_journey_facts(program)
    with analytics_reads():
        evaluation = evaluate(item, family)
        return render(request, "insights/hypothesis.html", {
            "program": program, "hypothesis": item, "stage": _stage_names(program)[item.stage_id],
            "evaluation": evaluation, "plot": present(evaluation, {m.country for m in visible}),
            "metric": describe(evaluation.metric),
            "may_edit": _may_edit(request, program)})


@login_required
def propose(request: HttpRequest) -> HttpResponse:
    found = _scope(request)
    if found is None or not _may_edit(request, found[0]):
        raise NotFound()
    program = found[0]
    values: dict[str, str] = {name: request.POST.get(name, "").strip() for name in FORM_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        with shown_on_page() as refusal:
            made = propose_hypothesis(
                actor=request.actor, program=program, stage=values["stage"],  # type: ignore[attr-defined]
                statement=values["statement"], metric=_metric(values), claim=values["claim"],
                threshold=_number(values["threshold"]), smallest_difference=_number(values["smallest_difference"]),
                alpha=_number(values["alpha"]) if values["alpha"] else 0.05)
            messages.success(request, _("The hypothesis is recorded and tested."))
            return redirect("insights-console:hypothesis", pk=made.pk)
        errors = refusal.by_field(default="statement", rename=lambda field: field.removeprefix("metric."))
    return render(request, "insights/propose.html", {
        "program": program, "values": values, "errors": errors, "choices": _choices(program)},
        status=400 if errors else 200)


def _metric(values: dict[str, str]) -> dict[str, Any]:
    """The metric object from the form's fields: only those of the chosen kind."""
    kind = values["kind"]
    if kind == "flag_share":
        return {"kind": kind, "questionnaire": values["questionnaire"], "flag": values["flag"]}
    if kind.startswith("answer_"):
        metric: dict[str, Any] = {"kind": kind, "questionnaire": values["questionnaire"], "scale": values["scale"]}
        if kind == "answer_share":
            metric.update(op=values["op"], value=_number(values["value"]))
        return metric
    if kind.startswith("survey_"):
        metric = {"kind": kind, "question": values["question"]}
        if kind == "survey_share":
            metric.update(op=values["op"], value=_number(values["value"]))
        return metric
    if kind == "event_share":
        days = _number(values["within_days"])
        return {"kind": kind, "event": values["event"],
                "within_days": int(days) if days is not None and days == int(days) else values["within_days"]}
    return {"kind": kind, "fact": values["fact"]}


def _number(text: str) -> float | None:
    """A number as typed, with a decimal comma too; None when blank or not a number (the service
    then says which field)."""
    try:
        return float(text.replace(",", ".")) if text else None
    except ValueError:
        return None


def _choices(program: Program) -> dict[str, Any]:
    language = (translation.get_language() or "en").split("-")[0]
    questionnaires, flags = {}, {}
    for q in Questionnaire.objects.filter(program=program).order_by("url", "-version"):
        questionnaires.setdefault(q.url, (q.title, [s["id"] for s in (q.scoring or {}).get("scales", [])]))
        for flag in (q.scoring or {}).get("flags", []):
            flags.setdefault(flag["code"], flag_label(q.scoring, flag["code"], language))
    return {
        "stages": [(s.code, s.label(language)) for s in Stage.objects.filter(program=program)],
        "claims": Hypothesis.Claim.choices, "kinds": [(k, KIND_LABELS[k]) for k in KINDS], "operators": list(OPERATORS),
        "questionnaires": [(url, title, scales) for url, (title, scales) in questionnaires.items()],
        "events": sorted({*BUILTIN, *EventType.objects.filter(program=program).values_list("code", flat=True)}),
        "facts": [(code, FACT_LABELS.get(code, code)) for code in (*SHARE_FACTS, *MEAN_FACTS)],
        "questions": _survey_questions(program),
        "flags": sorted(flags.items()),
    }
