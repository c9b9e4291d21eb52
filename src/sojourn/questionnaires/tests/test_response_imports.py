"""Answers collected elsewhere, imported as FHIR QuestionnaireResponses: matched by pseudonym, checked
against the form, scored again here (a stored total that differs is reported, ours kept), all or
nothing, and the same file twice is once."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.consent.errors import NotConsented
from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import SELF, enroll, me
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Role
from sojourn.people.tests.api import Api, assert_error
from sojourn.people.tests.factories import make_staff
from sojourn.questionnaires.answers import response_items
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.services.definitions import (
    approve_questionnaire,
    definition,
    import_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.services.response_imports import PSEUDONYM, SCORES, import_responses
from sojourn.questionnaires.tests.factories import approved_instrument
from sojourn.tracking.models import Event

IMPORTER = Actor.system("partner import")
SDC = Path(__file__).parent / "data" / "sdc"


@pytest.fixture
def patients(program, django_capture_on_commit_callbacks):
    """Twelve patients in three markets, enrolled and verified as on the portal."""
    made = []
    for n in range(12):
        country = ("DE", "GB", "US")[n % 3]
        with django_capture_on_commit_callbacks(execute=True):
            patient, _record = enroll(program, country, email=f"p{n}@example.org")
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        made.append(verify_patient(actor=SELF, patient=patient, code=code))
    return made


def phq9_response(questionnaire, patient, values: list[int], authored, **extra) -> dict:
    answers = {f"phq9-{n + 1}": [str(v)] for n, v in enumerate(values)}
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": f"{questionnaire.url}|{questionnaire.version}",
            "subject": {"identifier": {"system": PSEUDONYM, "value": patient.pseudonym}},
            "authored": authored.isoformat(), "item": response_items(definition(questionnaire), answers), **extra}


def bundle(*resources) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def stored_total(value) -> list[dict]:
    return [{"url": SCORES, "extension": [{"url": "scale", "valueString": "total"},
                                          {"url": "value", "valueDecimal": value}]}]


def test_a_bundle_from_a_partner_is_scored_here_reported_where_it_disagrees_and_imported_once(program, patients):
    phq9 = approved_instrument(program, "phq-9")
    rng = random.Random(37)
    authored = timezone.now().replace(microsecond=0) - timedelta(days=3)
    answered = {p.pk: [rng.choice([0, 0, 1, 2, 3]) for _ in range(8)] + [0] for p in patients}
    resources = [phq9_response(phq9, p, answered[p.pk], authored - timedelta(hours=n)) for n, p in
                 enumerate(patients)]
    # The partner's own total for the first patient is off by one: reported, not kept.
    resources[0]["extension"] = stored_total(sum(answered[patients[0].pk]) + 1)
    resources[1]["extension"] = stored_total(sum(answered[patients[1].pk]))
    result = import_responses(actor=IMPORTER, program=program, resource=json.dumps(bundle(*resources)))
    assert len(result.imported) == 12 and result.already == 0
    assert [m.as_dict() for m in result.mismatches] == [
        {"entry": "entry[0]", "what": "scale[total]", "stored": str(sum(answered[patients[0].pk]) + 1),
         "recomputed": str(sum(answered[patients[0].pk]))}]
    for patient in patients:
        response = QuestionnaireResponse.objects.get(patient=patient)
        total = next(s for s in response.scores if s["scale"] == "total")
        assert total["value"] == sum(answered[patient.pk])
        assert (response.source, response.status) == ("import", "completed")
        assert response.completed_at == authored - timedelta(hours=patients.index(patient))
        phq2 = sum(answered[patient.pk][:2])
        assert ("phq2_positive" in response.flags) == (phq2 >= 3)
        event = Event.objects.get(patient=patient, type="questionnaire.completed")
        assert event.data["scores"]["total"] == sum(answered[patient.pk]) and event.data["flags"] == response.flags
    again = import_responses(actor=IMPORTER, program=program, resource=bundle(*resources))
    assert (again.imported, again.already) == ([], 12)
    assert QuestionnaireResponse.objects.count() == 12


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "in-progress"}, "entry[1].status"),
    ({"subject": {"identifier": {"system": PSEUDONYM, "value": "nobody"}}}, "entry[1].subject"),
    ({"subject": {"reference": "Patient/123"}}, "entry[1].subject"),
    ({"questionnaire": "https://example.org/Questionnaire/unknown"}, "entry[1].questionnaire"),
    ({"authored": "2026-03-01"}, "entry[1].authored"),
    ({"authored": "2099-03-01T09:00:00+01:00"}, "entry[1].authored"),
    ({"item": [{"linkId": "phq9-1", "answer": [{"valueCoding": {"system": "urn:sojourn:answer", "code": "7"}}]}]},
     "entry[1].item[phq9-1]"),
    ({"resourceType": "Patient"}, "entry[1].resource"),
])
def test_one_bad_entry_and_nothing_is_imported_with_the_entry_and_field_named(program, patients, change, field):
    phq9 = approved_instrument(program, "phq-9")
    at = timezone.now() - timedelta(days=1)
    good = phq9_response(phq9, patients[0], [1] * 9, at)
    bad = {**phq9_response(phq9, patients[1], [1] * 9, at), **change}
    with pytest.raises(InvalidInput) as refused:
        import_responses(actor=IMPORTER, program=program, resource=bundle(good, bad))
    assert field in {refused.value.field, *(d.field for d in refused.value.details)}
    assert not QuestionnaireResponse.objects.exists()


def test_an_imported_phq9_with_thoughts_of_self_harm_puts_an_urgent_task_in_the_queue(program, patients):
    phq9 = approved_instrument(program, "phq-9")
    authored = timezone.now().replace(microsecond=0) - timedelta(hours=20)
    import_responses(actor=IMPORTER, program=program,
                     resource=phq9_response(phq9, patients[0], [0] * 8 + [2], authored))
    task = NurseTask.objects.get(patient=patients[0])
    assert task.urgent and task.due_at == authored  # already overdue: first in the queue


def test_answers_of_a_patient_who_no_longer_takes_part_are_refused(program, patients):
    phq9 = approved_instrument(program, "phq-9")
    withdraw_consent(actor=me(patients[1]), patient=patients[1], purposes=["program_participation"], via="portal")
    at = timezone.now() - timedelta(days=1)
    with pytest.raises(NotConsented):
        import_responses(actor=IMPORTER, program=program, resource=bundle(
            phq9_response(phq9, patients[0], [1] * 9, at), phq9_response(phq9, patients[1], [1] * 9, at)))
    assert not QuestionnaireResponse.objects.exists()


def test_a_calculated_total_the_sdc_form_carries_is_worked_out_again_and_a_wrong_one_reported(program, patients):
    """HL7's SDC PHQ-9 example: its total is a calculatedExpression over the answers' ordinals."""
    editor = Actor.system("importer")
    form = import_questionnaire(actor=editor, program=program,
                                resource=(SDC / "questionnaire-sdc-profile-example-PHQ9.json").read_text())
    submit_questionnaire(actor=editor, questionnaire=form)
    form = approve_questionnaire(actor=Actor.system("reviewer"), questionnaire=form)
    parsed = definition(form)
    total = next(i for i in parsed.walk() if i.calculated)
    questions = [i for i in parsed.questions() if i.type in {"choice", "open-choice"} and not i.calculated]
    answers = {i.link_id: [i.options[1].value] for i in questions}
    items = response_items(parsed, answers)
    worked_out = json.dumps(items)

    def with_total(node_items, value):
        """The other system's total, in the answer's own type (the IG's total is a quantity)."""
        for node in node_items:
            if node["linkId"] == total.link_id:
                (kind, given), = node["answer"][0].items()
                node["answer"] = [{kind: {**given, "value": value} if isinstance(given, dict) else value}]
            with_total(node.get("item", []), value)
        return node_items

    resource = {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": form.url,
                "subject": {"reference": f"Patient/{patients[0].pseudonym}"},
                "authored": (timezone.now() - timedelta(days=1)).isoformat(),
                "item": with_total(json.loads(worked_out), 99)}
    result = import_responses(actor=IMPORTER, program=program, resource=resource)
    assert [(m.what, m.stored) for m in result.mismatches] == [(f"item[{total.link_id}]", "99")]
    saved = QuestionnaireResponse.objects.get()
    assert "99" not in json.dumps(saved.items) and saved.items == json.loads(worked_out)
    assert Decimal(result.mismatches[0].recomputed) == sum(o.options[1].weight or 0 for o in questions)


def test_the_api_imports_a_bundle_and_refuses_a_bad_one_with_its_fields(client, cast, program, patients):
    phq9 = approved_instrument(program, "phq-9")
    nurse = Api(client, make_staff("nurse.all@sponsor.example", Role.NURSE, program, ("DE", "GB", "US")))
    at = timezone.now() - timedelta(days=2)
    good = bundle(*(phq9_response(phq9, p, [1] * 9, at) for p in patients[:3]))
    made = nurse.post("/programs/psoriasis/questionnaire-responses", {"resource": good})
    assert made.status_code == 201, made.content
    assert made.json() == {"imported": 3, "already": 0, "mismatches": [],
                           "responses": made.json()["responses"]} and len(made.json()["responses"]) == 3
    assert nurse.post("/programs/psoriasis/questionnaire-responses", {"resource": good}).json()["already"] == 3
    bad = bundle(phq9_response(phq9, patients[3], [1] * 9, at), {"resourceType": "QuestionnaireResponse"})
    body = assert_error(nurse.post("/programs/psoriasis/questionnaire-responses", {"resource": bad}), 422, "invalid")
    assert body["details"][0]["field"].startswith("entry[1]")
    only_de = Api(client, cast.nurse_gb)  # GB only: a DE patient in the file is refused
    assert only_de.post("/programs/psoriasis/questionnaire-responses",
                        {"resource": bundle(phq9_response(phq9, patients[0], [1] * 9, at))}).status_code == 403
    assert QuestionnaireResponse.objects.count() == 3


def test_the_cli_imports_a_file_reports_what_disagrees_and_names_each_problem(program, patients, tmp_path):
    phq9 = approved_instrument(program, "phq-9")
    at = timezone.now() - timedelta(days=1)
    path = tmp_path / "partner.json"
    path.write_text(json.dumps(bundle(phq9_response(phq9, patients[0], [1] * 9, at, extension=stored_total(10)),
                                      phq9_response(phq9, patients[1], [2] * 9, at))))
    call_command("questionnaire", "import-responses", "--program", program.slug, str(path), stdout=(out := StringIO()))
    assert "Imported 2 responses; 0 were imported before" in out.getvalue()
    assert "entry[0]: scale[total] was 10 in the file; Sojourn's is 9 and is kept." in out.getvalue()
    path.write_text(json.dumps(bundle(phq9_response(phq9, patients[2], [1] * 9, at, status="in-progress"))))
    with pytest.raises(CommandError) as caught:
        call_command("questionnaire", "import-responses", "--program", program.slug, str(path))
    assert "partner.json: entry[0].status: Only finished answers are imported" in str(caught.value)
    assert QuestionnaireResponse.objects.count() == 2
