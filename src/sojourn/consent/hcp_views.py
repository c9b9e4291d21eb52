"""HCP portal: a doctor enrolls in the awareness program with their own consent, confirms the code,
and finds their referral code and link, their consent receipt, and the way out."""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sojourn.consent.forms import CodeForm, HcpEnrollmentForm, SignInForm, service_field
from sojourn.consent.models import ConsentRecord
from sojourn.consent.portal import hold_sign_in, market_locale, refuse_code_request, throttled
from sojourn.consent.queries import current_version
from sojourn.consent.services.enrollment import Signature, enroll_hcp, verify_hcp
from sojourn.consent.services.receipts import read_consent_receipt, receipt_filename
from sojourn.consent.services.verification import check_code, issue_code
from sojourn.consent.services.withdrawal import withdraw_hcp_consent
from sojourn.consent.views import program_market
from sojourn.core.actors import Actor
from sojourn.core.errors import NotFound, SojournError
from sojourn.core.views import shown_on_page
from sojourn.people.models import Hcp, Patient
from sojourn.people.services.hcps import HcpIdentity, read_hcp_field
from sojourn.people.services.patients import email_index

SESSION_HCP = "portal_hcp"
SESSION_HCP_PENDING = "portal_hcp_pending"
SELF = Actor(kind="anonymous", label="hcp self-enrollment")
# Below this many, the page says "fewer than 5" rather than a count that could single a patient out.
SMALL_COUNT = 5


def hcp_actor(hcp: Hcp) -> Actor:
    return Actor(kind="hcp", label=hcp.pseudonym)


def _hcp(request: HttpRequest, key: str, *statuses: str) -> Hcp | None:
    found = Hcp.objects.select_related("program", "market", "data_key").filter(
        pseudonym=request.session.get(key, "")).first()
    if found is None or (statuses and found.status not in statuses):
        return None
    market_locale(request, found.market, preference=found.locale)
    return found


def signed_in_hcp(request: HttpRequest) -> Hcp | None:
    """The doctor signed in to the portal and still in the program, in their market's language."""
    return _hcp(request, SESSION_HCP, Hcp.Status.ACTIVE)


def _sign_in(request: HttpRequest, hcp: Hcp) -> None:
    request.session.cycle_key()
    request.session[SESSION_HCP] = hcp.pseudonym
    request.session.pop(SESSION_HCP_PENDING, None)


@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest, program_slug: str, country: str) -> HttpResponse:
    program, market = program_market(program_slug, country)
    locale = market_locale(request, market)
    version = current_version(program, market, "hcp")
    if version is None:
        return render(request, "consent/portal/closed.html", {"program": program, "market": market}, status=404)
    text = next(t for t in version.texts.all() if t.locale == locale)
    form = HcpEnrollmentForm(request.POST or None, market=market, version=version, text=text,
                             initial={"time_zone": market.time_zones[0]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with shown_on_page(form=form, rename=service_field, hide=()):
            enrollment = enroll_hcp(
                actor=SELF, program=program, market=market.country, version_id=version.pk, locale=locale,
                time_zone=data["time_zone"], specialty=data["specialty"], answers=form.answers(),
                identity=HcpIdentity(given_name=data["given_name"], family_name=data["family_name"],
                                     email=data["email"], professional_id=data["professional_id"],
                                     phone=data["phone"], practice_address=data["practice_address"]),
                signature=Signature(typed_name=data["typed_name"], method="web", signer_time_zone=data["time_zone"],
                                    ip_address=request.META.get("REMOTE_ADDR", ""),
                                    user_agent=request.headers.get("User-Agent", "")))
            request.session[SESSION_HCP_PENDING] = enrollment.subject.pseudonym
            return redirect("portal:hcp-verify")
    return render(request, "consent/portal/hcp_enroll.html", {
        "program": program, "market": market, "locale": locale, "version": version, "text": text, "form": form},
        status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    hcp = _hcp(request, SESSION_HCP_PENDING, Hcp.Status.PENDING)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with shown_on_page(form=form, rename=lambda _field: "code", hide=()):
            hcp = verify_hcp(actor=hcp_actor(hcp), hcp=hcp, code=form.cleaned_data["code"])
            _sign_in(request, hcp)
            return redirect("portal:hcp-me")
    return render(request, "consent/portal/verify.html", {"form": form, "program": hcp.program},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a code by email; the answer is the same whether or not the address is enrolled."""
    form = SignInForm(request.POST or None)
    sent, wait = False, 0
    if request.method == "POST" and form.is_valid() and not (wait := refuse_code_request(request, form)):
        hcp = Hcp.objects.filter(email_index=email_index(form.cleaned_data["email"]),
                                 status=Hcp.Status.ACTIVE).first()
        if hcp is not None:
            with transaction.atomic():
                issue_code(subject=hcp, email=form.cleaned_data["email"], locale=hcp.locale)
        hold_sign_in(request, SESSION_HCP_PENDING, hcp.pseudonym if hcp else "")
        sent = True
    return throttled(render(request, "consent/portal/sign_in.html", {
        "form": form, "sent": sent, "for_hcp": True, "code_url": reverse("portal:hcp-sign-in-code")}), wait)


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    hcp = _hcp(request, SESSION_HCP_PENDING, Hcp.Status.ACTIVE)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if hcp is None:
                raise NotFound()
            check_code(subject=hcp, code=form.cleaned_data["code"])
        except NotFound:
            form.add_error("code", _("This code is not right."))
        except SojournError as exc:
            form.add_error("code", exc.message)
        else:
            _sign_in(request, hcp)
            return redirect("portal:hcp-me")
    return render(request, "consent/portal/verify.html", {"form": form, "signing_in": True},
                  status=400 if form.errors else 200)


def me(request: HttpRequest) -> HttpResponse:
    hcp = _hcp(request, SESSION_HCP)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    record = ConsentRecord.objects.filter(hcp=hcp).select_related("version").order_by("-signed_at").first()
    referred = Patient.objects.filter(referred_by=hcp,
                                      status__in=[Patient.Status.PENDING, Patient.Status.ACTIVE]).count()
    link = request.build_absolute_uri(
        reverse("portal:enroll", args=[hcp.program.slug, hcp.market.country]) + f"?referral={hcp.referral_code}")
    return render(request, "consent/portal/hcp_me.html", {
        "hcp": hcp, "program": hcp.program, "record": record, "referral_link": link,
        "referred": referred if referred == 0 or referred >= SMALL_COUNT else None,
        "family_name": read_hcp_field(hcp, "family_name") if hcp.status != Hcp.Status.ERASED else ""})


def receipt(request: HttpRequest, record_id: int) -> HttpResponse:
    hcp = _hcp(request, SESSION_HCP)
    record = ConsentRecord.objects.filter(pk=record_id, hcp=hcp).select_related("hcp__market").first() if hcp else None
    try:
        if record is None:
            raise NotFound()
        pdf = read_consent_receipt(actor=hcp_actor(hcp), record=record)
    except SojournError:
        return render(request, "consent/portal/gone.html", status=404)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt_filename(record)}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    hcp = _hcp(request, SESSION_HCP, Hcp.Status.ACTIVE)
    if hcp is None:
        return redirect("portal:hcp-sign-in")
    if request.POST.get("confirm") == "yes":
        # Already withdrawn (a second tab, say): the page shows the state either way.
        with contextlib.suppress(SojournError):
            withdraw_hcp_consent(actor=hcp_actor(hcp), hcp=hcp, via="portal")
    return redirect(reverse("portal:hcp-me") + "?withdrawn=1")
