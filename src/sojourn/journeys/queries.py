"""Reads shared by the journey pages and the API: the atlas with its filters, a journey's current map
with the KPIs and verdicts of its stages, and how many enrolled patients resemble each persona."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from sojourn.core.models import Market, Program
from sojourn.insights.kpis import MIN_CELL
from sojourn.insights.models import Hypothesis
from sojourn.insights.verdicts import Evaluation, evaluate
from sojourn.journeys.models import Journey, JourneyVersion, Persona
from sojourn.tracking.models import PatientProfile


def atlas(program: Program, *, market: str = "", persona: str = "", status: str = "",
          kind: str = "") -> QuerySet[Journey]:
    """The program's journeys, filtered; a journey for every market matches any market."""
    rows = Journey.objects.filter(program=program).select_related("persona").prefetch_related(
        "links_out__target", "links_in__source", "versions")
    if market:
        # JSON containment differs between SQLite and PostgreSQL; the list is short, so filter here.
        keep = [j.pk for j in rows if not j.markets or market in j.markets]
        rows = rows.filter(pk__in=keep)
    if persona:
        rows = rows.filter(persona__code=persona)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    return rows


def current_version(journey: Journey) -> JourneyVersion | None:
    return journey.versions.order_by("-number").first()


def stage_evidence(program: Program, stage_codes: set[str]) -> dict[str, list[Evaluation]]:
    """Live hypotheses of the given program stages, each evaluated over every market."""
    family = list(Market.objects.filter(program_markets__program=program).order_by("country"))
    out: dict[str, list[Evaluation]] = defaultdict(list)
    for hypothesis in Hypothesis.objects.filter(program=program, retired_at__isnull=True,
                                                stage__code__in=stage_codes).select_related("stage", "program"):
        out[hypothesis.stage.code].append(evaluate(hypothesis, family))
    return out


@dataclass(frozen=True)
class Resemblance:
    persona: Persona
    total: int | None  # None when under five
    by_market: dict[str, int | None]


def resemblance(program: Program, countries: list[str]) -> tuple[list[Resemblance], int]:
    """How many enrolled patients with a needs profile are closest to each patient persona (by the
    distance between their need scores and the persona's; needs a persona does not state count at
    the cohort's mean). Returns the rows and the number of patients profiled. Counts under five are
    None."""
    personas = [p for p in Persona.objects.filter(program=program, kind="patient") if p.needs]
    profiles = list(PatientProfile.objects.filter(patient__program=program, patient__market__country__in=countries)
                    .filter(~Q(needs={})).values_list("patient__market__country", "needs"))
    if not personas or not profiles:
        return [Resemblance(p, 0, dict.fromkeys(countries, 0)) for p in personas], len(profiles)
    dimensions = sorted({need for p in personas for need in p.needs})
    mean = {d: sum(float(n.get(d, 0)) for _c, n in profiles) / len(profiles) for d in dimensions}
    vectors = {p.pk: [float(p.needs.get(d, mean[d])) for d in dimensions] for p in personas}
    counts: dict[int, dict[str, int]] = {p.pk: defaultdict(int) for p in personas}
    for country, needs in profiles:
        point = [float(needs.get(d, mean[d])) for d in dimensions]
        nearest = min(personas, key=lambda p: math.dist(point, vectors[p.pk]))
        counts[nearest.pk][country] += 1
    rows = []
    for p in personas:
        total = sum(counts[p.pk].values())
        rows.append(Resemblance(p, _cell(total), {c: _cell(counts[p.pk].get(c, 0)) for c in countries}))
    return rows, len(profiles)


def _cell(n: int) -> int | None:
    return n if n == 0 or n >= MIN_CELL else None


def journey_export(journey: Journey) -> dict[str, Any]:
    """A whole journey as JSON: its persona, every version with its evidence, and its links."""
    persona = journey.persona
    return {
        "code": journey.code, "title": journey.title, "kind": journey.kind, "status": journey.status,
        "markets": journey.markets, "program": journey.program.slug,
        "persona": None if persona is None else {
            "code": persona.code, "kind": persona.kind, "name": persona.name, "summary": persona.summary,
            "goals": persona.goals, "needs": persona.needs, "frustrations": persona.frustrations,
            "health_literacy": persona.health_literacy, "support": persona.support,
            "digital_habits": persona.digital_habits},
        "versions": [{"number": v.number, "basis": v.basis, "note": v.note, "created_at": v.created_at.isoformat(),
                      "evidence": [{"id": h.pk, "statement": h.statement} for h in v.evidence.all()],
                      "map": v.map} for v in journey.versions.order_by("number").prefetch_related("evidence")],
        "links": [{"relation": link.relation, "journey": link.target.code} for link in journey.links_out.all()]
        + [{"relation": link.relation, "journey": link.source.code, "inbound": True}
           for link in journey.links_in.all()],
    }
