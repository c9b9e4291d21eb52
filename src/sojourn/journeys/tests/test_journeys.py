"""Journey maps and personas: templates, versions written once with the evidence that changed them, a
diff that says what changed, precise errors with their path, who may write, and personas placed
among the enrolled patients by their needs."""

from __future__ import annotations

import pytest

from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM, actor_with
from sojourn.insights.services.hypotheses import propose_hypothesis
from sojourn.journeys.documents import TEMPLATES, diff
from sojourn.journeys.queries import atlas, journey_export, resemblance
from sojourn.journeys.services import create_journey, link_journeys, save_journey_version, save_persona
from sojourn.people.tests.factories import make_patient
from sojourn.tracking.models import PatientProfile


def test_the_templates_are_valid_maps_with_every_lane():
    from sojourn.journeys.documents import read_map

    parsed = {kind: read_map(document, {s.get("program_stage") for s in document["stages"]} - {None})
              for kind, document in TEMPLATES.items()}
    assert set(parsed) == {"patient", "caregiver", "hcp"}
    # The patient template shows every lane of a service blueprint.
    assert {t.lane for s in parsed["patient"].stages for t in s.touchpoints} == {"patient", "front", "back", "support"}


@pytest.mark.django_db
def test_a_journey_starts_from_its_template_and_revisions_are_new_versions(journey_world):
    program = journey_world
    journey = create_journey(actor=SYSTEM, program=program, code="patient", title="Living with it", kind="patient")
    first = journey.versions.get()
    assert (first.number, first.basis) == (1, "hypothesis")
    # The template's stages link to the program's stages where the program has them ("switching" it lacks).
    links = {s["code"]: s["program_stage"] for s in first.map["stages"]}
    assert links == {"diagnosis": "diagnosis", "treatment_initiation": "treatment_initiation",
                     "daily_management": "daily_management", "switching": None}

    hypothesis = propose_hypothesis(actor=SYSTEM, program=program, stage="diagnosis", statement="Mood weighs.",
                                    metric={"kind": "fact_share", "fact": "active_at_30_days"}, claim="higher")
    revised = {"stages": [dict(s) for s in first.map["stages"]]}
    revised["stages"][0] = {**revised["stages"][0], "emotion": -1, "name": "Diagnosis and shock",
                            "pain_points": ["Mood weighs heavily"]}
    revised["stages"].pop(3)
    second = save_journey_version(actor=SYSTEM, journey=journey, document=revised, basis="evidence",
                                  note="Japan's patients said so.", evidence=[hypothesis.pk])
    assert second.number == 2 and list(second.evidence.all()) == [hypothesis]
    first.refresh_from_db()
    assert first.map["stages"][0]["name"] == "Diagnosis"  # history never changes

    changes = {c.code: c for c in diff(first.map, second.map)}
    assert changes["switching"].kind == "removed"
    said = changes["diagnosis"].changes
    assert "renamed from “Diagnosis”" in said and "emotion -2 → -1" in said
    assert "pain point added: Mood weighs heavily" in said
    assert "pain point removed: Shock and worry about a lifelong condition" in said
    assert set(changes) == {"switching", "diagnosis"}

    exported = journey_export(journey)
    assert [v["number"] for v in exported["versions"]] == [1, 2]
    assert exported["versions"][1]["evidence"] == [{"id": hypothesis.pk, "statement": "Mood weighs."}]
    assert AuditEntry.objects.filter(action="journey.version_saved").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("document", "field"), [
    ({"stages": []}, "map.stages"),
    ({"stages": [{"code": "a", "name": "A", "touchpoints": [{"name": "x", "lane": "backstage"}]}]},
     "map.stages.0.touchpoints.0.lane"),
    ({"stages": [{"code": "a", "name": "A", "emotion": 5}]}, "map.stages.0.emotion"),
    ({"stages": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}]}, "map"),
    ({"stages": [{"code": "a", "name": "A", "program_stage": "remission"}]}, "map.stages.0.program_stage"),
    ({"stages": [{"code": "A b", "name": "A"}]}, "map.stages.0.code"),
    ({"stages": [{"code": "a", "name": "A", "colour": "red"}]}, "map.stages.0.colour"),
    ({"stages": [{"code": "a", "name": "A", "pain_points": [""]}]}, "map.stages.0.pain_points"),
    ("stages: a", "map"),
])
def test_a_bad_map_is_refused_with_the_path_and_saves_nothing(journey_world, document, field):
    journey = create_journey(actor=SYSTEM, program=journey_world, code="j", title="J", kind="patient")
    with pytest.raises(InvalidInput) as refused:
        save_journey_version(actor=SYSTEM, journey=journey, document=document, basis="hypothesis")
    assert field in [d.field for d in refused.value.details]
    assert journey.versions.count() == 1


