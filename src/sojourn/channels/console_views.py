"""The nurse queue in the console: calls by due time with their SLA colour; a call's page with the
patient's context, the approved call script and the outcome form."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sojourn.channels.models import NurseTask
from sojourn.channels.queries import call_context, call_reason, nurse_queue, sla_colour
from sojourn.channels.services.nurse import access_task, claim_task, complete_call, release_task
from sojourn.core.errors import ErrorDetail, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope
from sojourn.people.services.patients import read_patient_identity
from sojourn.safety.questions import QUESTIONS


def _name(request: HttpRequest) -> str:
    return getattr(request.user, "get_full_name", lambda: "")() or str(request.user)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None or request.actor.markets_in(Permission.NURSE_QUEUE, scope.program.pk) == frozenset():
        raise NotFound()
    now = timezone.now()
    mine = request.GET.get("mine") == "1"
    tasks = list(nurse_queue(request.actor, scope.program, market=scope.market.country if scope.market else "",
                             mine=mine)[:200])
    language = getattr(request, "LANGUAGE_CODE", "en")
    # An urgent flag's reason in the nurse's language (a rule's reason is the rule's own words).
    rows = [{"task": t, "sla": sla_colour(t, now), "local": timezone.localtime(t.due_at),
             "reason": call_reason(t, language).reason if t.urgent else t.reason} for t in tasks]
    return render(request, "channels/nurse_queue.html", {"rows": rows, "mine": mine, "now": now})


@login_required
def task_page(request: HttpRequest, task_id: int) -> HttpResponse:
    task = access_task(request.actor, task_id)
    now = timezone.now()
    problems: list[ErrorDetail] = []
    if request.method == "POST":
        when = request.POST.get("call_back_at", "")
        call_back = None
        if when:
            try:
                call_back = timezone.make_aware(datetime.fromisoformat(when), timezone.get_current_timezone())
            except ValueError:
                problems.append(ErrorDetail(_("Give the time as date and time."), field="call_back_at"))
        if not problems:
            with shown_on_page() as refusal:
                complete_call(actor=request.actor, task=task, outcome=request.POST.get("outcome", ""),
                              notes=request.POST.get("notes", ""), call_back_at=call_back,
                              safety={q: request.POST.get(f"safety_{q}", "") for q in QUESTIONS})
                messages.success(request, _("The call is recorded."))
                return redirect("nurse-console:queue")
            problems = refusal.problems
    identity = None
    if task.status == NurseTask.Status.CLAIMED and task.claimed_by_id == request.actor.user_id:
        # The name and number are opened (and the read audited) only for the nurse making the call.
        identity = read_patient_identity(actor=request.actor, patient=task.patient, purpose=f"nurse call {task.pk}")
    language = getattr(request, "LANGUAGE_CODE", "en")
    return render(request, "channels/nurse_task.html", {
        "task": task, "sla": sla_colour(task, now), "context": call_context(task, now, language),
        "identity": identity, "problems": problems, "outcomes": NurseTask.Outcome.choices,
        "questions": [(q, label, request.POST.get(f"safety_{q}", "")) for q, label in QUESTIONS.items()],
        "form": {k: request.POST.get(k, "") for k in ("outcome", "call_back_at", "notes")}},
        status=422 if problems else 200)


@login_required
@require_POST
def take(request: HttpRequest, task_id: int) -> HttpResponse:
    task = access_task(request.actor, task_id)
    with shown_on_page(request=request):
        if request.POST.get("step") == "release":
            release_task(actor=request.actor, task=task)
            messages.success(request, _("The call is back in the queue."))
            return redirect("nurse-console:queue")
        claim_task(actor=request.actor, task=task, name=_name(request))
        return redirect("nurse-console:task", task_id=task_id)
    return redirect("nurse-console:queue")
