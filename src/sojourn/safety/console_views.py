"""The safety officer's console: the queue by the clock that runs out first, an intake's decision, and
a case's page (its intakes, assessment, forwarding with each version's E2B file, nullification)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sojourn.core.errors import ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope
from sojourn.safety.models import Case, Term
from sojourn.safety.queries import (
    access_case,
    access_intake,
    cases_of_patient,
    clock_state,
    latest_terms,
    open_follow_ups,
    recent_cases,
    safety_queue,
    screening_queue,
)
from sojourn.safety.questions import QUESTIONS
from sojourn.safety.reconciliation import DISCREPANCIES, reconcile
from sojourn.safety.services import (
    MAX_REACTIONS,
    OUTCOMES,
    ReactionIn,
    assess_case,
    clear_screenings,
    close_follow_up,
    decide_intake,
    export_reconciliation,
    export_versions,
    forward_case,
    mark_duplicate,
    nullify_case,
    raise_intake,
    read_intake_words,
    read_narrative,
    read_screening_words,
    request_follow_up,
)

NOT_AE = "not_ae"
DUPLICATE = "duplicate"
RECENT = timedelta(days=30)
SCREEN_PAGE = 50  # messages read on one page: each opening is audited
KINDS = {Case.Kind.ADVERSE_EVENT: gettext_lazy("adverse event"),
         Case.Kind.SPECIAL_SITUATION: gettext_lazy("special situation"),
         Case.Kind.PRODUCT_COMPLAINT: gettext_lazy("product complaint")}
# The assessment's choices, keyed as assess_case names them (ICH E2A criteria, E2B E.i.7 outcomes).
CRITERIA = {"death": gettext_lazy("results in death"),
            "life_threatening": gettext_lazy("life-threatening"),
            "hospitalisation": gettext_lazy("hospitalisation (initial or prolonged)"),
            "disabling": gettext_lazy("persistent or significant disability"),
            "congenital_anomaly": gettext_lazy("congenital anomaly or birth defect"),
            "other_medically_important": gettext_lazy("other medically important condition")}
OUTCOME_LABELS = {"unknown": gettext_lazy("unknown"), "recovered": gettext_lazy("recovered"),
                  "recovering": gettext_lazy("recovering"), "not_recovered": gettext_lazy("not recovered"),
                  "recovered_with_sequelae": gettext_lazy("recovered with sequelae"), "fatal": gettext_lazy("fatal")}
OUTCOME_NAMES = {value: name for name, value in OUTCOMES.items()}
CAUSALITY = {"related": gettext_lazy("related"), "not_related": gettext_lazy("not related"),
             "unknown": gettext_lazy("unknown")}
EXPECTEDNESS = {"expected": gettext_lazy("expected"), "unexpected": gettext_lazy("unexpected"),
                "unknown": gettext_lazy("unknown")}
ROWS = 5  # event rows the form offers; a case assessed through the API may hold more
MAX_DATALIST = 2000  # a longer term list would make the page heavy: the code is typed instead
REACTION_FIELD = re.compile(r"reactions\.(\d+)\.(\w+)")


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
    follow_ups = [{"follow_up": f, "state": clock_state(f.due_at, now)}
                  for f in open_follow_ups(request.actor, program, market=market)]
    return render(request, "safety/queue.html", {"rows": rows, "kinds": KINDS, "recent": recent,
                                                 "follow_ups": follow_ups,
                                                 "to_screen": len(screening_queue(request.actor, program,
                                                                                  market=market))})


@login_required
def screening_page(request: HttpRequest) -> HttpResponse:
    """The messages the term lists did not flag, each to read: no adverse event (ticked, all at once), or
    a possible one, which becomes an intake."""
    program, market = _scope(request)
    now = timezone.now()
    waiting = screening_queue(request.actor, program, market=market)
    problems: list[ErrorDetail] = []
    if request.method == "POST":
        chosen = {str(s.pk): s for s in waiting}
        with shown_on_page() as refusal:
            if request.POST.get("action") == "raise":
                screening = chosen.get(request.POST.get("screening", ""))
                if screening is None:
                    raise NotFound()
                intake = raise_intake(actor=request.actor, screening=screening, at=now)
                return redirect("safety-console:intake", intake.pk)
            picked = [chosen[k] for k in request.POST.getlist("screening") if k in chosen]
            if not picked:
                raise InvalidInput(_("Tick the messages you read and found no adverse event in."),
                                   field="screening")
            count = clear_screenings(actor=request.actor, screenings=picked, at=now)
            messages.success(request, _("Messages screened, no adverse event in them: %(n)d.") % {"n": count})
            return redirect("safety-console:screening")
        problems = refusal.problems
    rows = [{"screening": s, "state": clock_state(s.due_at, now),
             "words": read_screening_words(actor=request.actor, screening=s)} for s in waiting[:SCREEN_PAGE]]
    return render(request, "safety/screening.html", {"rows": rows, "more": max(0, len(waiting) - SCREEN_PAGE),
                                                     "problems": problems}, status=422 if problems else 200)


@login_required
def intake_page(request: HttpRequest, intake_id: int) -> HttpResponse:
    intake = access_intake(request.actor, intake_id)
    problems = []
    form = {k: request.POST.get(k, "") for k in ("kind", "reason", "follow_up_of")}
    if request.method != "POST" and intake.detail.get("case"):  # the answer to a follow-up question
        form["follow_up_of"] = intake.detail["case"]
    if request.method == "POST":
        follow_up = next((c for c in cases_of_patient(intake) if c.number == form["follow_up_of"]), None)
        with shown_on_page() as refusal:
            if form["follow_up_of"] and follow_up is None:
                raise NotFound()
            if form["kind"] == DUPLICATE:
                if follow_up is None:
                    raise InvalidInput(_("Choose the case this report repeats."), field="follow_up_of")
                decided = mark_duplicate(actor=request.actor, intake=intake, case=follow_up, reason=form["reason"],
                                         at=timezone.now())
            else:
                decided = decide_intake(actor=request.actor, intake=intake,
                                        kind=None if form["kind"] == NOT_AE else form["kind"], reason=form["reason"],
                                        at=timezone.now(), follow_up_of=follow_up)
            messages.success(request, _("The decision is recorded."))
            return redirect("safety-console:case", decided.case.number) if decided.case else \
                redirect("safety-console:queue")
        problems = refusal.problems
    cases = cases_of_patient(intake)
    kinds = [*KINDS.items(), *([(DUPLICATE, _("the same report as the case chosen below"))] if cases else []),
             (NOT_AE, _("not an adverse event"))]
    words = read_intake_words(actor=request.actor, intake=intake) if intake.words_sealed else None
    return render(request, "safety/intake.html", {
        "intake": intake, "words": words, "cases": cases, "kinds": kinds, "form": form,
        "answers": [QUESTIONS[q] for q in intake.detail.get("answers") or () if q in QUESTIONS],
        "problems": problems,
        "state": clock_state(intake.due_at, timezone.now()) if intake.status == intake.Status.OPEN else ""},
        status=422 if problems else 200)


@dataclass
class EventRow:
    """One event row of the assessment form, as shown or as typed, with its problems by field."""

    index: int
    verbatim: str = ""
    meddra_code: str = ""
    onset: str = ""
    outcome: str = "unknown"
    seriousness: tuple[str, ...] = ()
    causality: str = "unknown"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not self.verbatim.strip() and not self.meddra_code.strip()


@login_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case = access_case(request.actor, number)
    if request.method != "POST":
        return _case_page(request, case)
    action, now = request.POST.get("action", ""), timezone.now()
    rows = _posted_rows(request.POST) if action == "assess" else None
    form = {k: request.POST.get(k, "") for k in ("suspect_product", "expectedness", "narrative", "amendment")}
    with shown_on_page() as refusal:
        if action == "assess" and rows is not None:
            assess_case(actor=request.actor, case=case, reactions=_reactions(rows),
                        suspect_product=form["suspect_product"], expectedness=form["expectedness"],
                        narrative=form["narrative"], at=now, reason=form["amendment"])
        elif action == "forward":
            forward_case(actor=request.actor, case=case, at=now)
        elif action == "nullify":
            nullify_case(actor=request.actor, case=case, reason=request.POST.get("reason", ""), at=now)
        elif action == "close_follow_up":
            follow_up = next((f for f in case.follow_ups.all() if str(f.pk) == request.POST.get("follow_up")), None)
            if follow_up is None:
                raise NotFound()
            close_follow_up(actor=request.actor, follow_up=follow_up, reason=request.POST.get("reason", ""), at=now)
        elif action == "follow_up":
            request_follow_up(actor=request.actor, case=case, question=request.POST.get("question", ""),
                              due_at=_end_of_day(request.POST.get("due", ""), case.subject.time_zone), at=now,
                              channel=request.POST.get("channel", "call"))
        else:
            raise NotFound()
        messages.success(request, _("The case is updated."))
        return redirect("safety-console:case", case.number)
    problems = refusal.problems
    # The assessment's reason is the amendment's, a closing's the question's: apart from the nullification's.
    own = {"assess": "amendment", "close_follow_up": "close_reason"}.get(action)
    if own:
        problems = [ErrorDetail(p.message, field=own if p.field == "reason" else p.field) for p in problems]
    return _case_page(request, case, problems=problems, rows=rows, form=form if rows is not None else None)


@login_required
def e2b_file(request: HttpRequest, number: str, version: int) -> HttpResponse:
    """A forwarded version as drug safety received it, as an E2B(R3) ICSR, checked before it leaves."""
    case = access_case(request.actor, number)
    if not case.forwardings.filter(version=version).exists():
        raise NotFound()
    with shown_on_page() as refusal:
        [(name, content)] = export_versions(actor=request.actor, program=case.program, fmt="e2b",
                                            numbers=[case.number], version=version, at=timezone.now())
        response = HttpResponse(content, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return _case_page(request, case, problems=refusal.problems)


@login_required
def line_list(request: HttpRequest) -> HttpResponse:
    """The PV line list (CSV) of every forwarded version in the console's program and market."""
    program, market = _scope(request)
    numbers = None if market is None else list(
        Case.objects.filter(program=program, market__country=market, forwardings__isnull=False)
        .values_list("number", flat=True).distinct())
    with shown_on_page(request=request):
        name, content = export_versions(actor=request.actor, program=program, fmt="csv", numbers=numbers,
                                        at=timezone.now())[0]
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return redirect("safety-console:queue")


