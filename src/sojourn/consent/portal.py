"""The patient portal's session and language: who is signed in, and which of the market's locales
to speak (the person's choice, then the browser, then the market default)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from sojourn.core.actors import Actor
from sojourn.core.models import Market
from sojourn.people.models import Patient

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
