"""The safety officer's console: the queue by the clock that runs out first, an intake's decision, and
a case's page (its intakes, seriousness, forwarding, nullification)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sojourn.core.errors import ErrorDetail, NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope
from sojourn.safety.models import Case
from sojourn.safety.queries import (
    access_case,
    access_intake,
    cases_of_patient,
    clock_state,
    recent_cases,
    safety_queue,
)
from sojourn.safety.questions import QUESTIONS
from sojourn.safety.reconciliation import DISCREPANCIES, reconcile
from sojourn.safety.services import (
    assess_seriousness,
    decide_intake,
    export_reconciliation,
    forward_case,
    nullify_case,
    read_intake_words,
)

NOT_AE = "not_ae"
RECENT = timedelta(days=30)
KINDS = {Case.Kind.ADVERSE_EVENT: gettext_lazy("adverse event"),
         Case.Kind.SPECIAL_SITUATION: gettext_lazy("special situation"),
         Case.Kind.PRODUCT_COMPLAINT: gettext_lazy("product complaint")}


def _scope(request: HttpRequest) -> tuple[Program, str | None]:
    """The console's program, and its market when the officer manages safety there (else every market
    they manage: the console's market may be one they see but do not manage)."""
    scope = console_scope(request)
    if scope.program is None or request.actor.markets_in(Permission.SAFETY_MANAGE, scope.program.pk) == frozenset():
        raise NotFound()
    market = scope.market.country if scope.market else None
    if market and not request.actor.can(Permission.SAFETY_MANAGE, scope.program.pk, market):
        market = None
    return scope.program, market


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    program, market = _scope(request)
    now = timezone.now()
    items = safety_queue(request.actor, program, market=market)
    rows = [{"item": i, "state": i.state(now), "due": timezone.localtime(i.due_at),
             "day_zero": timezone.localtime(i.day_zero)} for i in items]
    recent = recent_cases(request.actor, program, market=market, since=now - RECENT)
    return render(request, "safety/queue.html", {"rows": rows, "kinds": KINDS, "recent": recent})


@login_required
def intake_page(request: HttpRequest, intake_id: int) -> HttpResponse:
    intake = access_intake(request.actor, intake_id)
    problems = []
    form = {k: request.POST.get(k, "") for k in ("kind", "reason", "follow_up_of")}
    if request.method == "POST":
        follow_up = next((c for c in cases_of_patient(intake) if c.number == form["follow_up_of"]), None)
        with shown_on_page() as refusal:
            if form["follow_up_of"] and follow_up is None:
                raise NotFound()
            decided = decide_intake(actor=request.actor, intake=intake,
                                    kind=None if form["kind"] == NOT_AE else form["kind"], reason=form["reason"],
                                    at=timezone.now(), follow_up_of=follow_up)
            messages.success(request, _("The decision is recorded."))
            return redirect("safety-console:case", decided.case.number) if decided.case else \
                redirect("safety-console:queue")
        problems = refusal.problems
    kinds = [*KINDS.items(), (NOT_AE, _("not an adverse event"))]
    words = read_intake_words(actor=request.actor, intake=intake) if intake.words_sealed else None
    return render(request, "safety/intake.html", {
        "intake": intake, "words": words, "cases": cases_of_patient(intake), "kinds": kinds, "form": form,
        "answers": [QUESTIONS[q] for q in intake.detail.get("answers") or () if q in QUESTIONS],
        "problems": problems,
        "state": clock_state(intake.due_at, timezone.now()) if intake.status == intake.Status.OPEN else ""},
        status=422 if problems else 200)


@login_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case = access_case(request.actor, number)
    problems = []
    if request.method == "POST":
        action, now = request.POST.get("action", ""), timezone.now()
        with shown_on_page() as refusal:
            if action == "assess":
                assess_seriousness(actor=request.actor, case=case, serious=request.POST.get("serious") == "yes",
                                   at=now)
            elif action == "forward":
                forward_case(actor=request.actor, case=case, at=now)
            elif action == "nullify":
                nullify_case(actor=request.actor, case=case, reason=request.POST.get("reason", ""), at=now)
            else:
                raise NotFound()
            messages.success(request, _("The case is updated."))
            return redirect("safety-console:case", case.number)
        problems = refusal.problems
    return render(request, "safety/case.html", {
        "case": case, "intakes": case.intakes.order_by("day_zero", "pk"), "problems": problems,
        "forwardings": case.forwardings.order_by("version"),
        "kinds": KINDS,
        "state": clock_state(case.forward_due_at, timezone.now()) if case.status == Case.Status.OPEN else ""},
        status=422 if problems else 200)


@login_required
def reconciliation_page(request: HttpRequest) -> HttpResponse:
    """A month's reconciliation per market, on the page and as CSV or PDF (?format=csv|pdf)."""
    program, market = _scope(request)
    now = timezone.now()
    chosen = request.GET.get("month", "") or timezone.localdate().strftime("%Y-%m")
    try:
        month = datetime.strptime(chosen, "%Y-%m").date()
    except ValueError:
        month, chosen = None, timezone.localdate().strftime("%Y-%m")
    fmt = request.GET.get("format", "")
    if month is not None and fmt:
        with shown_on_page() as refusal:
            content, name, media = export_reconciliation(
                actor=request.actor, program=program, month=month, fmt=fmt, at=now, market=market,
                language=getattr(request, "LANGUAGE_CODE", "en"))
            response = HttpResponse(content, content_type=media)
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return render(request, "safety/reconciliation_page.html", {"problems": refusal.problems, "month": chosen},
                      status=422)
    if month is None:
        return render(request, "safety/reconciliation_page.html", {
            "problems": [ErrorDetail(_("Give the month as YYYY-MM."), field="month")], "month": chosen},
            status=422)
    report = reconcile(request.actor, program, month, now, market=market)
    return render(request, "safety/reconciliation_page.html", {
        "report": report, "month": chosen,
        "discrepancies": [(line, DISCREPANCIES[line.discrepancy]) for line in report.discrepancies]})
