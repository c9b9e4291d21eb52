"""The program's definition in the console: the file as it stands, an editor checked as one types
(problems with their line, changes in words), and the versions moving through review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope
from sojourn.programs import services
from sojourn.programs.activation import go_live, readiness
from sojourn.programs.definition import read_definition_text
from sojourn.programs.models import DefinitionVersion


def _program(request: HttpRequest) -> Program:
    program = console_scope(request).program
    if program is None or not request.actor.can(Permission.PROGRAM_MANAGE, program.pk):  # type: ignore[attr-defined]
        raise NotFound()
    return program


def _checked(program: Program, text: str) -> tuple[list[tuple[int | None, str, str]], list[str]]:
    """The text's problems (line, field, message) and, when it has none, what it would change."""
    reading = read_definition_text(text, "definition")
    if not reading.ok or reading.document is None:
        return [(p.line, p.field, p.message) for p in reading.problems], []
    changes = services.diff(program, reading.document)
    try:
        services.check_against(program, reading.document)
    except InvalidInput as refused:
        return [(None, d.field or "", d.message) for d in refused.details], changes
    return [], changes


@login_required
def definition(request: HttpRequest) -> HttpResponse:
    program = _program(request)
    versions = list(DefinitionVersion.objects.filter(program=program))
    draft = next((v for v in versions if v.status == "draft"), None)
    text = draft.text if draft else services.export_yaml(program)
    problems: list[tuple[int | None, str, str]] = []
    changes: list[str] = []
    if request.method == "POST":
        text = request.POST.get("text", "")
        problems, changes = _checked(program, text)
        if not problems:
            with shown_on_page() as refusal:
                services.save_draft(actor=request.actor, program=program, text=text)  # type: ignore[attr-defined]
                messages.success(request, _("The draft is saved; submit it for review when it is ready."))
                return redirect("programs-console:definition")
            problems = [(p.line, p.field or "", p.message) for p in refusal.problems]
    elif draft is not None:
        changes = services.differences(services.export_document(program), draft.document)
    markets = [(link, readiness(program, link.market))
               for link in program.program_markets.select_related("market").order_by("market__country")]
    return render(request, "programs/definition.html", {
        "program": program, "versions": versions, "text": text, "problems": problems, "changes": changes,
        "markets": markets}, status=422 if problems else 200)


@login_required
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    """Live checking while typing (htmx): the problems and changes of the editor's text; writes nothing."""
    program = _program(request)
    problems, changes = _checked(program, request.POST.get("text", ""))
    return render(request, "programs/_check.html", {"problems": problems, "changes": changes})


@login_required
@require_POST
def review(request: HttpRequest, number: int) -> HttpResponse:
    program = _program(request)
    version = DefinitionVersion.objects.filter(program=program, number=number).select_related("program").first()
    step = request.POST.get("step", "")
    done = {"submit": _("Submitted for review."), "approve": _("Approved: the program now follows this version."),
            "return": _("Returned to the author.")}
    if version is None or step not in done:
        raise NotFound()
    actor = request.actor  # type: ignore[attr-defined]
    with shown_on_page(request=request):
        if step == "submit":
            services.submit(actor=actor, version=version)
        elif step == "approve":
            services.approve(actor=actor, version=version)
        else:
            services.return_to_draft(actor=actor, version=version, comment=request.POST.get("comment", ""))
        messages.success(request, done[step])
    return redirect("programs-console:definition")


@login_required
@require_POST
def market_live(request: HttpRequest, country: str) -> HttpResponse:
    """Take a market live once its checklist is complete; what is missing is shown otherwise."""
    program = _program(request)
    with shown_on_page(request=request):
        go_live(actor=request.actor, program=program, country=country.upper())  # type: ignore[attr-defined]
        messages.success(request, _("%(country)s is live.") % {"country": country.upper()})
    return redirect("programs-console:definition")
