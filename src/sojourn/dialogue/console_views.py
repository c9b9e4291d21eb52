"""Console pages for dialogue rules (write, check while typing, diff, review, dry run), the agenda and
outbox monitors, and a patient's timeline of events and decisions."""

from __future__ import annotations

import difflib
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sojourn.core.errors import NotFound
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.dialogue import presenting, queries
from sojourn.dialogue.models import RuleSet, RuleSetVersion
from sojourn.dialogue.rules import RuleProblem
from sojourn.dialogue.services.dry_run import dry_run
from sojourn.dialogue.services.rulesets import (
    approve,
    check_rules,
    create_rule_set,
    retire,
    return_to_draft,
    save_draft,
    submit_for_review,
)
from sojourn.people.console import console_scope
from sojourn.people.queries import access_patient

MAX_RULES_TEXT = 200_000


def _may_see_rules(request: HttpRequest, program_id: int) -> bool:
    actor = request.actor  # type: ignore[attr-defined]
    return actor.can(Permission.RULES_EDIT, program_id) or actor.can(Permission.RULES_REVIEW, program_id)


@login_required
def rule_sets(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None or not _may_see_rules(request, scope.program.pk):
        raise NotFound()
    if request.method == "POST":
        with shown_on_page(request=request):
            created = create_rule_set(actor=request.actor, program=scope.program,
                                      name=request.POST.get("name", "").strip()[:60])
            return redirect("dialogue-console:rule-set", name=created.name)
    return render(request, "dialogue/rule_sets.html", {
        "rule_sets": RuleSet.objects.filter(program=scope.program).prefetch_related("versions").order_by("name"),
        "may_edit": request.actor.can(Permission.RULES_EDIT, scope.program.pk)})


def _parse(text: str) -> tuple[Any, list[RuleProblem]]:
    if len(text) > MAX_RULES_TEXT:
        return None, [RuleProblem("rules", _("The rules are longer than %(n)d characters.") % {"n": MAX_RULES_TEXT})]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as error:
        return None, [RuleProblem("rules", error.msg, error.lineno, error.colno)]
    except RecursionError:
        return None, [RuleProblem("rules", _("The rules are nested too deeply."))]


@login_required
def rule_set(request: HttpRequest, name: str) -> HttpResponse:
    scope = console_scope(request)
    found = RuleSet.objects.filter(program=scope.program, name=name).first() if scope.program else None
    if found is None or not _may_see_rules(request, found.program_id):
        raise NotFound()
    versions = list(found.versions.order_by("-number"))
    shown = versions[0] if versions else None
    text = json.dumps(shown.rules, indent=2, ensure_ascii=False) if shown else "[]"
    problems: list[RuleProblem] = []
    if request.method == "POST":
        text = request.POST.get("rules", "")
        rules, problems = _parse(text)
        if not problems:
            with shown_on_page() as refusal:
                save_draft(actor=request.actor, rule_set=found, rules=rules)
                messages.success(request, _("The draft is saved."))
                return redirect("dialogue-console:rule-set", name=name)
            problems = [RuleProblem(p.field or "", p.message, p.line, p.column) for p in refusal.problems]
    diff = ""
    wanted = request.GET.get("diff", "")
    if wanted.isdigit():
        newer = next((v for v in versions if v.number == int(wanted)), None)
        older = next((v for v in versions if v.number < int(wanted)), None)
        if newer is not None:
            diff = "\n".join(difflib.unified_diff(
                json.dumps(older.rules if older else [], indent=2, ensure_ascii=False).splitlines(),
                json.dumps(newer.rules, indent=2, ensure_ascii=False).splitlines(),
                f"v{older.number}" if older else "(none)", f"v{newer.number}", lineterm=""))
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "dialogue/rule_set.html", {
        "rule_set": found, "versions": versions, "text": text, "problems": problems, "diff": diff,
        "may_edit": actor.can(Permission.RULES_EDIT, found.program_id),
        "may_review": actor.can(Permission.RULES_REVIEW, found.program_id)}, status=422 if problems else 200)


