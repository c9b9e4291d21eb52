"""The KPI dashboard: the journey drawn as its stages with their KPIs for one market, the markets side
by side, and the same figures as CSV and as a PDF report. Aggregates only (insights.view)."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML

from sojourn.consent.purposes import export_purposes
from sojourn.core.errors import NotFound
from sojourn.core.models import Market
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.core.replicas import analytics_reads
from sojourn.core.spreadsheets import csv_writer
from sojourn.insights.presenting import status_word, tile
from sojourn.insights.queries import MarketKpis, facts_as_of
from sojourn.insights.services.facts import refresh_journey_facts
from sojourn.people.console import ConsoleScope, console_scope
from sojourn.tracking.models import Stage


def _scope(request: HttpRequest) -> tuple[ConsoleScope, list[Market]] | None:
    scope = console_scope(request)
    if scope.program is None:
        return None
    markets = list(markets_for(request.actor, scope.program, Permission.INSIGHTS_VIEW))  # type: ignore[attr-defined]
    if not markets:
        return None
    # Whatever happened since the last view (usually little) is folded into the facts first, on the
    # primary; the view's reads then go to a replica that has caught up, if there is one.
    refresh_journey_facts(scope.program)
    return scope, markets


def _journey(scope: ConsoleScope, market: Market, purposes: tuple[str, ...] = ()) -> list[dict]:
    """The stages in order, each with its name in the reader's language and its KPI tiles (an export's
    count only the patients who granted its purposes: consent.purposes.EXPORT_PURPOSES)."""
    language = (translation.get_language() or "en").split("-")[0]
    names = {s.code: s.label(language) for s in Stage.objects.filter(program=scope.program)}
    names.setdefault("", _("Whole program"))
    board = MarketKpis(scope.program, market.country, purposes=purposes).by_stage()
    return [{"code": code, "label": names[code], "tiles": [tile(v) for v in values]} for code, values in board.items()]


def _comparison(scope: ConsoleScope, markets: list[Market], purposes: tuple[str, ...] = ()
                ) -> tuple[list[Market], list[dict]]:
    """Rows of (stage, KPI) with a tile per market."""
    rows: dict[tuple[str, str], dict] = {}
    for market in markets:
        for stage in _journey(scope, market, purposes):
            for t in stage["tiles"]:
                row = rows.setdefault((stage["code"], t.code), {"stage": stage, "code": t.code, "label": t.label,
                                                               "target": t.target, "cells": {}})
                row["cells"][market.country] = t
    for row in rows.values():
        row["tiles"] = [{"market": m.country, "shown": t.shown, "status": t.status, "word": t.word}
                        if (t := row["cells"].get(m.country)) else
                        {"market": m.country, "shown": "—", "status": "none", "word": status_word("none")}
                        for m in markets]
    return markets, list(rows.values())


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    found = _scope(request)
    if found is None:
        raise NotFound()
    scope, markets = found
    wanted = request.GET.get("market") or (scope.market.country if scope.market else "")
    market = next((m for m in markets if m.country == wanted), markets[0])
    with analytics_reads():
        return render(request, "insights/dashboard.html", {
            "program": scope.program, "markets": markets, "market": market, "journey": _journey(scope, market),
            "now": facts_as_of(scope.program)})


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    found = _scope(request)
    if found is None:
        raise NotFound()
    scope, markets = found
    with analytics_reads():
        markets, rows = _comparison(scope, markets)
        return render(request, "insights/compare.html", {"program": scope.program, "markets": markets,
                                                          "rows": rows, "now": facts_as_of(scope.program)})


@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    found = _scope(request)
    if found is None:
        raise NotFound()
    scope, markets = found
    out = StringIO()
    writer = csv_writer(out)
    writer.writerow(["market", "stage", "kpi", "label", "value", "patients", "target", "status"])
    with analytics_reads():
        for market in markets:
            for stage, values in MarketKpis(scope.program, market.country,
                                            purposes=export_purposes("insights-console:csv")).by_stage().items():
                for value in values:
                    shown = value.shown
                    writer.writerow([market.country, stage, value.kpi.code, str(value.kpi.label),
                                     "" if shown is None else shown, value.n if shown is not None else "",
                                     value.kpi.target, value.status])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{scope.program.slug}-kpis.csv"'
    return response


@login_required
def report_pdf(request: HttpRequest) -> HttpResponse:
    found = _scope(request)
    if found is None:
        raise NotFound()
    scope, markets = found
    with analytics_reads():
        markets, rows = _comparison(scope, markets, export_purposes("insights-console:pdf"))
        html = render_to_string("insights/report.html", {"program": scope.program, "markets": markets,
                                                         "rows": rows, "now": facts_as_of(scope.program)},
                                request=request)
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{scope.program.slug}-kpis.pdf"'
    return response
