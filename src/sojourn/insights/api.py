"""API: the KPIs of each stage per market, as the console's dashboard draws them, journey hypotheses and
their verdicts per market (insights.view to read, in the reader's markets; journeys.edit to propose and
retire), and outside survey imports (insights.import). Aggregates only; figures resting on fewer than
five patients come back as null."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.consent.purposes import export_purposes
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import access_program, markets_for
from sojourn.core.replicas import analytics_reads
from sojourn.insights.kpis import KpiValue
from sojourn.insights.metrics import describe
from sojourn.insights.models import Hypothesis, SurveyImport
from sojourn.insights.queries import MarketKpis, facts_as_of
from sojourn.insights.services.facts import refresh_journey_facts
from sojourn.insights.services.hypotheses import propose_hypothesis, retire_hypothesis
from sojourn.insights.services.surveys import import_survey
from sojourn.insights.verdicts import SMALL_CELL, Evaluation, evaluate
from sojourn.tracking.models import Stage

router = Router(tags=["insights"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class KpiQuery(Schema):
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$",
                               description="A market's country code; without it, each of your markets")


class KpiOut(Schema):
    code: str
    label: str
    unit: Literal["share", "days", "points"] = Field(description="share: 0–1")
    value: float | None = Field(description="null when fewer than five patients are behind it, or none")
    patients: int | None = Field(description="The patients (or calls) behind the value; null when it is")
    target: float
    higher_is_better: bool
    status: Literal["green", "amber", "red", "none"]


class StageKpisOut(Schema):
    stage: str = Field(description="The stage's code (empty for a program without stages)")
    label: str
    kpis: list[KpiOut]


class MarketKpisOut(Schema):
    market: str
    stages: list[StageKpisOut]


class KpisOut(Schema):
    as_of: datetime | None = Field(description="When the journey facts behind the figures were brought up to date")
    markets: list[MarketKpisOut]


def _kpi(value: KpiValue) -> dict[str, Any]:
    """A KPI as the dashboard's CSV writes it: value and patients only where the value may be shown."""
    shown = value.shown
    return {"code": value.kpi.code, "label": str(value.kpi.label), "unit": value.kpi.unit, "value": shown,
            "patients": value.n if shown is not None else None, "target": value.kpi.target,
            "higher_is_better": value.kpi.higher_is_better, "status": value.status}


@router.get("/programs/{slug}/kpis", response=KpisOut, url_name="export_kpis",
            summary="The KPIs of each stage of the journey, per market, as the KPI dashboard shows them")
def program_kpis(request: HttpRequest, slug: str, query: Query[KpiQuery]) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug, Permission.INSIGHTS_VIEW)
    markets = list(markets_for(actor, program, Permission.INSIGHTS_VIEW))
    if query.market:
        if not Market.objects.filter(program_markets__program=program, country=query.market).exists():
            raise InvalidInput(_("The program does not run in %(market)s.") % {"market": query.market},
                               field="market")
        actor.require(Permission.INSIGHTS_VIEW, program.pk, query.market)
        markets = [m for m in markets if m.country == query.market]
    # As the dashboard does: whatever happened since the facts' last refresh is folded in first.
    refresh_journey_facts(program)
    language = (translation.get_language() or "en").split("-")[0]
    # Figures that leave the program count only patients who agreed to it (consent.purposes), as the
    # dashboard's CSV and PDF do.
    purposes = export_purposes("api-v1:export_kpis")
    with analytics_reads():
        names = {s.code: s.label(language) for s in Stage.objects.filter(program=program)}
        names.setdefault("", _("Whole program"))
        return {"as_of": facts_as_of(program), "markets": [
            {"market": market.country, "stages": [
                {"stage": code, "label": names[code], "kpis": [_kpi(v) for v in values]}
                for code, values in MarketKpis(program, market.country, purposes=purposes).by_stage().items()]}
            for market in markets]}


class HypothesisIn(Schema):
    stage: str = Field(max_length=60, description="Code of a stage of the program's journey")
    statement: str = Field(max_length=500)
    metric: dict[str, Any] = Field(description="See docs/hypotheses.md: answer_share, answer_mean, flag_share, "
                                               "event_share, fact_share or fact_mean with their fields")
    claim: Literal["at_least", "at_most", "higher", "lower"]
    threshold: float | None = Field(default=None, description="For at_least / at_most; a share as 0–1")
    smallest_difference: float | None = Field(default=None, description="Default 0.1 for a share")
    alpha: float = 0.05


class VerdictOut(Schema):
    market: str
    verdict: Literal["supported", "refuted", "inconclusive", "not_enough_data"]
    patients: int | None = Field(description="null when fewer than five")
    estimate: float | None
    low: float | None
    high: float | None
    other_markets: float | None
    p_value: float | None
    adjusted_p_value: float | None = Field(description="Holm-adjusted across every market of the program")
    patients_needed: int | None


class HypothesisOut(Schema):
    id: int
    stage: str
    statement: str
    metric: dict[str, Any]
    metric_described: str
    claim: str
    threshold: float | None
    smallest_difference: float
    alpha: float
    created_at: datetime
    retired_at: datetime | None
    method: str
    overall_p_value: float | None
    measured_at: datetime
    verdicts: list[VerdictOut]


class ListQuery(Schema):
    retired: bool = Field(default=False, description="Include retired hypotheses")


def _family(program: Program) -> list[Market]:
    return list(Market.objects.filter(program_markets__program=program).order_by("country"))


