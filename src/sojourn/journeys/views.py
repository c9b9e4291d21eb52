"""Journey maps in the console: the atlas, a journey drawn as a service blueprint with the KPIs and
verdicts of its stages in a chosen market, two versions compared, a revision, exports (PDF, PNG,
JSON) and personas with how many enrolled patients resemble each.

Reading needs program.view; KPIs and verdicts on the map need insights.view in the market; writing
needs journeys.edit."""

from __future__ import annotations

from typing import Any

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from sojourn.consent.purposes import export_purposes
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.core.safe_yaml import load_yaml
from sojourn.core.views import shown_on_page
from sojourn.insights.models import Hypothesis
from sojourn.insights.presenting import tile
from sojourn.insights.queries import MarketKpis
from sojourn.insights.services.facts import refresh_journey_facts
from sojourn.journeys import queries
from sojourn.journeys.documents import diff
from sojourn.journeys.drawing import draw, lane_names
from sojourn.journeys.exports import map_pdf, map_png
from sojourn.journeys.models import KINDS, Journey, JourneyVersion, Persona
from sojourn.journeys.services import (
    create_journey,
    link_journeys,
    save_journey_version,
    save_persona,
    set_journey_status,
)
from sojourn.people.console import console_scope
from sojourn.tracking.models import Need


def _program(request: HttpRequest) -> Program | None:
    return console_scope(request).program


def _may_edit(request: HttpRequest, program: Program) -> bool:
    return request.actor.can(Permission.JOURNEYS_EDIT, program.pk)  # type: ignore[attr-defined]


def _journey(request: HttpRequest, code: str) -> Journey | None:
    program = _program(request)
    if program is None:
        return None
    return Journey.objects.filter(program=program, code=code).select_related("persona", "program").first()


@login_required
def atlas(request: HttpRequest) -> HttpResponse:
    program = _program(request)
    if program is None:
        raise NotFound()
    wanted = {k: request.GET.get(k, "") for k in ("market", "persona", "status", "kind")}
    journeys = list(queries.atlas(program, **wanted))
    errors: dict[str, str] = {}
    values = {k: request.POST.get(k, "").strip() for k in ("code", "title", "kind", "persona")}
    if request.method == "POST":
        if not _may_edit(request, program):
            raise NotFound()
        persona = Persona.objects.filter(program=program, code=values["persona"]).first()
        with shown_on_page() as refusal:
            made = create_journey(actor=request.actor, program=program, code=values["code"],  # type: ignore[attr-defined]
                                  title=values["title"], kind=values["kind"], persona=persona,
                                  markets=request.POST.getlist("markets"))
            messages.success(request, _("The journey is created from its template; revise it to make it yours."))
            return redirect("journeys-console:journey", code=made.code)
        errors = refusal.by_field(default="code")
    return render(request, "journeys/atlas.html", {
        "program": program, "journeys": journeys, "wanted": wanted, "values": values, "errors": errors,
        "markets": markets_for(request.actor, program),  # type: ignore[attr-defined]
        "personas": Persona.objects.filter(program=program), "kinds": KINDS,
        "statuses": Journey.Status.choices, "may_edit": _may_edit(request, program)}, status=400 if errors else 200)


def _overlay(request: HttpRequest, program: Program) -> tuple[Market | None, list[Market]]:
    """The market whose KPIs and verdicts are drawn, among those the reader has insights in."""
    markets = list(markets_for(request.actor, program, Permission.INSIGHTS_VIEW))  # type: ignore[attr-defined]
    wanted = request.GET.get("market", "")
    return next((m for m in markets if m.country == wanted), markets[0] if markets else None), markets


def _drawing(request: HttpRequest, journey: Journey, version: JourneyVersion, purposes: tuple[str, ...] = ()
             ) -> dict[str, Any]:
    """`purposes`: an export's (consent.purposes.EXPORT_PURPOSES): its KPI tiles count only those patients."""
    market, markets = _overlay(request, journey.program)
    kpis: dict[str, list] = {}
    evidence: dict[str, list] = {}
    linked = {s["program_stage"] for s in version.map["stages"] if s.get("program_stage")}
    if market is not None and linked:
        refresh_journey_facts(journey.program)
        kpis = {code: [tile(v) for v in values] for code, values in
                MarketKpis(journey.program, market.country, purposes=purposes).by_stage().items() if code in linked}
        evidence = queries.stage_evidence(journey.program, linked)
    return {"canvas": draw(version.map, kpis, evidence, market.country if market else ""), "market": market,
            "markets": markets}


