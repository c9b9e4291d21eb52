"""Patient portal: enroll with e-consent, confirm the code, see and download the consent, change
preferences, withdraw, ask for one's data. Mobile first; every page in the market's languages."""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.consent.forms import (
    CodeForm,
    EnrollmentForm,
    PreferencesForm,
    ReconsentForm,
    SignInForm,
    WithdrawForm,
    service_field,
)
from sojourn.consent.models import ConsentRecord, ContactPreferences, DataSubjectRequest, ReconsentRequest
from sojourn.consent.portal import (
    SESSION_PENDING,
    hold_sign_in,
    market_locale,
    patient_actor,
    refuse_code_request,
    sign_in_patient,
    signed_in_patient,
    throttled,
)
from sojourn.consent.queries import active_record, current_version, granted_purposes
from sojourn.consent.services.dsr import open_data_subject_request
from sojourn.consent.services.enrollment import Signature, enroll_patient, resend_code, verify_patient
from sojourn.consent.services.preferences import PreferenceChange, update_contact_preferences
from sojourn.consent.services.receipts import read_consent_receipt, receipt_filename
from sojourn.consent.services.reconsent import reconsent_patient
from sojourn.consent.services.verification import check_code, issue_code
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.core.actors import Actor
from sojourn.core.errors import NotFound, SojournError
from sojourn.core.models import Market, Program, ProgramMarket
from sojourn.core.views import shown_on_page
from sojourn.people.models import Patient
from sojourn.people.services.patients import email_index

SELF = Actor(kind="anonymous", label="portal self-enrollment")


def program_market(program_slug: str, country: str) -> tuple[Program, Market]:
    link = get_object_or_404(ProgramMarket.objects.select_related("program", "market"),
                             program__slug=program_slug, market__country=country.upper())
    return link.program, link.market


