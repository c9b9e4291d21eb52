"""The patient portal's session and language: who is signed in, and which of the market's locales
to speak (the person's choice, then the browser, then the market default)."""

from __future__ import annotations

import math

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import ngettext
from django.utils.translation.trans_real import parse_accept_lang_header

from sojourn.core.actors import Actor
from sojourn.core.models import Market
from sojourn.people.models import Patient
from sojourn.people.services.patients import email_index
from sojourn.people.services.throttling import CODES_PER_ADDRESS, CODES_PER_CLIENT, client_address, take

SESSION_PATIENT = "portal_patient"
SESSION_PENDING = "portal_pending"
SESSION_LOCALE = "portal_locale"


def market_locale(request: HttpRequest, market: Market, preference: str = "") -> str:
    """Pick one of the market's locales (de-DE, fr-CA, …) for this visitor and activate its language."""
    wanted = request.GET.get("locale") or preference or request.session.get(SESSION_LOCALE, "")
    chosen = wanted if wanted in market.locales else ""
    if not chosen:
        for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
            exact = [loc for loc in market.locales if loc.lower() == tag.lower()]
            same_language = [loc for loc in market.locales if loc.split("-")[0] == tag.split("-")[0].lower()]
            if exact or same_language:
                chosen = (exact or same_language)[0]
                break
    chosen = chosen or market.default_locale
    if request.GET.get("locale") in market.locales:
        request.session[SESSION_LOCALE] = chosen
    translation.activate(chosen.split("-")[0])
    request.LANGUAGE_CODE = chosen.split("-")[0]  # type: ignore[attr-defined]
    return chosen


def signed_in_patient(request: HttpRequest) -> Patient | None:
    pseudonym = request.session.get(SESSION_PATIENT)
    if not pseudonym:
        return None
    return Patient.objects.select_related("program", "market", "data_key").filter(pseudonym=pseudonym).first()


def patient_actor(patient: Patient) -> Actor:
    return Actor(kind="patient", label=patient.pseudonym)


def sign_in_patient(request: HttpRequest, patient: Patient) -> None:
    request.session.cycle_key()  # a new session id at sign-in: no fixation
    request.session[SESSION_PATIENT] = patient.pseudonym
    request.session.pop(SESSION_PENDING, None)


def hold_sign_in(request: HttpRequest, key: str, pseudonym: str) -> None:
    """Remember who asked for a sign-in code. The session is written whether or not the address is
    enrolled (an empty value when not), so the cookie that comes back never tells which."""
    request.session[key] = pseudonym


def refuse_code_request(request: HttpRequest, form: forms.Form) -> int:
    """Count a request for a sign-in code against its address and against the client; past either
    limit, say so on the form and return the seconds to wait. Enrolled or not, the same count and the
    same answer."""
    wait = take([(CODES_PER_ADDRESS, email_index(form.cleaned_data["email"])),
                 (CODES_PER_CLIENT, client_address(request) or "")])
    if wait:
        minutes = math.ceil(wait / 60)
        form.add_error("email", ngettext(
            "Too many codes were asked for in a short time. Ask again in %(minutes)d minute.",
            "Too many codes were asked for in a short time. Ask again in %(minutes)d minutes.",
            minutes) % {"minutes": minutes})
    return wait


def throttled(response: HttpResponse, wait: int) -> HttpResponse:
    """Answer 429 with Retry-After when the request was refused for its rate."""
    if wait:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response
