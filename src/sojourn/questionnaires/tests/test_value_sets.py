"""Value sets a program imports for its questionnaires' answerValueSet: imported alone or in a Bundle
with the Questionnaire (all or nothing), resolved after the contained ones, pinned to the questionnaire
version that used them, refused by field when they would need a terminology server."""

from __future__ import annotations

import copy
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.people.tests.api import Api, assert_error
from sojourn.people.tests.factories import make_staff
from sojourn.questionnaires.answers import check_response
from sojourn.questionnaires.models import Questionnaire, ValueSet
from sojourn.questionnaires.services import definitions
from sojourn.questionnaires.services.definitions import export_questionnaire, import_questionnaire
from sojourn.questionnaires.services.value_sets import import_value_set

EDITOR = Actor(kind="system", label="importer")
URL = "http://example.org/fhir/ValueSet/yes-no"
SDC = Path(__file__).parent / "data" / "sdc"


def value_set(version: str = "1", codes: tuple[str, ...] = ("y", "n"), **extra: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": URL, "version": version, "status": "active", "compose": {"include": [
        {"system": "http://example.org/cs", "concept": [{"code": c, "display": c.upper()} for c in codes]}]},
        **extra}


def form(reference: str = URL, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "status": "draft", "url": "http://example.org/fhir/Questionnaire/yn",
            "item": [{"linkId": "q", "text": "Yes?", "type": "choice", "answerValueSet": reference}], **extra}


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


def codes(questionnaire: Questionnaire) -> list[str]:
    definitions._definitions.clear()  # read it as a fresh process would, from the database
    return [o.value for o in definitions.definition(questionnaire).by_link_id()["q"].options]


def test_a_value_set_is_imported_once_and_audited(program):
    first = import_value_set(actor=EDITOR, program=program, resource=json.dumps(value_set()))
    again = import_value_set(actor=EDITOR, program=program, resource=value_set())
    assert first == again and ValueSet.objects.count() == 1 and first.version == "1"
    assert AuditEntry.objects.filter(action="value_set.imported", subject_id=str(first.pk)).count() == 1
    with pytest.raises(InvalidInput) as caught:
        import_value_set(actor=EDITOR, program=program, resource=value_set(codes=("y", "n", "maybe")))
    assert caught.value.field == "version" and URL in caught.value.message
    assert ValueSet.objects.count() == 1


@pytest.mark.parametrize(("include", "field"), [
    ({"system": "http://loinc.org", "filter": [{"property": "parent", "op": "is-a", "value": "x"}]},
     "compose.include[0].filter"),
    ({"system": "http://loinc.org"}, "compose.include[0].concept"),
    ({"valueSet": ["http://example.org/fhir/ValueSet/other"]}, "compose.include[0].valueSet"),
])
def test_a_value_set_needing_a_terminology_server_is_refused_by_field(program, include, field):
    with pytest.raises(InvalidInput) as caught:
        import_value_set(actor=EDITOR, program=program, resource={**value_set(), "compose": {"include": [include]}})
    assert field in {d["field"] for d in caught.value.as_dict()["details"]}
    assert not ValueSet.objects.exists()


def test_a_value_set_without_a_url_or_not_fhir_is_refused(program):
    no_url = value_set()
    del no_url["url"]
    with pytest.raises(InvalidInput) as caught:
        import_value_set(actor=EDITOR, program=program, resource=no_url)
    assert caught.value.field == "url"
    with pytest.raises(InvalidInput) as caught:
        import_value_set(actor=EDITOR, program=program, resource=value_set(date="yesterday"))
    assert caught.value.field == "date"


