"""Outside survey data: a CSV or XLSX export imported with a column mapping onto questions, stages and
markets; every problem reported with its row and column and nothing imported from a file that has
one; pseudonymous only; importing the same file again changes nothing; a hypothesis tested on it."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from scipy import stats

from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry, Market
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM, actor_with
from sojourn.insights.models import SurveyAnswer, SurveyImport
from sojourn.insights.services.hypotheses import propose_hypothesis
from sojourn.insights.services.surveys import import_survey
from sojourn.insights.tests.factories import HEADER, MAPPING, csv_file
from sojourn.insights.verdicts import evaluate


def survey(n_de_yes: int, n_de: int, n_gb_yes: int, n_gb: int) -> bytes:
    rows = []
    for country, yes, n in (("DE", n_de_yes, n_de), ("GB", n_gb_yes, n_gb)):
        for i in range(n):
            answer = 5 if i < yes else 2
            rows.append(f"{country}-{i},{country},Starting treatment,2026-0{1 + i % 9}-15,{answer},{i % 11}")
    return csv_file(rows)


@pytest.mark.django_db
def test_a_survey_is_imported_once_and_tested_per_market(stages):
    content = survey(30, 40, 8, 40)
    made, new = import_survey(actor=SYSTEM, program=stages, source="Community panel 2026", filename="panel.csv",
                              content=content, mapping=MAPPING)
    assert new and (made.rows, made.answers) == (80, 160)
    again, new = import_survey(actor=SYSTEM, program=stages, source="Community panel 2026", filename="copy.csv",
                               content=content, mapping=MAPPING)
    assert not new and again.pk == made.pk and SurveyAnswer.objects.count() == 160
    assert AuditEntry.objects.filter(action="survey.imported").count() == 1

    hypothesis = propose_hypothesis(
        actor=SYSTEM, program=stages, stage="treatment_initiation", claim="at_least", threshold=0.5,
        statement="At treatment initiation, at least half feel unprepared for side effects.",
        metric={"kind": "survey_share", "question": "unprepared", "op": ">=", "value": 4})
    result = evaluate(hypothesis, list(Market.objects.filter(program_markets__program=stages)))
    de, gb = result.verdict_in("DE"), result.verdict_in("GB")
    assert (de.n, de.estimate.value, de.verdict) == (40, 0.75, "supported")
    assert (gb.n, gb.estimate.value, gb.verdict) == (40, 0.2, "refuted")
    assert de.p_value == pytest.approx(stats.chisquare([30, 10], f_exp=[20, 20]).pvalue)


@pytest.mark.django_db
def test_a_spreadsheet_with_fixed_market_and_stage(stages):
    book = Workbook()
    sheet = book.active
    sheet.append(["ID", "Itch today", "Notes"])
    for i in range(12):
        sheet.append([f"jp{i}", i % 11, None])
    out = io.BytesIO()
    book.save(out)
    mapping = {"respondent": "ID", "market_fixed": "JP", "stage_fixed": "diagnosis",
               "questions": [{"column": "Itch today", "code": "itch_today", "min": 0, "max": 10}]}
    made, _new = import_survey(actor=SYSTEM, program=stages, source="Japan clinic survey", filename="jp.xlsx",
                               content=out.getvalue(), mapping=mapping)
    assert made.answers == 12
    assert set(SurveyAnswer.objects.values_list("market__country", "stage").distinct()) == {("JP", "diagnosis")}


@pytest.mark.django_db
def test_every_problem_is_reported_with_row_and_column_and_nothing_is_imported(stages):
    content = csv_file([
        "r1,DE,Starting treatment,2026-01-15,4,3",
        "r2,DE,Starting treatment,15.01.2026,4,3",  # another date format
        "r3,DE,Starting treatment,2026-01-16,7,3",  # outside 1–5
        "r1,DE,Starting treatment,2026-01-17,2,3",  # the same respondent again
        "r5,FR,Starting treatment,2026-01-18,2,3",  # not a market of the program
        "r6,DE,Remission,2026-01-19,2,3",  # not a stage
        "r7,DE,Starting treatment,2026-01-20,often,3",  # not a number
    ])
    with pytest.raises(InvalidInput) as refused:
        import_survey(actor=SYSTEM, program=stages, source="Panel", filename="bad.csv", content=content,
                      mapping=MAPPING)
    found = {(d.line, d.field) for d in refused.value.details}
    assert found == {(3, "Completed"), (4, "Q1 Unprepared for side effects"), (5, "Respondent"), (6, "Country"),
                     (7, "Phase"), (8, "Q1 Unprepared for side effects")}
    messages = " ".join(d.message for d in refused.value.details)
    assert "mixed date formats" in messages and "outside the scale 1–5" in messages
    assert "first on row 2" in messages
    assert not SurveyImport.objects.exists() and not SurveyAnswer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "mapping", "field", "message"), [
    (csv_file(["r1,DE,Starting treatment,2026-01-15,4,3"]), {**MAPPING, "market": "Land"}, "mapping.market",
     "not in the file"),
    (b"Respondent,Email,Country\nr1,a@example.org,DE\n", MAPPING, "Email", "personal data"),
    (csv_file(["lena@example.org,DE,Starting treatment,2026-01-15,4,3"]), MAPPING, "Respondent", "pseudonymous"),
    (csv_file(["r1,DE,Starting treatment,2026-01-15,4,3"]), {**MAPPING, "questions": []}, "mapping.questions",
     "at least 1"),
    (csv_file(["r1,DE,Starting treatment,2026-01-15,4,3"]),
     {**MAPPING, "market_fixed": "DE"}, "mapping", "either market"),
    (HEADER.encode(), MAPPING, "file", "no rows"),
    (b"\xff\xfe\x00bad", MAPPING, "file", "UTF-8"),
])
def test_a_file_or_mapping_that_cannot_be_imported_says_why(stages, content, mapping, field, message):
    with pytest.raises(InvalidInput) as refused:
        import_survey(actor=SYSTEM, program=stages, source="Panel", filename="x.csv", content=content,
                      mapping=mapping)
    error = refused.value
    fields = [d.field for d in error.details] or [error.field]
    texts = " ".join([error.message, *(d.message for d in error.details)])
    assert field in fields and message in texts
    assert not SurveyImport.objects.exists()


@pytest.mark.django_db
def test_only_roles_that_import_insights_may_import(stages):
    with pytest.raises(AccessDenied):
        import_survey(actor=actor_with(Role.PROGRAM_MANAGER, stages), program=stages, source="Panel",
                      filename="x.csv", content=survey(1, 10, 1, 10), mapping=MAPPING)
    made, _new = import_survey(actor=actor_with(Role.INSIGHTS_ANALYST, stages), program=stages, source="Panel",
                               filename="x.csv", content=survey(1, 10, 1, 10), mapping=MAPPING)
    assert made.rows == 20


@pytest.mark.django_db
def test_the_console_and_the_command_import_and_report_problems(client, cast, stages, tmp_path):
    import yaml
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import CommandError, call_command

    client.force_login(cast.analyst)
    bad = client.post("/console/insights/surveys/", {
        "source": "Panel", "mapping": yaml.safe_dump(MAPPING),
        "file": SimpleUploadedFile("p.csv", csv_file(["r1,DE,Starting treatment,2026-01-15,9,3"]))})
    page = bad.content.decode()
    assert bad.status_code == 400 and "row 2, Q1 Unprepared for side effects" in page and "outside the scale" in page
    good = client.post("/console/insights/surveys/", {
        "source": "Panel", "mapping": yaml.safe_dump(MAPPING), "file": SimpleUploadedFile("p.csv", survey(3, 6, 2, 6))})
    assert good.status_code == 302
    listing = client.get("/console/insights/surveys/").content.decode()
    assert "<code>unprepared</code>" in listing and "p.csv" in listing
    client.force_login(cast.nurse_de)
    assert client.get("/console/insights/surveys/").status_code == 403

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(MAPPING))
    broken = tmp_path / "broken.csv"
    broken.write_bytes(csv_file(["r1,DE,Starting treatment,2026-01-15,4,3", "r1,DE,Starting treatment,2026-01-16,4,3"]))
    with pytest.raises(CommandError, match="row 3, Respondent: Respondent r1 appears again"):
        call_command("survey", "import", "--program", stages.slug, "--source", "Panel", "--mapping", str(mapping),
                     str(broken))
    fine = tmp_path / "fine.csv"
    fine.write_bytes(survey(2, 5, 1, 5))
    out = io.StringIO()
    call_command("survey", "import", "--program", stages.slug, "--source", "Panel", "--mapping", str(mapping),
                 str(fine), stdout=out)
    assert "Imported 20 answers from 10 rows" in out.getvalue()


@pytest.mark.django_db
def test_the_api_imports_once_and_reports_rows_and_columns(client, cast, stages):
    import base64

    from sojourn.people.services.tokens import issue_api_token

    _row, token = issue_api_token(actor=SYSTEM, user=cast.analyst, name="research")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = "/api/v1/programs/psoriasis/surveys"

    def send(data: bytes, **extra):
        body = {"source": "Panel", "filename": "panel.csv", "content": base64.b64encode(data).decode(),
                "mapping": MAPPING, **extra}
        return client.post(url, body, content_type="application/json", **auth)

    bad = send(csv_file(["r1,DE,Starting treatment,2026-01-15,4,3", "r2,DE,Starting treatment,2026/01/16,4,3"]))
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [{"field": "Completed", "line": 3,
                                               "message": "2026/01/16 is not a date."}]
    assert send(b"", content="not base64!").json()["error"]["details"][0]["field"] == "content"
    first = send(survey(3, 6, 2, 6))
    assert first.status_code == 201 and first.json()["new"] and first.json()["answers"] == 24
    again = send(survey(3, 6, 2, 6))
    assert again.status_code == 200 and not again.json()["new"] and again.json()["id"] == first.json()["id"]
    assert [s["rows"] for s in client.get(url, **auth).json()] == [12]
    _row, nurse = issue_api_token(actor=SYSTEM, user=cast.nurse_de, name="x")
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {nurse}").status_code == 404
