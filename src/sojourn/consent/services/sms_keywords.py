"""STOP, START and HELP by text message, in every language of the market, from its market pack."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from sojourn.consent.errors import NotConsented
from sojourn.consent.services.withdrawal import regrant_purpose, withdraw_consent
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Market
from sojourn.people.identity import normalize_phone
from sojourn.people.models import Patient
from sojourn.people.services.patients import phone_index


@dataclass(frozen=True)
class KeywordOutcome:
    keyword: str  # "stop", "start", "help" or "" when the message is not a keyword
    patient: Patient | None
    locale: str


def match_keyword(market: Market, text: str) -> tuple[str, str]:
    """Return (kind, locale) for a message that is exactly one keyword, ignoring case and spaces."""
    word = text.strip().casefold()
    for locale, words in market.pack["regulatory"]["sms_keywords"].items():
        for kind in ("stop", "start", "help"):
            if word in {w.casefold() for w in words[kind]}:
                return kind, locale
    return "", ""


def handle_sms_keyword(*, market: Market, sender: str, text: str) -> KeywordOutcome:
    """Act on a keyword from a phone number: STOP withdraws SMS contact at once, START gives it back.

    HELP changes nothing; the SMS channel answers it with the program's help text.
    """
    kind, locale = match_keyword(market, text)
    if not kind:
        return KeywordOutcome("", None, "")
    try:
        index = phone_index(normalize_phone(sender, market.country))
    except InvalidInput:  # an unreadable sender number is simply nobody we know
        return KeywordOutcome(kind, None, locale)
    actor = Actor.system(f"sms keyword {kind}")
    with transaction.atomic(durable=True):
        patients = list(Patient.objects.select_related("market").filter(
            market=market, phone_index=index, status__in=[Patient.Status.ACTIVE, Patient.Status.PENDING]))
        for patient in patients:  # the same number may be enrolled in several programs
            try:
                with transaction.atomic():
                    if kind == "stop":
                        withdraw_consent(actor=actor, patient=patient, purposes=["contact_sms"], via="sms",
                                         reason=f"SMS keyword {text.strip()[:20]}")
                    elif kind == "start":
                        regrant_purpose(actor=actor, patient=patient, purpose="contact_sms", via="sms")
            except NotConsented:
                continue  # nothing on record to stop or to give back for this enrollment
    return KeywordOutcome(kind, patients[0] if patients else None, locale)
