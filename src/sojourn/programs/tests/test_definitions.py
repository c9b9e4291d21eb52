"""A program defined by a file: refused with the line and field at fault, compared in words, reviewed
by a second person, applied all at once, and never removing what the program holds."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry, Market, Product, Program
from sojourn.core.permissions import Role
from sojourn.core.review import AuthorMayNotApprove
from sojourn.demo.definition import DEFINITION
from sojourn.insights.queries import MarketKpis
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.programs import services
from sojourn.programs.definition import read_definition_text
from sojourn.programs.models import DefinitionVersion
from sojourn.questionnaires.models import Questionnaire
from sojourn.tracking.models import EventType, Need, NeedMapping, Stage

SYSTEM = Actor.system("test")


def demo_text() -> str:
    return DEFINITION.read_text(encoding="utf-8")


def changed(text: str, change) -> str:
    document = yaml.safe_load(text)
    change(document)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def test_every_problem_of_a_broken_file_is_named_with_its_line_and_field():
    text = demo_text().replace("slug: psoriasis-companion", "slug: Psoriasis Companion", 1)
    text = text.replace("- code: sleep\n", "- code: itch\n", 1)
    text = text.replace("  time_in_stage:\n", "  time_in_stagee:\n", 1)
    text += "colour: blue\n"
    reading = read_definition_text(text, "psoriasis.yaml")
    assert not reading.ok
    found = {(p.field, p.line) for p in reading.problems}
    lines = text.splitlines()
    assert ("program.slug", lines.index("  slug: Psoriasis Companion") + 1) in found
    assert ("colour", len(lines)) in found
    assert all(str(p).startswith("psoriasis.yaml:") for p in reading.problems)
    # The types first: the codes and KPIs are checked once the file has the right shape.
    fixed = text.replace("slug: Psoriasis Companion", "slug: psoriasis-companion").replace("colour: blue\n", "")
    problems = {p.field: p for p in read_definition_text(fixed, "psoriasis.yaml").problems}
    assert "defined twice" in problems["needs[1].code"].message
    assert "no KPI is called time_in_stagee" in problems["kpis.time_in_stagee"].message
    twice = [n for n, line in enumerate(fixed.splitlines(), 1) if line == "- code: itch"]
    assert problems["needs[1].code"].line == twice[1]
    # A KPI measured across the journey is placed at one of the program's stages; one measured at
    # every stage is not placed.
    placing = demo_text() + "  who5_change:\n    placed_at: remission\n  weekly_active:\n    placed_at: diagnosis\n"
    problems = {p.field: p.message for p in read_definition_text(placing, "psoriasis.yaml").problems}
    assert problems == {"kpis.who5_change.placed_at": "remission is not one of the program's stages",
                        "kpis.weekly_active.placed_at": "this KPI is measured at every stage: it is not placed at one"}


@pytest.mark.django_db
def test_the_command_line_validates_diffs_applies_and_exports(tmp_path, capsys):
    path = tmp_path / "psoriasis.yaml"
    path.write_text(demo_text(), encoding="utf-8")
    call_command("program", "validate", str(path))
    assert "ok (psoriasis-companion" in capsys.readouterr().out
    call_command("program", "diff", str(path))
    assert "+ program.slug: psoriasis-companion" in capsys.readouterr().out
    call_command("program", "apply", str(path))
    program = Program.objects.get(slug="psoriasis-companion")
    assert sorted(program.program_markets.values_list("market__country", flat=True)) == ["CA", "DE", "GB", "JP", "US"]
    assert list(Stage.objects.filter(program=program).order_by("position").values_list("code", flat=True)) == [
        "diagnosis", "treatment_initiation", "daily_management", "switching"]
    assert Need.objects.filter(program=program).count() == 11 and not NeedMapping.objects.exists()
    assert set(EventType.objects.filter(program=program).values_list("code", flat=True)) == {
        "medication.refilled", "treatment.switched"}
    assert Product.objects.get(program=program).atc == "L04AC10"
    capsys.readouterr()
    call_command("program", "diff", str(path))
    assert capsys.readouterr().out.strip() == "no change"
    # A change in words, and a removal refused with what is at stake.
    path.write_text(changed(demo_text(), lambda d: (
        d["stages"][0]["labels"].update(fr="Le diagnostic"), d.setdefault("stages", []).append(
            {"code": "remission", "labels": {"en": "Remission"}}),
        d.setdefault("kpis", {}).update(nurse_sla={"target": 0.95}))), encoding="utf-8")
    call_command("program", "diff", str(path))
    out = capsys.readouterr().out
    assert "~ stages.diagnosis.labels.fr: Diagnostic → Le diagnostic" in out
    assert "+ stages.remission: {labels: {en: Remission}}" in out and "+ kpis.nurse_sla.target: 0.95" in out
    path.write_text(changed(demo_text(), lambda d: d["needs"].pop()), encoding="utf-8")
    with pytest.raises(CommandError, match="missing here"):
        call_command("program", "apply", str(path))
    assert Need.objects.filter(program=program).count() == 11
    exported = StringIO()
    call_command("program", "export", "psoriasis-companion", stdout=exported)
    assert exported.getvalue() == demo_text()
    with pytest.raises(CommandError, match="no program"):
        call_command("program", "export", "nothing")


@pytest.mark.django_db
def test_a_definition_is_drafted_reviewed_by_a_second_person_and_applied_on_approval(cast):
    program = cast.program
    manager = make_staff("pm@sponsor.example", Role.PROGRAM_MANAGER, program)
    second = make_staff("pm2@sponsor.example", Role.PROGRAM_MANAGER, program)
    text = services.export_yaml(program)
    stage = {"code": "diagnosis", "labels": {"en": "Diagnosis", "de": "Diagnose"}}
    nurse_sla = {"target": 0.5, "markets": {"DE": {"target": 0.99}}}
    text = changed(text, lambda d: (d.setdefault("stages", []).append(stage),
                                    d.setdefault("kpis", {}).update(nurse_sla=nurse_sla)))
    with pytest.raises(AccessDenied):
        services.save_draft(actor=actor_for_user(cast.nurse_de), program=program, text=text)
    draft = services.save_draft(actor=actor_for_user(manager), program=program, text=text)
    submitted = services.submit(actor=actor_for_user(manager), version=draft)
    with pytest.raises(AuthorMayNotApprove):
        services.approve(actor=actor_for_user(manager), version=submitted)
    assert not Stage.objects.filter(program=program).exists()  # nothing before approval
    approved = services.approve(actor=actor_for_user(second), version=submitted)
    assert approved.status == "approved" and approved.reviewer_id == second.pk
    assert Stage.objects.get(program=program).labels["de"] == "Diagnose"
    program.refresh_from_db()
    # The KPI is judged against the definition's targets: the market's over the program's.
    assert MarketKpis(program, "DE").nurse_sla().kpi.target == 0.99
    assert MarketKpis(program, "GB").nurse_sla().kpi.target == 0.5
    actions = set(AuditEntry.objects.filter(subject_type="program_definition").values_list("action", flat=True))
    assert {"program_definition.draft_saved", "program_definition.submitted", "program_definition.approved"} <= actions
    # A second version retires the first.
    again = services.submit(actor=actor_for_user(second), version=services.save_draft(
        actor=actor_for_user(second), program=program, text=text.replace("Diagnose", "Diagnosestellung")))
    services.approve(actor=actor_for_user(manager), version=again)
    assert list(DefinitionVersion.objects.filter(program=program).order_by("number")
                .values_list("status", flat=True)) == ["retired", "approved"]


@pytest.mark.django_db
def test_a_scale_is_mapped_when_its_questionnaire_is_approved_and_a_missing_scale_is_named(cast):
    from sojourn.demo.instruments import approve_instruments

    program = cast.program
    make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, program)
    make_staff("reviewer@sponsor.example", Role.CONTENT_REVIEWER, program)
    text = changed(services.export_yaml(program), lambda d: (
        d.setdefault("stages", []).append({"code": "diagnosis", "labels": {"en": "Diagnosis"}}),
        d.setdefault("needs", []).extend([{"code": "itch", "labels": {"en": "Itch"}, "measured_by": [
            {"questionnaire": "urn:sojourn:questionnaire:psoriasis-needs", "scale": "itch"}]}])))
    services.apply_definition(actor=SYSTEM, text=text)
    assert not NeedMapping.objects.exists()
    approve_instruments(program, "manager@sponsor.example", "reviewer@sponsor.example",
                        measuring={"urn:sojourn:questionnaire:psoriasis-needs"})
    mapping = NeedMapping.objects.get()
    assert (mapping.need.code, mapping.scale) == ("itch", "itch")
    # Declaring a scale the approved instrument lacks is refused with the path at fault.
    broken = text.replace("scale: itch", "scale: itchiness")
    with pytest.raises(InvalidInput) as exc:
        services.apply_definition(actor=SYSTEM, text=broken)
    assert exc.value.field == "needs[0].measured_by[0].scale"
    assert NeedMapping.objects.get().scale == "itch"  # nothing half-way


@pytest.mark.django_db
def test_a_market_without_a_shipped_pack_another_sponsor_and_people_applying_are_refused(cast):
    text = services.export_yaml(cast.program)
    with pytest.raises(AccessDenied):
        services.apply_definition(actor=actor_for_user(cast.admin), text=text)
    with pytest.raises(InvalidInput) as exc:
        services.apply_definition(actor=SYSTEM, text=changed(text, lambda d: d.setdefault("markets", []).append("FR")))
    assert exc.value.field == "markets[5]" and "sojourn market activate" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        services.apply_definition(actor=SYSTEM, text=changed(text, lambda d: d["sponsor"].update(slug="other")))
    assert exc.value.field == "sponsor.slug"
    assert not Market.objects.filter(country="FR").exists()
    assert not Questionnaire.objects.exists()


@pytest.mark.django_db
def test_the_api_exports_checks_drafts_and_moves_a_definition_through_review(client, cast):
    from sojourn.people.tests.api import Api

    program = cast.program
    author = Api(client, make_staff("pm@sponsor.example", Role.PROGRAM_MANAGER, program))
    reviewer = Api(client, make_staff("pm2@sponsor.example", Role.PROGRAM_MANAGER, program))
    exported = author.get("/programs/psoriasis/definition").json()
    assert exported["version"] is None and "slug: psoriasis" in exported["text"]
    text = changed(exported["text"], lambda d: d.setdefault("stages", []).append(
        {"code": "diagnosis", "labels": {"en": "Diagnosis"}}))
    bad = author.post("/programs/psoriasis/definition/check", {"text": text.replace("code: diagnosis", "code: X")})
    assert bad.json()["ok"] is False and bad.json()["problems"][0]["field"] == "stages[0].code"
    assert bad.json()["problems"][0]["line"] == text.splitlines().index("- code: diagnosis") + 1
    good = author.post("/programs/psoriasis/definition/check", {"text": text}).json()
    assert good == {"ok": True, "problems": [], "changes": ["+ stages.diagnosis: {labels: {en: Diagnosis}}"]}
    refused = author.post("/programs/psoriasis/definitions", {"text": "definition_format: 2\n"})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["line"] == 1
    draft = author.post("/programs/psoriasis/definitions", {"text": text})
    assert draft.status_code == 201 and draft.json()["state"] == "draft"
    version = draft.json()["id"]
    assert author.post(f"/program-definitions/{version}/submission").json()["state"] == "in_review"
    assert author.post(f"/program-definitions/{version}/approval").status_code == 403  # four eyes
    assert reviewer.post(f"/program-definitions/{version}/approval").json()["state"] == "approved"
    assert Stage.objects.filter(program=program, code="diagnosis").exists()
    nurse = Api(client, cast.nurse_de)
    assert nurse.post("/programs/psoriasis/definitions", {"text": text}).status_code == 403


@pytest.mark.django_db
def test_the_console_editor_checks_as_one_types_and_reviews_with_four_eyes(client, cast):
    program = cast.program
    author = make_staff("pm@sponsor.example", Role.PROGRAM_MANAGER, program)
    reviewer = make_staff("pm2@sponsor.example", Role.PROGRAM_MANAGER, program)
    client.force_login(author)
    page = client.get("/console/program/definition/")
    assert page.status_code == 200 and b"slug: psoriasis" in page.content
    text = changed(services.export_yaml(program), lambda d: d.setdefault("stages", []).append(
        {"code": "diagnosis", "labels": {"en": "Diagnosis"}}))
    checked = client.post("/console/program/definition/check/", {"text": text + "colour: blue\n"})
    assert b"colour" in checked.content and b"line" in checked.content
    assert b"+ stages.diagnosis" in client.post("/console/program/definition/check/", {"text": text}).content
    assert client.post("/console/program/definition/", {"text": "program: 1\n"}).status_code == 422
    assert client.post("/console/program/definition/", {"text": text}).status_code == 302
    client.post("/console/program/definition/v1/review/", {"step": "submit"})
    client.post("/console/program/definition/v1/review/", {"step": "approve"})
    assert DefinitionVersion.objects.get().status == "in_review"  # the author may not approve
    client.force_login(reviewer)
    client.post("/console/program/definition/v1/review/", {"step": "approve"})
    assert DefinitionVersion.objects.get().status == "approved"
    client.force_login(cast.nurse_de)
    assert client.get("/console/program/definition/").status_code in (403, 404)