def _out(evaluation: Evaluation, visible: set[str]) -> dict[str, Any]:
    h = evaluation.hypothesis
    verdicts = []
    for m in evaluation.markets:
        if m.country not in visible:
            continue
        e, o = m.estimate, m.others
        verdicts.append({
            "market": m.country, "verdict": m.verdict, "patients": m.n if m.n == 0 or m.n >= SMALL_CELL else None,
            "estimate": e.value if e else None, "low": e.low if e else None, "high": e.high if e else None,
            "other_markets": o.value if o else None, "p_value": m.p_value, "adjusted_p_value": m.adjusted_p,
            "patients_needed": m.needed})
    return {"id": h.pk, "stage": h.stage.code, "statement": h.statement, "metric": h.metric,
            "metric_described": describe(evaluation.metric), "claim": h.claim, "threshold": h.threshold,
            "smallest_difference": h.smallest_difference, "alpha": h.alpha, "created_at": h.created_at,
            "retired_at": h.retired_at, "method": evaluation.method, "overall_p_value": evaluation.overall_p,
            "measured_at": evaluation.measured_at, "verdicts": verdicts}


def _visible(actor: Actor, program: Program) -> set[str]:
    return set(markets_for(actor, program, Permission.INSIGHTS_VIEW).values_list("country", flat=True))


@router.get("/programs/{slug}/hypotheses", response=list[HypothesisOut],
            summary="Journey hypotheses with their verdict in each of your markets")
def list_hypotheses(request: HttpRequest, slug: str, query: Query[ListQuery]) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug, Permission.INSIGHTS_VIEW)
    refresh_journey_facts(program)
    with analytics_reads():
        rows = Hypothesis.objects.filter(program=program).select_related("stage", "program")
        if not query.retired:
            rows = rows.filter(retired_at__isnull=True)
        family, visible = _family(program), _visible(actor, program)
        return [_out(evaluate(h, family), visible) for h in rows]


@router.post("/programs/{slug}/hypotheses", response={201: HypothesisOut},
             summary="Propose a hypothesis about a stage of the journey; it is tested at once")
def propose(request: HttpRequest, slug: str, payload: HypothesisIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug, Permission.INSIGHTS_VIEW)
    made = propose_hypothesis(actor=actor, program=program, **payload.dict())
    refresh_journey_facts(program)
    return Status(201, _out(evaluate(made, _family(program)), _visible(actor, program)))


def _hypothesis(actor: Actor, hypothesis_id: int) -> Hypothesis:
    found = Hypothesis.objects.select_related("stage", "program").filter(pk=hypothesis_id).first()
    if found is None or actor.markets_in(Permission.INSIGHTS_VIEW, found.program_id) == frozenset():
        raise NotFound()
    return found


@router.get("/hypotheses/{hypothesis_id}", response=HypothesisOut, summary="One hypothesis and its verdicts")
def read(request: HttpRequest, hypothesis_id: int) -> Any:
    actor = _actor(request)
    hypothesis = _hypothesis(actor, hypothesis_id)
    refresh_journey_facts(hypothesis.program)
    with analytics_reads():
        return _out(evaluate(hypothesis, _family(hypothesis.program)), _visible(actor, hypothesis.program))


@router.post("/hypotheses/{hypothesis_id}/retirement", response=HypothesisOut,
             summary="Retire a hypothesis (it stays, with its history)")
def retire(request: HttpRequest, hypothesis_id: int) -> Any:
    actor = _actor(request)
    hypothesis = retire_hypothesis(actor=actor, hypothesis=_hypothesis(actor, hypothesis_id))
    return _out(evaluate(hypothesis, _family(hypothesis.program)), _visible(actor, hypothesis.program))


class SurveyIn(Schema):
    source: str = Field(max_length=200, description="Who ran the survey")
    filename: str = Field(max_length=255, description="Ends in .csv or .xlsx")
    content: str = Field(description="The file, base64-encoded; the whole request may hold 2.5 MB (Django's "
                                     "limit), so larger files go through the console or `sojourn survey import`")
    mapping: dict[str, Any] = Field(description="The column mapping (docs/hypotheses.md)")


class SurveyOut(Schema):
    id: int
    source: str
    filename: str
    rows: int
    answers: int
    imported_at: datetime
    new: bool = Field(description="false: this file was imported before; nothing changed")


def _survey(made: SurveyImport, new: bool) -> dict[str, Any]:
    return {"id": made.pk, "source": made.source, "filename": made.filename, "rows": made.rows,
            "answers": made.answers, "imported_at": made.imported_at, "new": new}


@router.get("/programs/{slug}/surveys", response=list[SurveyOut], summary="Outside survey imports")
def list_surveys(request: HttpRequest, slug: str) -> Any:
    program = access_program(_actor(request), slug, Permission.INSIGHTS_IMPORT)
    return [_survey(s, False) for s in SurveyImport.objects.filter(program=program)]


@router.post("/programs/{slug}/surveys", response={201: SurveyOut, 200: SurveyOut},
             summary="Import an outside survey export: all or nothing, each problem with its row and column")
def import_surveys(request: HttpRequest, slug: str, payload: SurveyIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug, Permission.INSIGHTS_IMPORT)
    try:
        content = base64.b64decode(payload.content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("Send the file's content as base64."), field="content") from None
    made, new = import_survey(actor=actor, program=program, source=payload.source, filename=payload.filename,
                              content=content, mapping=payload.mapping)
    return Status(201 if new else 200, _survey(made, new))
