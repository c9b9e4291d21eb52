"""Consent versions and enrollments (of patients and HCPs) made through the services, and what tests
need around them: the patient acting as themselves, the portal's enrollment forms, the code sent by email."""

from __future__ import annotations

import re
from datetime import date

from django.core import mail

from sojourn.consent.models import ConsentVersion
from sojourn.consent.services.documents import (
    TextDraft,
    approve_consent_version,
    draft_consent_version,
    submit_consent_version,
)
from sojourn.consent.services.enrollment import Enrollment, Signature, enroll_hcp, enroll_patient
from sojourn.core.actors import Actor
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import actor_with
from sojourn.people.identity import PatientIdentity
from sojourn.people.models import Patient
from sojourn.people.services.hcps import HcpIdentity

SELF = Actor(kind="anonymous", label="self-enrollment")
NPI = "1234567893"  # a valid US NPI (its check digit holds)
LOCALES = {"DE": ("de-DE", "Europe/Berlin"), "GB": ("en-GB", "Europe/London"), "JP": ("ja-JP", "Asia/Tokyo"),
           "US": ("en-US", "America/New_York"), "CA": ("en-CA", "America/Toronto")}


def purposes_of(market: Market) -> list[dict]:
    pack = market.pack["regulatory"]["consent_purposes"]
    return ([{"code": c, "required": True} for c in pack["required"]]
            + [{"code": c, "required": False} for c in pack["optional"]])


def texts_for(market: Market, purposes: list[dict], title: str = "Consent") -> dict[str, TextDraft]:
    return {locale: TextDraft(title=f"{title} ({locale})", body=f"What the program does, in {locale}.",
                              purpose_texts={p["code"]: f"{p['code']} in {locale}" for p in purposes})
            for locale in market.locales}


def approved_version(program: Program, country: str, audience: str = "patient", *, material: bool = False
                     ) -> ConsentVersion:
    market = Market.objects.get(country=country)
    purposes = purposes_of(market) if audience == "patient" else [
        {"code": "program_participation", "required": True}, {"code": "contact_email", "required": False}]
    author = actor_with(Role.PROGRAM_MANAGER, program, label="author")
    author = Actor(kind="staff", label="author", user_id=1001, grants=author.grants)
    reviewer = actor_with(Role.CONTENT_REVIEWER, program, label="reviewer")
    reviewer = Actor(kind="staff", label="reviewer", user_id=1002, grants=reviewer.grants)
    version = draft_consent_version(actor=author, program=program, market=market, audience=audience,
                                    title=f"{audience} consent {country}", purposes=purposes,
                                    texts=texts_for(market, purposes), material_change=material)
    submit_consent_version(actor=author, version=version)
    return approve_consent_version(actor=reviewer, version=version)


def web_signature(name: str = "Lena Hoffmann", zone: str = "Europe/Berlin", **extra) -> Signature:
    return Signature(typed_name=name, method="web", signer_time_zone=zone, ip_address="203.0.113.7",
                     user_agent="Mozilla/5.0 (test)", **extra)


def enroll(program: Program, country: str = "DE", *, version: ConsentVersion | None = None,
           answers: dict[str, bool] | None = None, email: str = "lena@example.org", phone: str = "",
           birth_date: date = date(1985, 3, 14), actor: Actor = SELF, signature: Signature | None = None,
           referral_code: str = "") -> Enrollment:
    version = version or approved_version(program, country)
    # A market the demo does not have: its pack's own language and first time zone.
    market = Market.objects.get(country=country)
    locale, zone = LOCALES.get(country) or (market.default_locale, market.time_zones[0])
    answers = answers if answers is not None else {p: True for p in version.purpose_codes()}
    return enroll_patient(
        actor=actor, program=program, market=country, version_id=version.pk, locale=locale, time_zone=zone,
        identity=PatientIdentity(given_name="Lena", family_name="Hoffmann", email=email, phone=phone,
                                 birth_date=birth_date),
        answers=answers, signature=signature or web_signature(zone=zone), referral_code=referral_code)


def me(patient: Patient) -> Actor:
    return Actor(kind="patient", label=patient.pseudonym)


def form_data(version, **overrides):
    data = {"given_name": "Lena", "family_name": "Hoffmann", "email": "lena@example.org", "phone": "",
            "birth_date": "1984-02-29", "time_zone": "Europe/Berlin", "typed_name": "Lena Hoffmann",
            "purpose_program_participation": "on", "purpose_contact_email": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def dermatologist(program, country="US", professional_id="1234567893", email="derm@clinic.example"):
    version = approved_version(program, country, audience="hcp")
    zone = {"US": "America/Chicago", "DE": "Europe/Berlin"}[country]
    return enroll_hcp(
        actor=SELF, program=program, market=country, version_id=version.pk,
        locale={"US": "en-US", "DE": "de-DE"}[country], time_zone=zone,
        identity=HcpIdentity(given_name="Dana", family_name="Reyes", email=email, professional_id=professional_id),
        specialty="dermatology", answers={"program_participation": True, "contact_email": True},
        signature=web_signature(name="Dana Reyes", zone=zone))


def hcp_form(**overrides) -> dict:
    data = {"given_name": "Dana", "family_name": "Reyes", "email": "dana@clinic.example", "phone": "",
            "professional_id": NPI, "specialty": "dermatology", "practice_address": "", "time_zone": "America/Chicago",
            "typed_name": "Dana Reyes", "purpose_program_participation": "on", "purpose_contact_email": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def code_for(address: str) -> str:
    sent = [m for m in mail.outbox if address.lower() in (to.lower() for to in m.to)]
    return re.search(r"\b(\d{6})\b", sent[-1].body).group(1)