def test_a_questionnaire_resolves_imported_value_sets_by_url_and_version_and_keeps_them(program):
    import_value_set(actor=EDITOR, program=program, resource=value_set("1"))
    import_value_set(actor=EDITOR, program=program, resource=value_set("2", ("y", "n", "u")))
    latest = import_questionnaire(actor=EDITOR, program=program, resource=form())
    pinned = import_questionnaire(actor=EDITOR, program=program, resource=form(f"{URL}|1"))
    assert codes(latest) == ["y", "n", "u"] and codes(pinned) == ["y", "n"]
    # A newer version imported later does not change a questionnaire already imported.
    import_value_set(actor=EDITOR, program=program, resource=value_set("3", ("a",)))
    assert codes(latest) == ["y", "n", "u"]
    assert [str(v) for v in latest.value_sets.all()] == [f"{URL}|2"]
    assert export_questionnaire(latest)["item"] == form()["item"]  # exported as imported


def test_a_contained_value_set_comes_before_an_imported_one(program):
    import_value_set(actor=EDITOR, program=program, resource=value_set())
    contained = {**value_set(codes=("c",)), "id": "yn"}
    questionnaire = import_questionnaire(actor=EDITOR, program=program, resource=form(contained=[contained]))
    assert codes(questionnaire) == ["c"] and not questionnaire.value_sets.exists()


def test_an_unknown_value_set_is_refused_naming_it(program, cast):
    import_value_set(actor=EDITOR, program=cast.other_program, resource=value_set())  # another program's
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=form())
    assert caught.value.field == "item[q]"
    assert URL in caught.value.message and "import it into the program first" in caught.value.message
    with pytest.raises(InvalidInput):
        import_value_set(actor=EDITOR, program=program, resource=value_set())  # a version not imported here …
        import_questionnaire(actor=EDITOR, program=program, resource=form(f"{URL}|9"))  # … is refused too
    assert not Questionnaire.objects.exists()


def test_a_bundle_imports_the_questionnaire_and_its_value_sets_all_or_nothing(program):
    questionnaire = import_questionnaire(actor=EDITOR, program=program,
                                         resource=bundle(value_set(), form(), kind="transaction"))
    assert codes(questionnaire) == ["y", "n"] and ValueSet.objects.count() == 1
    broken = form()
    broken["item"].append({"linkId": "q", "type": "string"})  # the linkId used twice
    other = value_set("5", ("z",))
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=bundle(other, broken))
    assert caught.value.field == "entry[1].resource.item[q]"
    bad_value_set = {**other, "compose": {"include": [{"system": "http://loinc.org"}]}}
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=bundle(form(), bad_value_set))
    assert caught.value.field == "entry[1].resource.compose.include[0].concept"
    changed = value_set(codes=("y",))  # version 1 again, with other content
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=bundle(other, changed, form()))
    assert caught.value.field == "version"
    with pytest.raises(InvalidInput) as caught:
        import_questionnaire(actor=EDITOR, program=program, resource=bundle(value_set(), {"resourceType": "Patient"}))
    fields = {d["field"] for d in caught.value.as_dict()["details"]}
    assert {"entry[1].resource.resourceType", "entry"} <= fields
    assert ValueSet.objects.count() == 1 and Questionnaire.objects.count() == 1  # nothing half-imported


def test_a_bundle_value_set_is_the_latest_and_a_questionnaire_reads_the_same_when_read_again(program):
    import_value_set(actor=EDITOR, program=program, resource=value_set("1"))
    both = form()
    both["item"].append({"linkId": "old", "type": "choice", "answerValueSet": f"{URL}|1"})
    questionnaire = import_questionnaire(actor=EDITOR, program=program,
                                         resource=bundle(value_set("2", ("u",)), value_set("1"), both))
    assert codes(questionnaire) == ["u"]  # read again from the pinned rows: the bare URL is still version 2
    assert [o.value for o in definitions.definition(questionnaire).by_link_id()["old"].options] == ["y", "n"]
    assert sorted(str(v) for v in questionnaire.value_sets.all()) == [f"{URL}|1", f"{URL}|2"]


@pytest.fixture
def manager(client, cast):
    return Api(client, make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, cast.program))