@login_required
@require_POST
def check(request: HttpRequest, name: str) -> HttpResponse:
    """Live validation while typing (htmx): the problems of the text in the editor, written nowhere."""
    scope = console_scope(request)
    found = RuleSet.objects.filter(program=scope.program, name=name).first() if scope.program else None
    if found is None or not _may_see_rules(request, found.program_id):
        raise NotFound()
    rules, problems = _parse(request.POST.get("rules", ""))
    if not problems:
        problems = check_rules(found.program, rules)
    return render(request, "dialogue/_problems.html", {"problems": problems, "checked": True})


@login_required
@require_POST
def review(request: HttpRequest, name: str, number: int) -> HttpResponse:
    scope = console_scope(request)
    version = RuleSetVersion.objects.filter(rule_set__program=scope.program, rule_set__name=name, number=number) \
        .select_related("rule_set__program").first() if scope.program else None
    if version is None or not _may_see_rules(request, version.rule_set.program_id):
        raise NotFound()
    step = request.POST.get("step", "")
    done = {"submit": _("Submitted for review."), "approve": _("The version is live."),
            "return": _("Returned to the author."), "retire": _("The version is retired.")}
    if step not in done:
        raise NotFound()
    with shown_on_page(request=request):
        if step == "submit":
            submit_for_review(actor=request.actor, version=version)
        elif step == "approve":
            approve(actor=request.actor, version=version)
        elif step == "return":
            return_to_draft(actor=request.actor, version=version, comment=request.POST.get("comment", ""))
        else:
            retire(actor=request.actor, version=version)
        messages.success(request, done[step])
    return redirect("dialogue-console:rule-set", name=name)


@login_required
def dry_run_page(request: HttpRequest, name: str, number: int) -> HttpResponse:
    scope = console_scope(request)
    version = RuleSetVersion.objects.filter(rule_set__program=scope.program, rule_set__name=name, number=number) \
        .select_related("rule_set").first() if scope.program else None
    if version is None or not _may_see_rules(request, version.rule_set.program_id):
        raise NotFound()
    days = request.GET.get("days", "30")
    report = None
    with shown_on_page() as refusal:
        report = dry_run(actor=request.actor, version=version, days=int(days) if days.isdigit() else 0)
    error = refusal.message
    shown = {} if report is None else {
        "rules": presenting.rule_lines(report, request.actor, version.rule_set.program_id),
        "reasons": presenting.reason_lines(report.skipped_because), "markets": report.by_market.most_common(),
        "channels": presenting.channel_lines(report), "by_day": presenting.day_lines(report)}
    return render(request, "dialogue/dry_run.html", {"version": version, "report": report, "error": error,
                                                     "days": days, **shown}, status=422 if error else 200)


def _monitor_scope(request: HttpRequest) -> Any:
    scope = console_scope(request)
    if scope.program is None or not (_may_see_rules(request, scope.program.pk) or request.actor.can(
            Permission.PROGRAM_MANAGE, scope.program.pk)):
        return None
    return scope


@login_required
def agenda(request: HttpRequest) -> HttpResponse:
    scope = _monitor_scope(request)
    if scope is None:
        raise NotFound()
    status, rule = request.GET.get("status", ""), request.GET.get("rule", "")[:60]
    counts, rows = queries.agenda_monitor(request.actor, scope.program, status=status, rule=rule)
    counted = [(s, counts.get(s, 0)) for s in queries.QUEUE_STATUSES]
    return render(request, "dialogue/agenda.html", {"counts": counted, "rows": rows, "status": status, "rule": rule,
                                                    "statuses": queries.QUEUE_STATUSES})


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    scope = _monitor_scope(request)
    if scope is None:
        raise NotFound()
    status, channel = request.GET.get("status", ""), request.GET.get("channel", "")[:10]
    counts, rows = queries.outbox_monitor(request.actor, scope.program, status=status, channel=channel)
    counted = [(s, counts.get(s, 0)) for s in queries.QUEUE_STATUSES]
    return render(request, "dialogue/outbox.html", {"counts": counted, "rows": rows, "status": status,
                                                    "channel": channel, "statuses": queries.QUEUE_STATUSES,
                                                    "channels": ["web", "email", "sms", "print", "phone"]})


@login_required
def timeline(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym)
    language = (get_language() or "en").split("-")[0]
    return render(request, "dialogue/timeline.html", {"patient": patient,
                                                      "moments": queries.timeline(patient, language=language)})
