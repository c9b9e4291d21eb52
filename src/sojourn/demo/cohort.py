"""The demo's people: dermatologists in each market (as many as the program's cohort file says)
and, for the main program, named patients in every locale, enrolled with e-consent through the same
services as the portal. Names are invented."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date

from django.core import mail
from django.test.utils import override_settings

from sojourn.consent.models import ConsentDocument
from sojourn.consent.queries import current_version
from sojourn.consent.services.enrollment import Signature, enroll_hcp, enroll_patient, verify_hcp, verify_patient
from sojourn.core.actors import Actor
from sojourn.core.models import Market, Program
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.models import Hcp, Patient
from sojourn.people.services.hcps import HcpIdentity
from sojourn.simulation.cohort import code_from_mail
from sojourn.simulation.names import NAMES
from sojourn.simulation.population import Population

PATIENTS = (
    ("DE", "de-DE", "Europe/Berlin", "Lena", "Hoffmann", "+49 30 901820", "Torstraße 12", "10119", "Berlin"),
    ("DE", "de-DE", "Europe/Berlin", "Jonas", "Weber", "+49 89 2180", "Leopoldstraße 3", "80802", "München"),
    ("US", "en-US", "America/Chicago", "Maya", "Johnson", "+1 312 555 0142", "233 S Wacker Dr", "60606", "Chicago"),
    ("US", "en-US", "America/New_York", "Ethan", "Brooks", "+1 212 555 0177", "350 5th Ave", "10118", "New York"),
    ("GB", "en-GB", "Europe/London", "Oliver", "Davies", "+44 20 7946 0321", "10 Downing Row", "SW1A 2AA", "London"),
    ("GB", "en-GB", "Europe/London", "Isla", "Morgan", "+44 161 496 0455", "1 Piccadilly", "M1 1RG", "Manchester"),
    ("JP", "ja-JP", "Asia/Tokyo", "陽菜", "佐藤", "+81 3-1234-5678", "千代田区丸の内1-1", "100-0005", "東京都"),
    ("JP", "ja-JP", "Asia/Tokyo", "蓮", "鈴木", "+81 6-6123-4567", "北区梅田3-1", "530-0001", "大阪府"),
    ("CA", "en-CA", "America/Toronto", "Ethan", "Tremblay", "+1 416 555 0199", "100 Queen St W", "M5H 2N2", "Toronto"),
    ("CA", "fr-CA", "America/Toronto", "Chloé", "Gagnon", "+1 514 555 0123", "275 rue Notre-Dame Est", "H2Y 1C6",
     "Montréal"),
)


def _luhn_digit(partial: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def professional_id(country: str, rng: random.Random) -> str:
    if country == "US":
        body = "1" + "".join(rng.choice("0123456789") for _ in range(8))
        return body + str(_luhn_digit("80840" + body))
    if country == "DE":
        head = "".join(rng.choice("0123456789") for _ in range(6))
        check = (10 - sum(int(d) * w for d, w in zip(head, (4, 9, 4, 9, 4, 9), strict=True)) % 10) % 10
        return f"{head}{check}{rng.choice(['01', '02', '03', '52'])}"
    if country == "GB":
        return "".join(rng.choice("0123456789") for _ in range(7))
    if country == "JP":
        return "".join(rng.choice("0123456789") for _ in range(6))
    return "CPSO" + "".join(rng.choice("0123456789") for _ in range(5))


def enroll_dermatologists(program: Program, rng: random.Random, population: Population) -> Iterator[Hcp]:
    actor = Actor.system("demo: dermatologists enroll")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        for country, traits in population.markets.items():
            market = Market.objects.get(country=country)
            version = current_version(program, market, ConsentDocument.Audience.HCP)
            given_names, family_names = NAMES.get(country, NAMES["GB"])
            zone = traits.zones[0]
            for n in range(traits.doctors):
                given, family = rng.choice(given_names), rng.choice(family_names)
                email = f"dr{n + 1}.{country.lower()}@clinic{n % 7 + 1}.example"
                locale = market.locales[n % len(market.locales)]
                enrollment = enroll_hcp(
                    actor=actor, program=program, market=country, version_id=version.pk, locale=locale,
                    time_zone=zone, specialty="dermatology",
                    identity=HcpIdentity(given_name=given, family_name=family, email=email,
                                         professional_id=professional_id(country, rng)),
                    answers={"program_participation": True, "contact_email": True},
                    signature=Signature(typed_name=f"{given} {family}", method="paper",
                                        signer_time_zone=zone))
                # Confirm the code the way the doctor would: by reading the email we sent.
                yield verify_hcp(actor=actor, hcp=enrollment.subject, code=code_from_mail(email))
                mail.outbox = []


def enroll_demo_patients(program: Program) -> Iterator[Patient]:
    actor = Actor.system("demo: patients enroll on paper")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        for i, (country, locale, zone, given, family, phone, street, postcode, city) in enumerate(PATIENTS):
            market = Market.objects.get(country=country)
            version = current_version(program, market, ConsentDocument.Audience.PATIENT)
            referrer = Hcp.objects.filter(program=program, market=market, status="active").order_by("pk").first()
            email = f"patient{i + 1}@demo.sojourn.example"
            answers = {code: True for code in version.purpose_codes()}
            answers["research_use"] = i % 3 != 0
            enrollment = enroll_patient(
                actor=actor, program=program, market=country, version_id=version.pk, locale=locale,
                time_zone=zone, answers=answers,
                identity=PatientIdentity(given_name=given, family_name=family, email=email, phone=phone,
                                         birth_date=date(1965 + 3 * i, 1 + i, 10 + i),
                                         postal_address=PostalAddress(lines=(street,), postal_code=postcode,
                                                                      city=city, region="", country=country)),
                signature=Signature(typed_name=f"{given} {family}", method="paper", signer_time_zone=zone),
                referral_code=referrer.referral_code if referrer and i % 2 == 0 else "")
            yield verify_patient(actor=actor, patient=enrollment.subject, code=code_from_mail(email))
            mail.outbox = []