def test_the_api_imports_and_lists_value_sets_and_takes_a_bundle(manager, client, cast):
    created = manager.post("/programs/psoriasis/value-sets", {"resource": value_set(title="Yes or no")})
    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0, "imported_at": ""} == {
        "id": 0, "url": URL, "version": "1", "title": "Yes or no", "codes": 2, "sha256": created.json()["sha256"],
        "imported_at": ""}
    assert [v["url"] for v in manager.get("/programs/psoriasis/value-sets").json()] == [URL]
    refused = assert_error(manager.post("/programs/psoriasis/value-sets", {"resource": {
        **value_set("2"), "compose": {"include": [{"system": "http://loinc.org"}]}}}), 422, "invalid")
    assert refused["details"][0]["field"] == "compose.include[0].concept"
    made = manager.post("/programs/psoriasis/questionnaires", {"resource": bundle(value_set("3", ("x",)), form())})
    assert made.status_code == 201, made.content
    assert_error(manager.get("/programs/eczema/value-sets"), 404, "not_found")
    nurse = Api(client, cast.nurse_gb)
    assert_error(nurse.post("/programs/psoriasis/value-sets", {"resource": value_set("4")}), 403, "forbidden")
    assert ValueSet.objects.count() == 2


def test_the_cli_imports_a_file_and_prints_each_problem_with_its_field(program, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(value_set(), form())))
    call_command("questionnaire", "import", "--program", program.slug, str(path), stdout=(out := StringIO()))
    assert "Imported yn v1" in out.getvalue() and f"{URL}|1" in out.getvalue()
    path.write_text(json.dumps(value_set("2", ("k",))))
    call_command("questionnaire", "import", "--program", program.slug, str(path), stdout=(out := StringIO()))
    assert f"{URL}|2" in out.getvalue()
    broken = bundle(value_set("3", ("q",)), form("http://example.org/fhir/ValueSet/missing"))
    path.write_text(json.dumps(broken))
    with pytest.raises(CommandError) as caught:
        call_command("questionnaire", "import", "--program", program.slug, str(path))
    assert "bundle.json: entry[1].resource.item[q]: The value set http://example.org/fhir/ValueSet/missing" in str(
        caught.value)
    with pytest.raises(CommandError, match="no program"):
        call_command("questionnaire", "import", "--program", "nope", str(path))
    assert ValueSet.objects.count() == 2 and Questionnaire.objects.count() == 1


@pytest.mark.parametrize(("name", "item"), [("questionnaire-sdc-test-required-field.json", "radio"),
                                            ("questionnaire-sdc-test-initial-value.json",
                                             "1acf93a7-0890-44cd-be48-542defb35248")])
def test_an_ig_example_naming_an_outside_value_set_imports_once_it_is_imported(program, name, item):
    """The SDC examples' value set lives on a test server, not in the IG: a stand-in with its URL."""
    original = json.loads((SDC / name).read_text())
    stand_in = {"resourceType": "ValueSet", "status": "active",
                "url": "http://sqlonfhir-r4.azurewebsites.net/fhir/ValueSet/a015b6a1ac024dc19baec940be2c1695",
                "expansion": {"timestamp": "2024-01-01", "contains": [
                    {"system": "http://snomed.info/sct", "code": c, "display": d}
                    for c, d in (("373066001", "Yes"), ("373067005", "No"), ("261665006", "Unknown"))]}}
    questionnaire = import_questionnaire(actor=EDITOR, program=program,
                                         resource=bundle(stand_in, copy.deepcopy(original)))
    exported = export_questionnaire(questionnaire)
    for key in ("version", "status", "url"):
        exported.pop(key)
        original.pop(key, None)
    assert exported == original
    definitions._definitions.clear()
    definition = definitions.definition(questionnaire)
    assert [o.label("en") for o in definition.by_link_id()[item].options] == ["Yes", "No", "Unknown"]
    answer = {"linkId": item, "answer": [{"valueCoding": {"system": "http://snomed.info/sct", "code": "373067005"}}]}
    parent = definition.by_link_id()[item].parent
    answered = check_response(definition, {"resourceType": "QuestionnaireResponse", "status": "in-progress",
                                           "item": [{"linkId": parent, "item": [answer]} if parent else answer]},
                              complete=False)
    assert answered == {item: ["373067005"]}
