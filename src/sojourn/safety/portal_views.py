"""The "report a side effect" pages: the patient's (what happened, and since when) and an enrolled
doctor's (about a patient of theirs, who may not be in the program). Every report goes to the safety
officer's queue at once, whatever words it uses, with its day zero the moment it arrived."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.consent.hcp_views import hcp_actor, signed_in_hcp
from sojourn.consent.portal import market_locale, patient_actor, signed_in_patient
from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail
from sojourn.core.views import shown_on_page
from sojourn.people.models import Hcp, Patient
from sojourn.safety.models import FollowUp
from sojourn.safety.queries import questions_for
from sojourn.safety.services import MAX_REPORT, answer_in_writing, report_by_doctor, report_side_effect

SENT = "safety_report_sent"  # the session remembers a sent report for the thank-you page
ANSWERED = "safety_answer_sent"  # and an answer to drug safety's question, for the notice that says so


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    patient = signed_in_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    market_locale(request, patient.market, preference=patient.locale)
    form = {k: request.POST.get(k, "") for k in ("text", "onset", "token")}
    problems: list[ErrorDetail] = []
    if request.method == "POST":
        onset = None
        if form["onset"]:
            try:
                onset = date.fromisoformat(form["onset"])
            except ValueError:
                problems.append(ErrorDetail(_("Give the day as a date."), field="onset"))
        if not problems:
            with shown_on_page() as refusal:
                report_side_effect(actor=patient_actor(patient), patient=patient, text=form["text"], onset=onset,
                                   token=form["token"], at=timezone.now())
                request.session[SENT] = True
                return redirect("safety-portal:sent")
            problems = refusal.problems
    return _page(request, "safety/portal/report.html", patient, form, problems)


def sent(request: HttpRequest) -> HttpResponse:
    patient = signed_in_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    market_locale(request, patient.market, preference=patient.locale)
    if not request.session.pop(SENT, False):
        return redirect("safety-portal:report")
    return render(request, "safety/portal/sent.html", {"patient": patient})


@require_http_methods(["GET", "POST"])
def doctor_report(request: HttpRequest) -> HttpResponse:
    hcp = signed_in_hcp(request)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    form = {k: request.POST.get(k, "").strip() for k in ("text", "product", "onset", "age", "sex", "token")}
    problems: list[ErrorDetail] = []
    if request.method == "POST":
        onset = age = None
        if form["onset"]:
            try:
                onset = date.fromisoformat(form["onset"])
            except ValueError:
                problems.append(ErrorDetail(_("Give the day as a date."), field="onset"))
        if form["age"]:
            try:
                age = int(form["age"])
            except ValueError:
                problems.append(ErrorDetail(_("Give the age in years, from 0 to 120."), field="age"))
        if not problems:
            with shown_on_page() as refusal:
                report_by_doctor(actor=hcp_actor(hcp), hcp=hcp, text=form["text"], product=form["product"],
                                 onset=onset, age=age, sex=form["sex"], token=form["token"], at=timezone.now())
                request.session[SENT] = True
                return redirect("safety-hcp:sent")
            problems = refusal.problems
    return _page(request, "safety/portal/doctor_report.html", hcp, form, problems)


def doctor_sent(request: HttpRequest) -> HttpResponse:
    hcp = signed_in_hcp(request)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    if not request.session.pop(SENT, False):
        return redirect("safety-hcp:report")
    return render(request, "safety/portal/doctor_sent.html", {"hcp": hcp})


@require_http_methods(["POST"])
def answer(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """The patient answers drug safety's question on their page."""
    patient = signed_in_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    market_locale(request, patient.market, preference=patient.locale)
    return _answer(request, patient, patient_actor(patient), follow_up_id, "safety/portal/report.html",
                   "safety-portal:report")


@require_http_methods(["POST"])
def doctor_answer(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """The doctor answers drug safety's question about their report on their page."""
    hcp = signed_in_hcp(request)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    return _answer(request, hcp, hcp_actor(hcp), follow_up_id, "safety/portal/doctor_report.html",
                   "safety-hcp:report")


def _answer(request: HttpRequest, subject: Patient | Hcp, actor: Actor, follow_up_id: int, template: str,
            page: str) -> HttpResponse:
    with shown_on_page() as refusal:
        answer_in_writing(actor=actor, follow_up=FollowUp(pk=follow_up_id), subject=subject,
                          text=request.POST.get("answer", ""), at=timezone.now())
        request.session[ANSWERED] = True
        return redirect(page)
    return _page(request, template, subject, {}, [], answering=(follow_up_id, refusal.problems))


def _page(request: HttpRequest, template: str, subject: Patient | Hcp, form: dict[str, str],
          problems: list[ErrorDetail], answering: tuple[int, list[ErrorDetail]] | None = None) -> HttpResponse:
    """A report page (the patient's or the doctor's) with drug safety's open questions to answer; after
    a refused report or answer, with what was typed and each problem where it belongs."""
    if not form.get("token") or any(p.field == "token" for p in problems):
        form["token"] = uuid.uuid4().hex  # one token per form shown: a double click sends one report
    refused_id, refused = answering or (None, [])
    return render(request, template, {
        "patient" if isinstance(subject, Patient) else "hcp": subject, "form": form, "problems": problems,
        "max_length": MAX_REPORT, "errors": {p.field: p.message for p in problems},
        "today": timezone.localdate().isoformat(), "questions": [
            # Due at the end of a day where the person lives: that day is the one to answer by.
            {"q": q, "by": (q.due_at - timedelta(microseconds=1)).astimezone(ZoneInfo(subject.time_zone)).date()}
            for q in questions_for(subject)],
        "answered": request.session.pop(ANSWERED, False), "refused_id": refused_id, "refused": refused,
        "typed": request.POST.get("answer", "") if answering else "",
        "answer_url": "safety-portal:answer" if isinstance(subject, Patient) else "safety-hcp:answer"},
        status=422 if problems or refused else 200)
