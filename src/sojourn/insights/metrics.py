"""What a journey hypothesis measures, per market, from the program's own pseudonymous data.

A metric is declared as a small JSON object and checked against the program when the hypothesis is
saved (an unknown questionnaire, scale, event type or fact is refused with the field at fault):

- `{"kind": "answer_share", "questionnaire": URL, "scale": ID, "op": ">=", "value": 2}`: of the patients
  who completed the questionnaire while in the hypothesis' stage, the share whose score on the scale
  meets the condition (their first such response counts).
- `{"kind": "answer_mean", "questionnaire": URL, "scale": ID}`: the same patients' scores.
- `{"kind": "flag_share", "questionnaire": URL, "flag": CODE}`: of the same patients, the share whose
  answers raised the instrument's clinical flag (`phq2_positive`, `gad7_positive`, …; questionnaires.scoring).
- `{"kind": "event_share", "event": TYPE, "within_days": N}`: of the patients who entered the stage at
  least N days ago, the share with such an event within N days of entering it.
- `{"kind": "fact_share", "fact": "active_at_30_days" | "top_need_served"}` and
  `{"kind": "fact_mean", "fact": "who5_change"}`: the KPIs' journey facts of the patients now in the
  stage (`insights.models.JourneyFacts`), with the KPIs' own windows.
- `{"kind": "survey_share", "question": CODE, "op": ">=", "value": 4}` and
  `{"kind": "survey_mean", "question": CODE}`: answers to an imported outside survey's question
  (`services.surveys`) given at the stage, one per respondent and import.

As in the KPIs, withdrawn patients count with what they did before withdrawing, and an erased
patient's pseudonymous record still counts (erasure destroys the identity, not the statistics).
Nothing here reads an identity.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.insights.models import JourneyFacts, SurveyAnswer
from sojourn.people.models import Patient
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.tracking.event_types import BUILTIN
from sojourn.tracking.models import Event, EventType, Stage

KINDS = ("answer_share", "answer_mean", "flag_share", "event_share", "fact_share", "fact_mean", "survey_share",
         "survey_mean")
SHARES = {"answer_share", "flag_share", "event_share", "fact_share", "survey_share"}
OPERATORS = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__, "==": float.__eq__}
SHARE_FACTS = ("active_at_30_days", "top_need_served")
MEAN_FACTS = ("who5_change",)
BATCH = 2000


@dataclass(frozen=True)
class Metric:
    kind: str
    questionnaire: str = ""
    scale: str = ""
    op: str = ""
    value: float | None = None
    event: str = ""
    within_days: int = 0
    fact: str = ""
    question: str = ""
    flag: str = ""

    @property
    def is_share(self) -> bool:
        return self.kind in SHARES

    def as_dict(self) -> dict[str, Any]:
        keys = {"answer_share": ("questionnaire", "scale", "op", "value"), "answer_mean": ("questionnaire", "scale"),
                "flag_share": ("questionnaire", "flag"),
                "event_share": ("event", "within_days"), "fact_share": ("fact",), "fact_mean": ("fact",),
                "survey_share": ("question", "op", "value"), "survey_mean": ("question",)}[self.kind]
        return {"kind": self.kind, **{k: getattr(self, k) for k in keys}}


@dataclass(frozen=True)
class Shares:
    successes: int
    n: int


@dataclass(frozen=True)
class Values:
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)


Sample = Shares | Values


def describe(metric: Metric) -> str:
    """The metric in words, for the pages and exports."""
    if metric.kind == "answer_share":
        return _("share of patients whose score on %(scale)s of %(q)s is %(op)s %(value)s (their first answer in "
                 "the stage)") % {"scale": metric.scale, "q": metric.questionnaire, "op": metric.op,
                                 "value": f"{metric.value:g}"}
    if metric.kind == "answer_mean":
        return _("patients' scores on %(scale)s of %(q)s (their first answer in the stage)") % {
            "scale": metric.scale, "q": metric.questionnaire}
    if metric.kind == "flag_share":
        return _("share of patients whose answers to %(q)s raise the flag %(flag)s (their first answer in the "
                 "stage)") % {"q": metric.questionnaire, "flag": metric.flag}
    if metric.kind == "event_share":
        return _("share of patients with %(event)s within %(days)d days of entering the stage") % {
            "event": metric.event, "days": metric.within_days}
    if metric.kind == "fact_share":
        return _("share of the patients now in the stage: %(fact)s") % {"fact": metric.fact}
    if metric.kind == "survey_share":
        return _("share of survey respondents at this stage whose answer to %(question)s is %(op)s %(value)s") % {
            "question": metric.question, "op": metric.op, "value": f"{metric.value:g}"}
    if metric.kind == "survey_mean":
        return _("survey respondents' answers to %(question)s at this stage") % {"question": metric.question}
    return _("the patients now in the stage: %(fact)s") % {"fact": metric.fact}


def parse_metric(program: Program, raw: Any) -> Metric:
    """The declared metric, checked against the program; every problem is reported with its field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(_("Describe the metric as an object with a kind."), field="metric")
    problems: list[ErrorDetail] = []

    def problem(name: str, message: str) -> None:
        problems.append(ErrorDetail(message, field=f"metric.{name}"))

    kind = raw.get("kind")
    if kind not in KINDS:
        raise InvalidInput(_("Choose the metric's kind among %(kinds)s.") % {"kinds": ", ".join(KINDS)},
                           field="metric.kind")
    expected = set(Metric(kind).as_dict())
    for name in sorted(set(raw) - expected - {"kind"}):
        problem(name, _("A %(kind)s metric has no field %(name)s.") % {"kind": kind, "name": name})
    fields: dict[str, Any] = {"kind": kind}
    if kind == "flag_share":
        url, flag = raw.get("questionnaire"), raw.get("flag")
        versions = list(Questionnaire.objects.filter(program=program, url=url).values_list("scoring", flat=True)) \
            if isinstance(url, str) else []
        if not versions:
            problem("questionnaire", _("The program has no questionnaire with this URL."))
        elif not any(flag == f.get("code") for scoring in versions for f in (scoring or {}).get("flags", [])):
            problem("flag", _("The questionnaire raises no flag %(flag)s.") % {"flag": flag})
        fields.update(questionnaire=url, flag=flag)
    elif kind.startswith("answer_"):
        url, scale = raw.get("questionnaire"), raw.get("scale")
        versions = list(Questionnaire.objects.filter(program=program, url=url).values_list("scoring", flat=True)) \
            if isinstance(url, str) else []
        if not versions:
            problem("questionnaire", _("The program has no questionnaire with this URL."))
        elif not any(scale == s.get("id") for scoring in versions for s in (scoring or {}).get("scales", [])):
            problem("scale", _("The questionnaire has no scale %(scale)s.") % {"scale": scale})
        fields.update(questionnaire=url, scale=scale)
        if kind == "answer_share":
            fields.update(_condition(raw, problem))
    elif kind.startswith("survey_"):
        question = raw.get("question")
        asked = isinstance(question, str) and SurveyAnswer.objects.filter(program=program, question=question).exists()
        if not asked:
            problem("question", _("No imported survey of the program has a question %(question)s.") % {
                "question": question})
        fields.update(question=question)
        if kind == "survey_share":
            fields.update(_condition(raw, problem))
    elif kind == "event_share":
        event, days = raw.get("event"), raw.get("within_days")
        known = event in BUILTIN or EventType.objects.filter(program=program, code=event).exists() \
            if isinstance(event, str) else False
        if not known:
            problem("event", _("There is no event type %(event)s in this program.") % {"event": event})
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            problem("within_days", _("Give a whole number of days from 1 to 365."))
        fields.update(event=event, within_days=days)
    else:
        allowed = SHARE_FACTS if kind == "fact_share" else MEAN_FACTS
        if raw.get("fact") not in allowed:
            problem("fact", _("Choose the fact among %(facts)s.") % {"facts": ", ".join(allowed)})
        fields.update(fact=raw.get("fact"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return Metric(**fields)


def _condition(raw: Mapping[str, Any], problem: Any) -> dict[str, Any]:
    op, value = raw.get("op"), raw.get("value")
    if not isinstance(op, str) or op not in OPERATORS:
        problem("op", _("Compare with one of %(ops)s.") % {"ops": " ".join(OPERATORS)})
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem("value", _("Give the score to compare with as a number."))
    return {"op": op, "value": float(value) if isinstance(value, int | float) else None}


def measure(metric: Metric, program: Program, stage: Stage, now: datetime) -> dict[str, Sample]:
    """The metric's sample in every market of the program that has patients behind it."""
    if metric.kind.startswith("answer_") or metric.kind == "flag_share":
        return _answers(metric, program, stage)
    if metric.kind == "event_share":
        return _events(metric, program, stage, now)
    if metric.kind.startswith("survey_"):
        return _surveys(metric, program, stage)
    return _facts(metric, program, stage, now)


def _markets(program: Program) -> dict[int, str]:
    """Patient → market."""
    return dict(Patient.objects.filter(program=program).values_list("pk", "market__country"))


def _stage_history(program: Program) -> dict[int, tuple[list[datetime], list[str]]]:
    """Each patient's stage changes in time order, to tell the stage at any moment."""
    changes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for patient_id, occurred_at, data in Event.objects.filter(program=program, type="stage.changed") \
            .values_list("patient_id", "occurred_at", "data"):
        changes[patient_id].append((occurred_at, data.get("stage", "")))
    history = {}
    for patient_id, rows in changes.items():
        rows.sort()
        history[patient_id] = ([at for at, _ in rows], [code for _, code in rows])
    return history


def _stage_at(history: tuple[list[datetime], list[str]] | None, moment: datetime) -> str:
    if history is None:
        return ""
    times, codes = history
    i = bisect.bisect_right(times, moment)
    return codes[i - 1] if i else ""


def _answers(metric: Metric, program: Program, stage: Stage) -> dict[str, Sample]:
    market_of = _markets(program)
    history = _stage_history(program)
    first: dict[int, tuple[datetime, float]] = {}
    for patient_id, completed_at, scores, flags in QuestionnaireResponse.objects.filter(
            questionnaire__program=program, questionnaire__url=metric.questionnaire,
            status=QuestionnaireResponse.Status.COMPLETED).values_list("patient_id", "completed_at", "scores", "flags"):
        if patient_id not in market_of or _stage_at(history.get(patient_id), completed_at) != stage.code:
            continue
        if metric.kind == "flag_share":
            value: float | None = 1.0 if metric.flag in flags else 0.0
        else:
            value = next((s.get("value") for s in scores if s.get("scale") == metric.scale), None)
        if value is None:  # the scale could not be scored (too many items missing)
            continue
        if patient_id not in first or completed_at < first[patient_id][0]:
            first[patient_id] = (completed_at, float(value))
    by_market: dict[str, list[float]] = defaultdict(list)
    for patient_id, (_at, value) in first.items():
        by_market[market_of[patient_id]].append(value)
    if metric.kind == "answer_mean":
        return {country: Values(tuple(values)) for country, values in by_market.items()}
    if metric.kind == "flag_share":
        return {country: Shares(sum(1 for v in values if v), len(values)) for country, values in by_market.items()}
    test = OPERATORS[metric.op]
    return {country: Shares(sum(1 for v in values if test(v, metric.value)), len(values))
            for country, values in by_market.items()}


def _events(metric: Metric, program: Program, stage: Stage, now: datetime) -> dict[str, Sample]:
    market_of = _markets(program)
    window = timedelta(days=metric.within_days)
    entered: dict[int, datetime] = {}
    for patient_id, occurred_at, data in Event.objects.filter(program=program, type="stage.changed") \
            .values_list("patient_id", "occurred_at", "data"):
        if data.get("stage") == stage.code and patient_id in market_of \
                and (patient_id not in entered or occurred_at < entered[patient_id]):
            entered[patient_id] = occurred_at
    population = {p: at for p, at in entered.items() if at + window <= now}
    reached: set[int] = set()
    ids = sorted(population)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        for patient_id, occurred_at in Event.objects.filter(program=program, type=metric.event,
                                                            patient_id__in=chunk) \
                .values_list("patient_id", "occurred_at"):
            if population[patient_id] <= occurred_at <= population[patient_id] + window:
                reached.add(patient_id)
    return _shares((market_of[p], p in reached) for p in population)


def _facts(metric: Metric, program: Program, stage: Stage, now: datetime) -> dict[str, Sample]:
    rows = JourneyFacts.objects.filter(program=program, stage=stage)
    if metric.fact == "active_at_30_days":
        rows = rows.filter(confirmed_at__lte=now - timedelta(days=30))
    elif metric.fact == "top_need_served":
        rows = rows.filter(needs_done_at__lte=now - timedelta(days=14))
    else:
        rows = rows.filter(**{f"{metric.fact}__isnull": False})
    pairs = rows.values_list("market__country", metric.fact)
    if metric.kind == "fact_share":
        return _shares((country, bool(value)) for country, value in pairs)
    values: dict[str, list[float]] = defaultdict(list)
    for country, value in pairs:
        values[country].append(float(value))
    return {country: Values(tuple(v)) for country, v in values.items()}


def _surveys(metric: Metric, program: Program, stage: Stage) -> dict[str, Sample]:
    """Imported survey answers given at this stage: one value per respondent and import."""
    values: dict[str, list[float]] = defaultdict(list)
    for country, value in SurveyAnswer.objects.filter(program=program, question=metric.question, stage=stage.code) \
            .values_list("market__country", "value"):
        values[country].append(value)
    if metric.kind == "survey_mean":
        return {country: Values(tuple(v)) for country, v in values.items()}
    test = OPERATORS[metric.op]
    return {country: Shares(sum(1 for v in vs if test(v, metric.value)), len(vs)) for country, vs in values.items()}


def _shares(outcomes: Iterable[tuple[str, bool]]) -> dict[str, Sample]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for country, success in outcomes:
        counts[country][0] += int(success)
        counts[country][1] += 1
    return {country: Shares(s, n) for country, (s, n) in counts.items()}
