"""The demo's first journey hypothesis, tested against what the simulator's patients answer: supported
in Japan, refuted in Germany. The patients are drawn by the simulator and answer the shipped needs
analysis as it makes them; their answers are scored by the questionnaire service's own scoring. (The
whole cohort simulation is tested in simulation/tests; here only the answers matter, for 120 patients.)"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from sojourn.core.models import Market
from sojourn.core.tests.factories import SYSTEM
from sojourn.demo.definition import demo_stages
from sojourn.demo.folder import PSORIASIS
from sojourn.demo.hypotheses import DEMO_HYPOTHESES, NEEDS_ANALYSIS
from sojourn.insights.services.hypotheses import propose_hypothesis
from sojourn.insights.verdicts import evaluate
from sojourn.people.tests.factories import make_patient
from sojourn.questionnaires.definition import definition_of
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.needs_analysis import needs_analysis
from sojourn.questionnaires.scoring import score
from sojourn.simulation import behaviour
from sojourn.simulation.cohort import draw_cohort
from sojourn.tracking.models import Event
from sojourn.tracking.services.taxonomy import define_stage

NOW = timezone.now()
_serial = count()


@pytest.mark.django_db
def test_the_demo_mood_hypothesis_is_supported_in_japan_and_refuted_in_germany(program):
    for position, (code, labels) in enumerate(demo_stages()):
        define_stage(actor=SYSTEM, program=program, code=code, labels=labels, position=position)
    resource = needs_analysis()
    definition = definition_of(resource)
    questionnaire = Questionnaire.objects.create(
        program=program, url=NEEDS_ANALYSIS, version=1, name="psoriasis-needs", title="Needs", status="approved",
        approved_at=NOW, resource=resource, scoring=definition.scoring, languages=["en"], sha256="0" * 64)
    scale_of = {link: s["id"] for s in definition.scoring["scales"] for link in s["items"]}
    instrument = behaviour.Instrument("psoriasis-needs", definition, scale_of)
    # The simulator's newly diagnosed patients of Germany and Japan, sixty of each.
    wanted: dict[str, int] = defaultdict(int)
    rng = random.Random(11)
    population = PSORIASIS.population
    needs = [need.code for need in PSORIASIS.definition.needs]
    for sim in draw_cohort(11, 1500, 180, defaultdict(list), population, needs):
        if sim.country not in ("DE", "JP") or population.personas[sim.persona].stage != "diagnosis" \
                or wanted[sim.country] >= 60:
            continue
        wanted[sim.country] += 1
        patient = make_patient(program, sim.country)
        at = NOW - timedelta(days=20)
        Event.objects.create(program=program, patient=patient, type="stage.changed", client_id=f"s{next(_serial)}",
                             occurred_at=at, received_at=at, source="simulation", data={"stage": "diagnosis"})
        answers = behaviour.answers_for(instrument, sim, sim.wellbeing, rng)
        QuestionnaireResponse.objects.create(
            questionnaire=questionnaire, patient=patient, status="completed", source="portal", locale="en",
            started_at=at + timedelta(hours=1), completed_at=at + timedelta(hours=1),
            scores=[s.as_dict() for s in score(definition, answers)])
    assert wanted == {"DE": 60, "JP": 60}

    mood = DEMO_HYPOTHESES[0]
    assert mood["metric"]["scale"] == "psychosocial"
    hypothesis = propose_hypothesis(actor=SYSTEM, program=program, **mood)
    result = evaluate(hypothesis, list(Market.objects.filter(program_markets__program=program)), NOW)
    verdicts = {m.country: m.verdict for m in result.markets}
    assert verdicts == {"DE": "refuted", "JP": "supported", "GB": "not_enough_data", "US": "not_enough_data",
                        "CA": "not_enough_data"}
    assert result.verdict_in("JP").estimate.value > 0.5 > result.verdict_in("DE").estimate.value


@pytest.mark.django_db
def test_the_demo_community_panel_is_imported_and_splits_the_markets(program):
    from sojourn.core.permissions import Role
    from sojourn.demo.surveys import import_demo_survey
    from sojourn.insights.models import Hypothesis, SurveyImport
    from sojourn.people.tests.factories import make_staff

    for position, (code, labels) in enumerate(demo_stages()):
        define_stage(actor=SYSTEM, program=program, code=code, labels=labels, position=position)
    analyst = make_staff("analyst@demo.example", Role.INSIGHTS_ANALYST, program)
    import_demo_survey(program, analyst.email)
    import_demo_survey(program, analyst.email)  # twice is once
    assert SurveyImport.objects.get().rows == 600
    hypothesis = Hypothesis.objects.get()
    result = evaluate(hypothesis, list(Market.objects.filter(program_markets__program=program)), NOW)
    verdicts = {m.country: m.verdict for m in result.markets}
    assert verdicts["JP"] == "supported" and verdicts["CA"] == "refuted"