@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest, program_slug: str, country: str) -> HttpResponse:
    program, market = program_market(program_slug, country)
    locale = market_locale(request, market)
    version = current_version(program, market, "patient")
    if version is None:
        return render(request, "consent/portal/closed.html", {"program": program, "market": market}, status=404)
    text = next(t for t in version.texts.all() if t.locale == locale)
    form = EnrollmentForm(request.POST or None, market=market, version=version, text=text,
                          initial={"time_zone": market.time_zones[0],
                                   "referral_code": request.GET.get("referral", "")[:12]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with shown_on_page(form=form, rename=service_field, hide=()):
            enrollment = enroll_patient(
                actor=SELF, program=program, market=market.country, version_id=version.pk, locale=locale,
                time_zone=data["time_zone"],
                identity=form.identity(),
                answers=form.answers(),
                signature=Signature(typed_name=data["typed_name"], method="web", signer_time_zone=data["time_zone"],
                                    ip_address=request.META.get("REMOTE_ADDR", ""),
                                    user_agent=request.headers.get("User-Agent", ""),
                                    guardian_name=data["guardian_name"],
                                    guardian_relationship=data["guardian_relationship"]),
                referral_code=data["referral_code"])
            request.session[SESSION_PENDING] = enrollment.subject.pseudonym
            return redirect("portal:verify")
    return render(request, "consent/portal/enroll.html", {
        "program": program, "market": market, "locale": locale, "version": version, "text": text, "form": form,
        "minimum_age": market.minimum_age}, status=400 if form.errors else 200)


def _landing(patient: Patient) -> str:
    """Where a patient lands once signed in: their content, unless a changed consent waits to be
    signed (their consent page says so) or they are not active (nothing to show them yet)."""
    if patient.status != Patient.Status.ACTIVE or ReconsentRequest.objects.filter(
            record__patient=patient, closed_at__isnull=True).exists():
        return reverse("portal:me")
    return reverse("personal-page:page")


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    patient = Patient.objects.select_related("market", "program").filter(
        pseudonym=request.session.get(SESSION_PENDING, "")).first()
    if patient is None:
        return redirect("portal:sign-in")
    market_locale(request, patient.market, preference=patient.locale)
    asks_again = request.method == "POST" and "again" in request.POST
    form = CodeForm(request.POST if request.method == "POST" and not asks_again else None)
    again = SignInForm(request.POST if asks_again else None)
    sent_again, wait = False, 0
    if asks_again and again.is_valid() and not (wait := refuse_code_request(request, again)):
        # The code expired or never came: a new one, to the address they enrolled with if they name it
        # again; the same answer when they name another.
        with contextlib.suppress(NotFound):
            resend_code(actor=patient_actor(patient), patient=patient, email=again.cleaned_data["email"])
        sent_again = True
    elif form.is_bound and form.is_valid():
        with shown_on_page(form=form, rename=lambda _field: "code", hide=()):
            patient = verify_patient(actor=patient_actor(patient), patient=patient, code=form.cleaned_data["code"])
            sign_in_patient(request, patient)
            return redirect(_landing(patient))
    return throttled(render(request, "consent/portal/verify.html", {
        "form": form, "again": again, "sent_again": sent_again, "patient": patient},
        status=400 if form.errors or again.errors else 200), wait)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a code by email; say the same whether or not the address is enrolled."""
    form = SignInForm(request.POST or None)
    sent, wait = False, 0
    if request.method == "POST" and form.is_valid() and not (wait := refuse_code_request(request, form)):
        index = email_index(form.cleaned_data["email"])
        patient = Patient.objects.filter(email_index=index, status=Patient.Status.ACTIVE).first()
        if patient is not None:
            with transaction.atomic():
                issue_code(subject=patient, email=form.cleaned_data["email"], locale=patient.locale)
        hold_sign_in(request, SESSION_PENDING, patient.pseudonym if patient else "")
        sent = True
    return throttled(render(request, "consent/portal/sign_in.html", {"form": form, "sent": sent}), wait)


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    patient = Patient.objects.select_related("market").filter(
        pseudonym=request.session.get(SESSION_PENDING, ""), status=Patient.Status.ACTIVE).first()
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if patient is None:
            form.add_error("code", _("This code is not right."))
        else:
            with shown_on_page(form=form, rename=lambda _field: "code", hide=()):
                check_code(subject=patient, code=form.cleaned_data["code"])
                sign_in_patient(request, patient)
                return redirect(_landing(patient))
    # Nothing of the patient on this page (not even the program's name): it must read the same for an
    # address that is not enrolled.
    return render(request, "consent/portal/verify.html", {"form": form, "signing_in": True},
                  status=400 if form.errors else 200)


def _require_patient(request: HttpRequest) -> Patient | None:
    patient = signed_in_patient(request)
    if patient is not None:
        market_locale(request, patient.market, preference=patient.locale)
    return patient


def me(request: HttpRequest) -> HttpResponse:
    patient = _require_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    record = active_record(patient) or ConsentRecord.objects.filter(patient=patient).order_by("-signed_at").first()
    text = record.version.texts.get(locale=record.locale) if record else None
    decisions = [(text.purpose_texts.get(d.purpose, d.purpose), d.granted and d.withdrawn_at is None)
                 for d in record.decisions.all()] if record and text else []
    reconsent = ReconsentRequest.objects.filter(record__patient=patient, closed_at__isnull=True).first()
    requests = DataSubjectRequest.objects.filter(patient=patient).order_by("-received_at")
    return render(request, "consent/portal/me.html", {
        "patient": patient, "record": record, "text": text, "decisions": decisions, "reconsent": reconsent,
        "requests": requests})


def receipt(request: HttpRequest, record_id: int) -> HttpResponse:
    patient = _require_patient(request)
    record = ConsentRecord.objects.filter(pk=record_id, patient=patient).first() if patient else None
    try:
        if record is None:
            raise NotFound()
        pdf = read_consent_receipt(actor=patient_actor(patient), record=record)
    except SojournError:
        return render(request, "consent/portal/gone.html", status=404)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt_filename(record)}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    patient = _require_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    current = ContactPreferences.objects.filter(patient=patient).first()
    form = PreferencesForm(request.POST or None, market=patient.market, initial={
        "channels": current.channels if current else [], "locale": patient.locale,
        "quiet_start": current.quiet_start if current else None, "quiet_end": current.quiet_end if current else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with shown_on_page(form=form, rename=service_field, hide=()):
            update_contact_preferences(actor=patient_actor(patient), patient=patient, change=PreferenceChange(
                channels=data["channels"], locale=data["locale"], quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"]))
            return redirect(reverse("portal:me") + "?saved=1")
    return render(request, "consent/portal/preferences.html", {"form": form, "patient": patient},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    patient = _require_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    record = active_record(patient)
    granted = sorted(granted_purposes(patient))
    text = record.version.texts.get(locale=record.locale) if record else None
    choices = [(p, text.purpose_texts.get(p, p)) for p in granted if p != "program_participation"] if text else []
    form = WithdrawForm(request.POST or None, granted=choices)
    if request.method == "POST" and form.is_valid():
        scope = form.cleaned_data["scope"]
        with shown_on_page(form=form, rename=service_field, hide=()):
            withdraw_consent(actor=patient_actor(patient), patient=patient,
                             purposes=None if scope == "everything" else [scope], via="portal",
                             reason=form.cleaned_data["reason"])
            return redirect(reverse("portal:me") + "?withdrawn=1")
    return render(request, "consent/portal/withdraw.html", {"form": form, "patient": patient, "record": record},
                  status=400 if form.errors else 200)


@require_http_methods(["POST"])
def data_request(request: HttpRequest) -> HttpResponse:
    patient = _require_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    kind = request.POST.get("kind", "")
    # An unknown kind or one already open changes nothing: the page lists what is open.
    with contextlib.suppress(SojournError):
        open_data_subject_request(actor=patient_actor(patient), patient=patient, kind=kind, via="portal")
    return redirect(reverse("portal:me") + "#data")


@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    was_hcp = "portal_hcp" in request.session
    request.session.flush()
    return redirect("portal:hcp-sign-in" if was_hcp else "portal:sign-in")


@require_http_methods(["GET", "POST"])
def reconsent(request: HttpRequest) -> HttpResponse:
    """Read the changed consent and sign it; until then the earlier consent stays in force."""
    patient = _require_patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    pending = (ReconsentRequest.objects.filter(record__patient=patient, closed_at__isnull=True)
               .select_related("new_version").first())
    if pending is None:
        return redirect("portal:me")
    version = pending.new_version
    texts = {t.locale: t for t in version.texts.all()}
    text = texts.get(patient.locale) or texts[patient.market.default_locale]
    granted = granted_purposes(patient)
    form = ReconsentForm(request.POST or None, version=version, text=text,
                         initial={f"purpose_{code}": code in granted for code in version.purpose_codes()})
    if request.method == "POST" and form.is_valid():
        with shown_on_page(form=form, rename=service_field, hide=()):
            reconsent_patient(actor=patient_actor(patient), patient=patient, version_id=version.pk,
                              answers=form.answers(), signature=Signature(
                                  typed_name=form.cleaned_data["typed_name"], method="web",
                                  signer_time_zone=patient.time_zone, ip_address=request.META.get("REMOTE_ADDR", ""),
                                  user_agent=request.headers.get("User-Agent", "")))
            return redirect(reverse("portal:me") + "?reconsented=1")
    return render(request, "consent/portal/reconsent.html", {
        "patient": patient, "version": version, "text": text, "form": form, "change_summary": version.change_summary},
        status=400 if form.errors else 200)
