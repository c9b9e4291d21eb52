"""Importing outside patient survey data (CSV or XLSX) with a column mapping onto questions, stages and
markets. All or nothing: every problem is reported with its row and column, and nothing is imported
from a file that has one. Pseudonymous only: a column that looks like personal data, or a respondent
id that looks like an email address or a phone number, refuses the file. Importing the same file
again changes nothing (insights.import)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.insights.models import SurveyAnswer, SurveyImport
from sojourn.insights.survey_files import SurveyTable, read_table
from sojourn.tracking.models import Stage

DATE_FORMATS = {"YYYY-MM-DD": "%Y-%m-%d", "DD.MM.YYYY": "%d.%m.%Y", "DD/MM/YYYY": "%d/%m/%Y",
                "MM/DD/YYYY": "%m/%d/%Y"}
# Headers that name personal data, in the languages of the markets.
PERSONAL = re.compile(r"e-?mail|\bname\b|first.?name|last.?name|surname|vorname|nachname|\bnom\b|prénom|氏名|名前|"
                      r"phone|telefon|téléphone|mobile|handy|電話|address|adresse|street|straße|住所|"
                      r"birth|geburt|naissance|生年月日|\bdob\b|zip|postcode|postleitzahl|insurance|versicherten",
                      re.IGNORECASE)
LOOKS_LIKE_CONTACT = re.compile(r"@|^\+?[\d\s().-]{8,}$")
MAX_ERRORS = 200


class QuestionMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    min: float
    max: float

    @model_validator(mode="after")
    def _scale(self) -> QuestionMap:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class Mapping(BaseModel):
    """Which column holds what. Market and stage come from a column (with an optional translation of
    its values) or are fixed for the whole file."""

    model_config = ConfigDict(extra="forbid")
    respondent: str = Field(min_length=1, max_length=200)
    market: str | None = None
    market_fixed: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    market_values: dict[str, str] = Field(default_factory=dict)
    stage: str | None = None
    stage_fixed: str | None = None
    stage_values: dict[str, str] = Field(default_factory=dict)
    date: str | None = None
    date_format: Literal["YYYY-MM-DD", "DD.MM.YYYY", "DD/MM/YYYY", "MM/DD/YYYY"] | None = None
    questions: list[QuestionMap] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_source_each(self) -> Mapping:
        if (self.market is None) == (self.market_fixed is None):
            raise ValueError("give either market (a column) or market_fixed (a country code)")
        if (self.stage is None) == (self.stage_fixed is None):
            raise ValueError("give either stage (a column) or stage_fixed (a stage code)")
        codes = [q.code for q in self.questions]
        if len(set(codes)) != len(codes):
            raise ValueError("each question code once")
        return self


def read_mapping(raw: Any) -> Mapping:
    try:
        return Mapping.model_validate(raw)
    except ValidationError as error:
        details = [ErrorDetail(str(e.get("msg", "invalid")).removeprefix("Value error, "),
                               field=".".join(str(p) for p in ("mapping", *e.get("loc", ())))) for e in error.errors()]
        raise InvalidInput(_("The column mapping is not valid."), details=details) from None


def import_survey(*, actor: Actor, program: Program, source: str, filename: str, content: bytes, mapping: Any,
                  now: datetime | None = None) -> tuple[SurveyImport, bool]:
    """Import the file; returns the import and whether it is new (False: this file was imported before)."""
    actor.require(Permission.INSIGHTS_IMPORT, program.pk)
    source = (source or "").strip()
    if not source or len(source) > 200:
        raise InvalidInput(_("Name the survey's source in 1 to 200 characters."), field="source")
    parsed = read_mapping(mapping)
    digest = hashlib.sha256(content).hexdigest()
    earlier = SurveyImport.objects.filter(program=program, sha256=digest).first()
    if earlier is not None:
        return earlier, False
    table = read_table(filename, content)
    answers, problems = _answers(program, parsed, table)
    if problems:
        shown = problems[:MAX_ERRORS]
        raise InvalidInput(_("Nothing was imported: %(n)d problems in the file.") % {"n": len(problems)},
                           details=shown)
    now = now or timezone.now()
    with transaction.atomic():
        survey = SurveyImport.objects.create(
            program=program, source=source, filename=filename[:255], sha256=digest, mapping=parsed.model_dump(),
            rows=len(table.rows), answers=len(answers), imported_by_id=actor.user_id, imported_at=now)
        SurveyAnswer.objects.bulk_create([SurveyAnswer(survey=survey, program=program, **a) for a in answers],
                                         batch_size=2000)
        record_audit(actor=actor, action="survey.imported", subject_type="survey_import", subject_id=survey.pk,
                     program_id=program.pk, after={"rows": survey.rows, "answers": survey.answers})
    return survey, True


def _answers(program: Program, mapping: Mapping, table: SurveyTable) -> tuple[list[dict[str, Any]],
                                                                              list[ErrorDetail]]:
    problems: list[ErrorDetail] = []
    for column in table.columns:
        if column and PERSONAL.search(column):
            problems.append(ErrorDetail(
                _("The column %(column)s looks like personal data: only pseudonymous survey data may be imported; "
                  "remove the column.") % {"column": column}, field=column))
    named = [("respondent", mapping.respondent), ("market", mapping.market), ("stage", mapping.stage),
             ("date", mapping.date)] + [(f"questions.{i}.column", q.column) for i, q in enumerate(mapping.questions)]
    for where, column in named:
        if column is not None and column not in table.columns:
            problems.append(ErrorDetail(_("The mapping's %(where)s names the column %(column)s, which is not in the "
                                          "file (its columns: %(columns)s).") % {
                "where": where, "column": column, "columns": ", ".join(table.columns)}, field=f"mapping.{where}"))
    markets = {m.country: m for m in Market.objects.filter(program_markets__program=program)}
    stages = set(Stage.objects.filter(program=program).values_list("code", flat=True))
    if mapping.market_fixed and mapping.market_fixed not in markets:
        problems.append(ErrorDetail(_("The program does not run in %(market)s.") % {"market": mapping.market_fixed},
                                    field="mapping.market_fixed"))
    if mapping.stage_fixed and mapping.stage_fixed not in stages:
        problems.append(ErrorDetail(_("The program has no stage %(stage)s.") % {"stage": mapping.stage_fixed},
                                    field="mapping.stage_fixed"))
    if problems:
        return [], problems

    answers: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    date_format = mapping.date_format
    for number, cells in table.rows:
        def problem(column: str, message: str, row: int = number) -> None:
            problems.append(ErrorDetail(message, field=column, line=row))

        respondent = str(cells[mapping.respondent]).strip()
        if not respondent or len(respondent) > 64:
            problem(mapping.respondent, _("A respondent id of 1 to 64 characters is needed."))
            continue
        if LOOKS_LIKE_CONTACT.search(respondent):
            problem(mapping.respondent, _("The respondent id looks like an email address or a phone number: only "
                                          "pseudonymous ids may be imported."))
            continue
        if respondent in first_row:
            problem(mapping.respondent, _("Respondent %(id)s appears again (first on row %(row)d).") % {
                "id": respondent, "row": first_row[respondent]})
            continue
        first_row[respondent] = number
        country = mapping.market_fixed or mapping.market_values.get(str(cells[mapping.market]),  # type: ignore[index]
                                                                     str(cells[mapping.market]).upper())  # type: ignore[index]
        if country not in markets:
            problem(mapping.market or "", _("%(value)s is not a market of the program (%(markets)s).") % {
                "value": cells[mapping.market], "markets": ", ".join(sorted(markets))})  # type: ignore[index]
        stage = mapping.stage_fixed or mapping.stage_values.get(str(cells[mapping.stage]),  # type: ignore[index]
                                                                str(cells[mapping.stage]))  # type: ignore[index]
        if stage not in stages:
            problem(mapping.stage or "", _("%(value)s is not a stage of the program's journey (%(stages)s); map it "
                                           "with stage_values.") % {"value": cells[mapping.stage],  # type: ignore[index]
                                                                    "stages": ", ".join(sorted(stages))})
        answered_on = None
        if mapping.date:
            answered_on, date_format, message = _date(cells[mapping.date], date_format)
            if message:
                problem(mapping.date, message)
        for q in mapping.questions:
            raw = cells[q.column]
            if raw in ("", None):
                continue  # not answered
            try:
                value = float(str(raw).replace(",", ".")) if not isinstance(raw, int | float) else float(raw)
            except ValueError:
                problem(q.column, _("%(value)s is not a number.") % {"value": raw})
                continue
            if not q.min <= value <= q.max:
                problem(q.column, _("%(value)s is outside the scale %(min)g–%(max)g.") % {
                    "value": raw, "min": q.min, "max": q.max})
                continue
            answers.append({"market": markets.get(country), "stage": stage, "respondent": respondent, "row": number,
                            "answered_on": answered_on, "question": q.code, "value": value})
        if len(problems) > MAX_ERRORS:
            break
    return answers, problems


def _date(raw: Any, known: str | None) -> tuple[date | None, str | None, str]:
    """The date, the file's format (found from the first date if not given) and a problem, if any."""
    if raw in ("", None):
        return None, known, ""
    if isinstance(raw, date):
        return raw, known, ""
    text = str(raw).strip()
    formats = [known] if known else list(DATE_FORMATS)
    for name in formats:
        try:
            return datetime.strptime(text, DATE_FORMATS[name]).date(), name, ""
        except ValueError:
            continue
    if known:
        other = next((n for n, f in DATE_FORMATS.items() if _parses(text, f)), None)
        if other:
            return None, known, _("%(value)s is written %(other)s, but the file's dates are %(known)s (mixed date "
                                  "formats).") % {"value": text, "other": other, "known": known}
    return None, known, _("%(value)s is not a date.") % {"value": text}


def _parses(text: str, pattern: str) -> bool:
    try:
        datetime.strptime(text, pattern)
        return True
    except ValueError:
        return False
