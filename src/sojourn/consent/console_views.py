"""Console pages for consent: enrollment by phone or paper, a patient's consents with their
evidence, withdrawal on the patient's behalf, and data-subject requests with their deadlines."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sojourn.consent import queries
from sojourn.consent.console_forms import (
    ConfirmErasureForm,
    DataRequestForm,
    ReadBackCodeForm,
    StaffEnrollmentForm,
    StaffWithdrawForm,
)
from sojourn.consent.forms import service_field
from sojourn.consent.models import ConsentRecord, ContactPreferences, DataSubjectRequest, ReconsentRequest
from sojourn.consent.services.dsr import (
    check_erasure_completer,
    complete_access_request,
    complete_erasure_request,
    erasure_retentions,
    open_data_subject_request,
)
from sojourn.consent.services.enrollment import Signature, enroll_patient, verify_patient
from sojourn.consent.services.receipts import read_consent_receipt, receipt_filename
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.core.errors import NotFound
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope
from sojourn.people.models import Patient
from sojourn.people.queries import access_patient


@login_required
@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest) -> HttpResponse:
    """A nurse enrolls a patient who consented on the phone or on paper."""
    scope = console_scope(request)
    if scope.program is None:
        raise NotFound()
    markets = list(markets_for(request.actor, scope.program, Permission.PATIENT_MANAGE))
    wanted = request.GET.get("market") or (scope.market.country if scope.market else "")
    market = next((m for m in markets if m.country == wanted), markets[0] if len(markets) == 1 else None)
    if market is None:
        return render(request, "consent/console/enroll_market.html", {"markets": markets},
                      status=200 if markets else 403)
    version = queries.current_version(scope.program, market, "patient")
    if version is None:
        return render(request, "consent/console/enroll_market.html",
                      {"markets": markets, "no_version": market}, status=409)
    texts = {t.locale: t for t in version.texts.all()}
    locale = request.POST.get("locale") or request.GET.get("locale") or market.default_locale
    text = texts.get(locale) or texts.get(market.default_locale) or next(iter(texts.values()))
    form = StaffEnrollmentForm(request.POST or None, market=market, version=version, text=text,
                               initial={"time_zone": market.time_zones[0], "locale": text.locale, "method": "phone"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with shown_on_page(form=form, rename=service_field):
            enrollment = enroll_patient(
                actor=request.actor, program=scope.program, market=market.country, version_id=version.pk,
                locale=data["locale"], time_zone=data["time_zone"],
                identity=form.identity(),
                answers=form.answers(),
                signature=Signature(typed_name=data["typed_name"], method=data["method"],
                                    signer_time_zone=data["time_zone"], script_version=data["script_version"],
                                    guardian_name=data["guardian_name"],
                                    guardian_relationship=data["guardian_relationship"]),
                referral_code=data["referral_code"])
            messages.success(request, _("Enrolled as %(pseudonym)s. We sent a code to the patient's email: ask "
                                        "them to read it back.") % {"pseudonym": enrollment.subject.pseudonym})
            return redirect("console-consent:patient", pseudonym=enrollment.subject.pseudonym)
    return render(request, "consent/console/enroll.html", {
        "market": market, "markets": markets, "version": version, "text": text, "texts": texts, "form": form},
        status=400 if form.errors else 200)


def _patient_context(request: HttpRequest, patient: Patient, **forms: object) -> dict[str, object]:
    records = list(ConsentRecord.objects.filter(patient=patient).select_related("version__document")
                   .prefetch_related("decisions", "version__texts").order_by("-signed_at"))
    staff = {u.pk: u for u in get_user_model().objects.filter(
        pk__in={r.recorded_by_id for r in records if r.recorded_by_id}).select_related("staff_profile")}
    rows = []
    for record in records:
        text = next((t for t in record.version.texts.all() if t.locale == record.locale), None)
        labels = text.purpose_texts if text else {}
        recorder = staff.get(record.recorded_by_id)
        rows.append({"record": record, "recorder": getattr(getattr(recorder, "staff_profile", None), "display_name",
                                                           None) or (recorder.get_username() if recorder else ""),
                     "decisions": [(d, labels.get(d.purpose, d.purpose)) for d in record.decisions.all()]})
    active = next((r for r in records if r.status == ConsentRecord.Status.ACTIVE), None)
    granted = sorted(queries.granted_purposes(patient)) if active else []
    labels = rows[0]["decisions"] if rows else []
    label_of = {d.purpose: label for d, label in labels}
    actor = request.actor
    market = patient.market.country
    may_manage = actor.can(Permission.PATIENT_MANAGE, patient.program_id, market)
    return {
        "patient": patient, "rows": rows, "active": active,
        "preferences": ContactPreferences.objects.filter(patient=patient).first(),
        "reconsent": ReconsentRequest.objects.filter(record__patient=patient, closed_at__isnull=True).first(),
        "requests": DataSubjectRequest.objects.filter(patient=patient).order_by("-received_at"),
        "may_manage": may_manage,
        "may_read_receipt": actor.can(Permission.PATIENT_READ_PII, patient.program_id, market),
        "withdraw_form": forms.get("withdraw_form") or StaffWithdrawForm(
            granted=[(p, label_of.get(p, p)) for p in granted if p != "program_participation"]),
        "code_form": forms.get("code_form") or ReadBackCodeForm(),
        "request_form": forms.get("request_form") or DataRequestForm(),
        "now": timezone.now(),
    }


@login_required
def patient_consent(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym)
    return render(request, "consent/console/patient.html", _patient_context(request, patient))


@login_required
@require_POST
def withdraw(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym, Permission.PATIENT_MANAGE)
    granted = [(p, p) for p in sorted(queries.granted_purposes(patient)) if p != "program_participation"]
    form = StaffWithdrawForm(request.POST, granted=granted)
    if form.is_valid():
        scope = form.cleaned_data["scope"]
        with shown_on_page(form=form, rename=service_field):
            withdraw_consent(actor=request.actor, patient=patient,
                             purposes=None if scope == "everything" else [scope], via=form.cleaned_data["via"],
                             reason=form.cleaned_data["reason"])
            messages.success(request, _("The withdrawal took effect at once."))
            return redirect("console-consent:patient", pseudonym=pseudonym)
    return render(request, "consent/console/patient.html", _patient_context(request, patient, withdraw_form=form),
                  status=400)


@login_required
@require_POST
def read_back_code(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym, Permission.PATIENT_MANAGE)
    form = ReadBackCodeForm(request.POST)
    if form.is_valid():
        with shown_on_page(form=form, rename=lambda _field: "code"):
            verify_patient(actor=request.actor, patient=patient, code=form.cleaned_data["code"])
            messages.success(request, _("The patient's email address is confirmed; they are active."))
            return redirect("console-consent:patient", pseudonym=pseudonym)
    return render(request, "consent/console/patient.html", _patient_context(request, patient, code_form=form),
                  status=400)


@login_required
def receipt(request: HttpRequest, record_id: int) -> HttpResponse:
    record = ConsentRecord.objects.select_related("patient__market", "patient__data_key").filter(
        pk=record_id, patient__isnull=False).first()
    if record is None:
        raise NotFound()
    access_patient(request.actor, record.patient.pseudonym)
    pdf = read_consent_receipt(actor=request.actor, record=record)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(record)}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def open_request(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym, Permission.PATIENT_MANAGE)
    form = DataRequestForm(request.POST)
    if form.is_valid():
        with shown_on_page(form=form, rename=service_field):
            found = open_data_subject_request(actor=request.actor, patient=patient, kind=form.cleaned_data["kind"],
                                              via=form.cleaned_data["via"])
            messages.success(request, _("Request recorded; it is due by %(due)s.")
                             % {"due": timezone.localtime(found.due_at).date().isoformat()})
            return redirect("console-consent:patient", pseudonym=pseudonym)
    return render(request, "consent/console/patient.html", _patient_context(request, patient, request_form=form),
                  status=400)


@login_required
def data_requests(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None or request.actor.markets_in(Permission.PATIENT_MANAGE, scope.program.pk) == frozenset():
        raise NotFound()
    status = request.GET.get("status", "open")
    status = status if status in DataSubjectRequest.Status.values else "open"
    found = queries.data_requests_for(request.actor, scope.program, status=status,
                                      market=scope.market.country if scope.market else None)[:500]
    now = timezone.now()
    rows = [{"request": r, "days_left": (r.due_at - now).days, "overdue": r.due_at < now} for r in found]
    return render(request, "consent/console/requests.html", {"rows": rows, "status": status})


@login_required
@require_POST
def complete_access(request: HttpRequest, request_id: int) -> HttpResponse:
    """Complete an access or portability request and hand over the export to send to the patient."""
    found = queries.data_request(request.actor, request_id)
    if found is None:
        raise NotFound()
    with shown_on_page(request=request) as refusal:
        result = complete_access_request(actor=request.actor, request=found)
    if refusal:
        return redirect("console-consent:requests")
    response = HttpResponse(json.dumps(result, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="data-request-{found.pk}-{found.patient.pseudonym}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def complete_erasure(request: HttpRequest, request_id: int) -> HttpResponse:
    found = queries.data_request(request.actor, request_id)
    if found is None:
        raise NotFound()
    # Who may complete it is asked before the form is shown (the service asks again on submit).
    with shown_on_page() as refusal:
        check_erasure_completer(request.actor, found)
    if refusal:
        return render(request, "consent/console/erasure_confirm.html", {"found": found, "refusal": refusal.message},
                      status=403)
    form = ConfirmErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["pseudonym"].strip() != found.patient.pseudonym:
            form.add_error("pseudonym", _("This is not the pseudonym of the patient who asked."))
        else:
            with shown_on_page(form=form, rename=lambda _field: ""):
                found = complete_erasure_request(actor=request.actor, request=found)
                return render(request, "consent/console/erasure_done.html", {
                    "found": found, "certificate": json.dumps(found.certificate, indent=2)})
    kept = erasure_retentions(found.patient) if found.status == DataSubjectRequest.Status.OPEN else []
    return render(request, "consent/console/erasure_confirm.html", {"found": found, "form": form, "kept": kept},
                  status=400 if form.errors else 200)