def _end_of_day(value: str, zone: str) -> datetime | None:
    """A due date as the form gives it, meaning the end of that day where the patient lives."""
    try:
        return datetime.combine(date.fromisoformat(value) + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    except (ValueError, OverflowError):  # not a date, or the last day there is
        raise InvalidInput(_("Give the day as a date."), field="due_at") from None


def _case_page(request: HttpRequest, case: Case, *, problems: list[ErrorDetail] | None = None,
               rows: list[EventRow] | None = None, form: dict[str, str] | None = None) -> HttpResponse:
    """The case page; after a refused assessment, with what was typed and each problem by its field."""
    problems = problems or []
    reactions = list(case.reactions.order_by("position"))
    if rows is None:
        rows = [EventRow(i, verbatim=r.verbatim, meddra_code=r.meddra_code,
                         onset=r.onset.isoformat() if r.onset else "", outcome=OUTCOME_NAMES.get(r.outcome, "unknown"),
                         seriousness=tuple(r.seriousness), causality=r.causality) for i, r in enumerate(reactions)]
        rows += [EventRow(i) for i in range(len(rows), ROWS)]
    if form is None:
        narrative = read_narrative(actor=request.actor, case=case) if case.assessed_at else None
        form = {"suspect_product": case.suspect_product, "expectedness": case.expectedness,
                "narrative": narrative or "", "amendment": case.amendment_reason}
    errors = _place_problems(problems, rows)
    names = dict(((t.version, t.code), t.name) for t in Term.objects.filter(
        program_id=case.program_id, code__in={r.meddra_code for r in reactions if r.meddra_code}))
    events = [{"verbatim": r.verbatim, "code": r.meddra_code, "version": r.meddra_version,
               "term": names.get((r.meddra_version, r.meddra_code), ""), "onset": r.onset,
               "outcome": OUTCOME_LABELS[OUTCOME_NAMES.get(r.outcome, "unknown")],
               "criteria": [CRITERIA[c] for c in r.seriousness if c in CRITERIA],
               "causality": CAUSALITY.get(r.causality, r.causality)} for r in reactions]
    return render(request, "safety/case.html", {
        "case": case, "intakes": case.intakes.order_by("day_zero", "pk"), "problems": problems,
        "forwardings": case.forwardings.order_by("version"),
        "follow_ups": case.follow_ups.select_related("intake").order_by("asked_at", "pk"), "now": timezone.now(),
        "follow_up_form": {k: request.POST.get(k, "") for k in ("question", "due", "channel")},
        "kinds": KINDS, "events": events, "rows": rows, "form": form, "errors": errors,
        "terms": _datalist(case.program_id), "criteria": CRITERIA, "outcomes": OUTCOME_LABELS,
        "causalities": CAUSALITY, "expectedness": EXPECTEDNESS,
        "expectedness_shown": EXPECTEDNESS.get(case.expectedness, ""),
        "state": clock_state(case.forward_due_at, timezone.now()) if case.status == Case.Status.OPEN else ""},
        status=422 if problems else 200)


def _posted_rows(data: QueryDict) -> list[EventRow]:
    try:
        count = int(data.get("rows", ROWS))
    except ValueError:
        count = ROWS
    return [EventRow(i, verbatim=data.get(f"reactions.{i}.verbatim", ""),
                     # the term list offers "code — name"; the code is what counts
                     meddra_code=data.get(f"reactions.{i}.meddra_code", "").split("—")[0].strip(),
                     onset=data.get(f"reactions.{i}.onset", "").strip(),
                     outcome=data.get(f"reactions.{i}.outcome", "unknown"),
                     seriousness=tuple(data.getlist(f"reactions.{i}.seriousness")),
                     causality=data.get(f"reactions.{i}.causality", "unknown"))
            for i in range(min(max(count, ROWS), MAX_REACTIONS))]


def _reactions(rows: list[EventRow]) -> list[ReactionIn]:
    """The rows that name an event, numbered as assess_case numbers them (blank rows left out)."""
    reactions, problems = [], []
    for i, row in enumerate(r for r in rows if not r.blank):
        onset = None
        if row.onset:
            try:
                onset = date.fromisoformat(row.onset)
            except ValueError:
                problems.append(ErrorDetail(_("Give the day as a date."), field=f"reactions.{i}.onset"))
        reactions.append(ReactionIn(verbatim=row.verbatim, meddra_code=row.meddra_code, onset=onset,
                                    outcome=row.outcome, seriousness=row.seriousness, causality=row.causality))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return reactions


def _place_problems(problems: list[ErrorDetail], rows: list[EventRow]) -> dict[str, str]:
    """Put each event's problem on its row (the service counts only rows naming an event); return the rest
    by field."""
    used = [r for r in rows if not r.blank]
    rest: dict[str, str] = {}
    for problem in problems:
        found = REACTION_FIELD.fullmatch(problem.field or "")
        if found and int(found[1]) < len(used):
            used[int(found[1])].errors.setdefault(found[2], problem.message)
        else:
            rest.setdefault(problem.field or "", problem.message)
    return rest


def _datalist(program_id: int) -> list[tuple[str, str]]:
    """The program's latest term list (code, name) to pick from; none when there is none or it is long."""
    latest = latest_terms(program_id)
    if latest is None or len(latest[1]) > MAX_DATALIST:
        return []
    return sorted(latest[1].items(), key=lambda term: (term[1], term[0]))


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
