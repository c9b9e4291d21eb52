"""Outside survey data in the console: the imports so far and a form to import a CSV or XLSX export
with its column mapping (insights.import). A refused file lists every problem with its row and
column; nothing of it is imported."""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from sojourn.core.errors import NotFound
from sojourn.core.permissions import Permission
from sojourn.core.safe_yaml import load_yaml
from sojourn.core.views import shown_on_page
from sojourn.insights.models import SurveyAnswer, SurveyImport
from sojourn.insights.services.surveys import import_survey
from sojourn.insights.survey_files import MAX_BYTES
from sojourn.people.console import console_scope

EXAMPLE = """respondent: Respondent
market: Country
stage: Phase
stage_values: {"Starting treatment": treatment_initiation}
date: Completed
questions:
  - {column: "Q1 Unprepared for side effects", code: unprepared, min: 1, max: 5}
"""


@login_required
def surveys(request: HttpRequest) -> HttpResponse:
    program = console_scope(request).program
    actor = request.actor  # type: ignore[attr-defined]
    if program is None or not actor.can(Permission.INSIGHTS_IMPORT, program.pk):
        raise NotFound()
    problems: list[tuple[str, str]] = []
    source = request.POST.get("source", "")
    mapping_text = request.POST.get("mapping", EXAMPLE)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            mapping = load_yaml(mapping_text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problems.append((_("mapping, line %(line)d") % {"line": mark.line + 1} if mark else _("mapping"),
                             _("This is not valid YAML.")))
            mapping = None
        if upload is None:
            problems.append(("file", _("Choose the survey file.")))
        elif upload.size > MAX_BYTES:  # refused before it is read into memory
            problems.append(("file", _("The file is larger than 20 MB.")))
        if not problems:
            with shown_on_page() as refusal:
                made, new = import_survey(actor=actor, program=program, source=source, filename=upload.name,  # type: ignore[union-attr]
                                          content=upload.read(), mapping=mapping)  # type: ignore[union-attr]
                messages.success(request, _("Imported %(answers)d answers from %(rows)d rows.") % {
                    "answers": made.answers, "rows": made.rows} if new else
                    _("This file was imported already; nothing changed."))
                return redirect("insights-console:surveys")
            problems = [(_where(p.line, p.field), p.message) for p in refusal.problems]
    imports = SurveyImport.objects.filter(program=program)
    questions = sorted(set(SurveyAnswer.objects.filter(program=program).values_list("question", flat=True)))
    return render(request, "insights/surveys.html", {
        "program": program, "imports": imports, "questions": questions, "problems": problems, "source": source,
        "mapping": mapping_text}, status=400 if problems else 200)


def _where(line: int | None, field: str | None) -> str:
    if line:
        return _("row %(row)d, %(column)s") % {"row": line, "column": field}
    return field or ""