def _version(journey: Journey, number: str | None) -> JourneyVersion | None:
    versions = journey.versions.all()
    if number and number.isdigit():
        return versions.filter(number=int(number)).first()
    return versions.order_by("-number").first()


@login_required
def journey_page(request: HttpRequest, code: str) -> HttpResponse:
    journey = _journey(request, code)
    if journey is None:
        raise NotFound()
    version = _version(journey, request.GET.get("version"))
    if version is None:
        raise NotFound()
    if request.method == "POST":
        return _change(request, journey)
    versions = list(journey.versions.order_by("-number").prefetch_related("evidence"))
    return render(request, "journeys/journey.html", {
        "journey": journey, "version": version, "versions": versions, **_drawing(request, journey, version),
        "lanes": lane_names(), "may_edit": _may_edit(request, journey.program),
        "links_out": journey.links_out.select_related("target"), "links_in": journey.links_in.select_related("source"),
        "statuses": Journey.Status.choices,
        "others": Journey.objects.filter(program=journey.program).exclude(pk=journey.pk)})


def _change(request: HttpRequest, journey: Journey) -> HttpResponse:
    """The journey page's two small forms: its status, and a link to another journey."""
    if not _may_edit(request, journey.program):
        raise NotFound()
    with shown_on_page(request=request):
        if "status" in request.POST:
            set_journey_status(actor=request.actor, journey=journey,  # type: ignore[attr-defined]
                               status=request.POST["status"])
            messages.success(request, _("The journey is now %(status)s.") % {"status": journey.get_status_display()})
        else:
            target = Journey.objects.filter(program=journey.program, code=request.POST.get("target", "")).first()
            if target is None:
                raise InvalidInput(_("Choose a journey of this program to link."), field="target")
            link_journeys(actor=request.actor, source=journey, target=target,  # type: ignore[attr-defined]
                          relation=request.POST.get("relation", ""))
            messages.success(request, _("The journeys are linked."))
    return redirect("journeys-console:journey", code=journey.code)


@login_required
def compare(request: HttpRequest, code: str) -> HttpResponse:
    journey = _journey(request, code)
    if journey is None:
        raise NotFound()
    after = _version(journey, request.GET.get("to"))
    wanted = request.GET.get("from")
    # Without "from", a version is compared with the one before it.
    before = _version(journey, wanted) if wanted else (
        journey.versions.filter(number=after.number - 1).first() if after else None)
    if before is None or after is None:
        raise NotFound()
    return render(request, "journeys/compare.html", {
        "journey": journey, "before": before, "after": after, "changes": diff(before.map, after.map),
        "versions": journey.versions.order_by("number"), "evidence": after.evidence.select_related("stage")})


