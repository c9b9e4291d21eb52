"""The "report a side effect" pages: the patient's (what happened, and since when) and an enrolled
doctor's (about a patient of theirs, who may not be in the program). Every report goes to the safety
officer's queue at once, whatever words it uses, with its day zero the moment it arrived."""

from __future__ import annotations

import uuid
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.consent.hcp_views import hcp_actor, signed_in_hcp
from sojourn.consent.portal import market_locale, patient_actor, signed_in_patient
from sojourn.core.errors import ErrorDetail
from sojourn.core.views import shown_on_page
from sojourn.safety.services import MAX_REPORT, report_by_doctor, report_side_effect

SENT = "safety_report_sent"  # the session remembers a sent report for the thank-you page


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
    if not form["token"] or any(p.field == "token" for p in problems):
        form["token"] = uuid.uuid4().hex  # one token per form shown: a double click sends one report
    return render(request, "safety/portal/report.html", {
        "patient": patient, "form": form, "problems": problems, "max_length": MAX_REPORT,
        "errors": {p.field: p.message for p in problems}, "today": timezone.localdate().isoformat()},
        status=422 if problems else 200)


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
    if not form["token"] or any(p.field == "token" for p in problems):
        form["token"] = uuid.uuid4().hex  # one token per form shown: a double click sends one report
    return render(request, "safety/portal/doctor_report.html", {
        "hcp": hcp, "form": form, "problems": problems, "max_length": MAX_REPORT,
        "errors": {p.field: p.message for p in problems}, "today": timezone.localdate().isoformat()},
        status=422 if problems else 200)


def doctor_sent(request: HttpRequest) -> HttpResponse:
    hcp = signed_in_hcp(request)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    if not request.session.pop(SENT, False):
        return redirect("safety-hcp:report")
    return render(request, "safety/portal/doctor_sent.html", {"hcp": hcp})