@pytest.mark.django_db
def test_an_evidence_based_revision_says_why_and_cites_verdicts(journey_world):
    journey = create_journey(actor=SYSTEM, program=journey_world, code="j", title="J", kind="hcp")
    with pytest.raises(InvalidInput) as refused:
        save_journey_version(actor=SYSTEM, journey=journey, document=TEMPLATES["hcp"], basis="evidence")
    assert {d.field for d in refused.value.details} == {"note", "evidence"}


@pytest.mark.django_db
def test_who_may_write_journeys(journey_world):
    nurse = actor_with(Role.NURSE, journey_world, ("DE",))
    with pytest.raises(AccessDenied):
        create_journey(actor=nurse, program=journey_world, code="j", title="J", kind="patient")
    agency = actor_with(Role.AGENCY_USER, journey_world)
    made = create_journey(actor=agency, program=journey_world, code="j", title="J", kind="patient",
                          markets=["JP", "DE"])
    assert made.markets == ["DE", "JP"]
    with pytest.raises(InvalidInput) as refused:
        create_journey(actor=agency, program=journey_world, code="j", title="Again", kind="patient", markets=["FR"])
    assert {d.field for d in refused.value.details} == {"code", "markets"}


@pytest.mark.django_db
def test_the_atlas_filters_and_links(journey_world):
    nora = save_persona(actor=SYSTEM, program=journey_world, code="nora", kind="patient", name="Nora")
    patient = create_journey(actor=SYSTEM, program=journey_world, code="p", title="P", kind="patient", persona=nora,
                             markets=["JP"])
    carer = create_journey(actor=SYSTEM, program=journey_world, code="c", title="C", kind="caregiver")
    link_journeys(actor=SYSTEM, source=patient, target=carer, relation="cared for by")
    assert [j.code for j in atlas(journey_world, market="DE")] == ["c"]  # the JP journey is not DE's
    assert {j.code for j in atlas(journey_world, market="JP")} == {"c", "p"}
    assert [j.code for j in atlas(journey_world, persona="nora")] == ["p"]
    assert [j.code for j in atlas(journey_world, kind="caregiver")] == ["c"]
    with pytest.raises(InvalidInput):
        link_journeys(actor=SYSTEM, source=patient, target=patient, relation="itself")


@pytest.mark.django_db
def test_persona_needs_are_checked_and_place_patients_by_resemblance(journey_world):
    with pytest.raises(InvalidInput) as refused:
        save_persona(actor=SYSTEM, program=journey_world, code="x", kind="patient", name="X",
                     needs={"itch": 1.5, "flying": 0.5})
    assert {d.field for d in refused.value.details} == {"needs.itch", "needs.flying"}
    save_persona(actor=SYSTEM, program=journey_world, code="itchy", kind="patient", name="Itchy",
                 needs={"itch": 0.9, "psychosocial": 0.2})
    save_persona(actor=SYSTEM, program=journey_world, code="low", kind="patient", name="Low mood",
                 needs={"itch": 0.2, "psychosocial": 0.9})
    # Seven itchy patients in Germany, three low-mood ones in Japan (a cell under five), one without needs.
    for country, needs in [("DE", {"itch": 0.8, "psychosocial": 0.3})] * 7 + [
            ("JP", {"itch": 0.3, "psychosocial": 0.7})] * 3 + [("DE", {})]:
        patient = make_patient(journey_world, country)
        PatientProfile.objects.update_or_create(patient=patient, defaults={"needs": needs,
                                                                         "updated_at": patient.created_at})
    rows, profiled = resemblance(journey_world, ["DE", "JP"])
    by = {r.persona.code: r for r in rows}
    assert profiled == 10
    assert (by["itchy"].total, by["itchy"].by_market) == (7, {"DE": 7, "JP": 0})
    assert (by["low"].total, by["low"].by_market) == (None, {"DE": 0, "JP": None})