@login_required
def revise(request: HttpRequest, code: str) -> HttpResponse:
    journey = _journey(request, code)
    if journey is None or not _may_edit(request, journey.program):
        raise NotFound()
    current = _version(journey, None)
    problems: list[tuple[str, str]] = []
    text = request.POST.get("map", "") if request.method == "POST" else yaml.safe_dump(
        current.map if current else {"stages": []}, allow_unicode=True, sort_keys=False, width=100)
    basis = request.POST.get("basis", "evidence")
    note = request.POST.get("note", "")
    cited = [int(v) for v in request.POST.getlist("evidence") if v.isdigit()]
    if request.method == "POST":
        try:
            document = load_yaml(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = _("line %(line)d, column %(column)d") % {"line": mark.line + 1, "column": mark.column + 1} \
                if mark else ""
            problems.append((where, _("This is not valid YAML: %(problem)s") % {
                "problem": getattr(error, "problem", None) or str(error)}))
            document = None
        if not problems:
            with shown_on_page() as refusal:
                version = save_journey_version(actor=request.actor, journey=journey,  # type: ignore[attr-defined]
                                               document=document, basis=basis, note=note, evidence=cited)
                messages.success(request, _("Version %(n)d is saved.") % {"n": version.number})
                return redirect(f"{request.path.removesuffix('revise/')}compare/?to={version.number}")
            problems = [(p.field or "", p.message) for p in refusal.problems]
    return render(request, "journeys/revise.html", {
        "journey": journey, "current": current, "text": text, "basis": basis, "note": note, "cited": cited,
        "problems": problems, "hypotheses": Hypothesis.objects.filter(program=journey.program,
                                                                     retired_at__isnull=True).select_related("stage"),
        "bases": JourneyVersion.Basis.choices}, status=400 if problems else 200)


def _export_context(request: HttpRequest, journey: Journey) -> dict[str, Any] | None:
    version = _version(journey, request.GET.get("version"))
    if version is None:
        return None
    # The PDF and the PNG carry the same tiles: both declared under the same purpose.
    purposes = export_purposes("journeys-console:pdf")
    return {"journey": journey, "version": version, **_drawing(request, journey, version, purposes),
            "lanes": lane_names()}


@login_required
def export_pdf(request: HttpRequest, code: str) -> HttpResponse:
    journey = _journey(request, code)
    context = _export_context(request, journey) if journey else None
    if context is None:
        raise NotFound()
    html = render_to_string("journeys/print.html", context, request=request)
    response = HttpResponse(map_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{journey.code}-v{context["version"].number}.pdf"'
    return response


@login_required
def export_png(request: HttpRequest, code: str) -> HttpResponse:
    journey = _journey(request, code)
    context = _export_context(request, journey) if journey else None
    if context is None:
        raise NotFound()
    html = render_to_string("journeys/print.html", context, request=request)
    response = HttpResponse(map_png(html), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{journey.code}-v{context["version"].number}.png"'
    return response


@login_required
def export_json(request: HttpRequest, code: str) -> HttpResponse:
    journey = _journey(request, code)
    if journey is None:
        raise NotFound()
    response = JsonResponse(queries.journey_export(journey), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{journey.code}.json"'
    return response


@login_required
def personas(request: HttpRequest) -> HttpResponse:
    program = _program(request)
    if program is None:
        raise NotFound()
    countries = [m.country for m in markets_for(request.actor, program, Permission.INSIGHTS_VIEW)]  # type: ignore[attr-defined]
    rows, profiled = queries.resemblance(program, countries) if countries else ([], 0)
    language = (translation.get_language() or "en").split("-")[0]
    labels = {n.code: n.label(language) for n in Need.objects.filter(program=program)}
    people = list(Persona.objects.filter(program=program))
    for persona in people:
        # What sets the persona apart: their needs above the usual 0.3, strongest first.
        persona.top_needs = [(labels.get(code, code), weight) for code, weight in  # type: ignore[attr-defined]
                             sorted(persona.needs.items(), key=lambda kv: -kv[1]) if weight > 0.3]
    return render(request, "journeys/personas.html", {
        "program": program, "personas": people, "rows": rows,
        "countries": countries, "profiled": profiled, "may_edit": _may_edit(request, program)})


@login_required
def persona_form(request: HttpRequest, code: str = "") -> HttpResponse:
    program = _program(request)
    if program is None or not _may_edit(request, program):
        raise NotFound()
    persona = Persona.objects.filter(program=program, code=code).first() if code else None
    if code and persona is None:
        raise NotFound()
    language = (translation.get_language() or "en").split("-")[0]
    needs = [(n.code, n.label(language)) for n in Need.objects.filter(program=program)]
    errors: dict[str, str] = {}
    if request.method == "POST":
        post = request.POST
        weights: dict[str, Any] = {}
        for need, _label in needs:
            raw = post.get(f"need-{need}", "").strip().replace(",", ".")
            if raw:
                try:
                    weights[need] = float(raw)
                except ValueError:
                    weights[need] = raw  # the service says which need and why
        with shown_on_page() as refusal:
            made = save_persona(
                actor=request.actor, program=program, code=code or post.get("code", "").strip(),  # type: ignore[attr-defined]
                kind=post.get("kind", ""), name=post.get("name", ""), summary=post.get("summary", ""),
                goals=_lines(post.get("goals", "")), frustrations=_lines(post.get("frustrations", "")),
                needs=weights, health_literacy=post.get("health_literacy") or "medium", support=post.get("support", ""),
                digital_habits=post.get("digital_habits", ""))
            messages.success(request, _("The persona %(name)s is saved.") % {"name": made.name})
            return redirect("journeys-console:personas")
        errors = refusal.by_field(default="name")
    initial = persona or Persona(kind="patient")
    return render(request, "journeys/persona_form.html", {
        "program": program, "persona": persona, "initial": initial, "post": request.POST, "needs": needs,
        "errors": errors, "kinds": KINDS, "literacies": Persona.Literacy.choices,
        "goals": "\n".join(initial.goals), "frustrations": "\n".join(initial.frustrations)},
        status=400 if errors else 200)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]

