"""The simulated cohort: each patient's hidden traits (drawn once from the seed) and state (kept in
the run between days), and their enrollment through the same services as a paper form."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from django.core import mail

from sojourn.consent.models import ConsentDocument, ConsentVersion
from sojourn.consent.queries import current_version
from sojourn.consent.services.enrollment import Signature, enroll_patient, verify_patient
from sojourn.core.actors import Actor
from sojourn.core.models import Market, Program
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.models import Hcp, Invitation, Patient
from sojourn.people.queries import patients_with_index
from sojourn.people.services.invitations import issue_invitations
from sojourn.people.services.patients import email_index
from sojourn.simulation.names import NAMES
from sojourn.simulation.population import Population, phone_number

ENROLLING = Actor.system("simulation: enrollment on paper")
PRINT_HOUSE = Actor.system("simulation: invitation cards")


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent stream per purpose, so a run's outcome does not depend on the order of work and
    a resumed run draws what the uninterrupted one would have."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class SimPatient:
    index: int
    country: str
    locale: str
    zone: str
    persona: str
    needs: dict[str, float]  # latent needs: what the patient would say in the needs analysis
    wellbeing: float
    enroll_day: int
    verifies: bool  # some never confirm their email address
    choices: dict[str, bool]
    switch_day: int | None
    # state, changed day by day
    pseudonym: str = ""
    status: str = "invited"  # invited, pending, active, withdrawn
    engaged: bool = True  # drifting away when False
    next_refill: int | None = None
    refills: int = 0
    stopped_sms: bool = False
    seen_cards: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies, and the whole cohort is saved after every day.
        out = {name: getattr(self, name) for name in _FIELDS}
        out["needs"], out["choices"], out["seen_cards"] = dict(self.needs), dict(self.choices), list(self.seen_cards)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimPatient:
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(SimPatient))


def draw_cohort(seed: int, patients: int, days: int, purposes: dict[str, list[str]], population: Population,
                needs: list[str]) -> list[SimPatient]:
    """Traits of every patient. Enrollment spreads over the first 60 % of the run, so most patients are
    followed for months. `purposes` are the optional consent purposes of each market, `needs` the
    program's need codes in order."""
    cohort = []
    countries = {country: traits.share for country, traits in population.markets.items()}
    for index in range(patients):
        rng = rng_for(seed, "traits", index)
        country = _pick(rng, countries)
        traits = population.markets[country]
        code = _pick(rng, traits.personas)
        persona = population.personas[code]
        latent = {n: round(min(1.0, max(0.0, rng.gauss(persona.needs.get(n, population.baseline_need)
                                                       + traits.needs.get(n, 0.0), 0.18))), 3) for n in needs}
        choices = {}
        for purpose in purposes[country]:
            chance = {"contact_sms": traits.sms, "contact_post": traits.post, "research_use": traits.research,
                      "contact_email": 0.97, "contact_phone": 0.85, "nurse_calls": 0.85}.get(purpose, 0.8)
            choices[purpose] = rng.random() < chance
        wellbeing = round(min(100.0, max(4.0, rng.gauss(persona.wellbeing, 14))), 1)
        cohort.append(SimPatient(
            index=index, country=country, locale=_pick(rng, traits.locales), zone=rng.choice(traits.zones),
            persona=code, needs=latent, wellbeing=wellbeing,
            enroll_day=min(days - 1, int(rng.random() * max(days * 0.6, 1))), verifies=rng.random() < 0.92,
            choices=choices, switch_day=None if not persona.switch_by else rng.randint(20, persona.switch_by)))
    return cohort


def optional_purposes(program: Program) -> dict[str, list[str]]:
    out = {}
    for market in Market.objects.filter(program_markets__program=program):
        out[market.country] = list(market.pack["regulatory"]["consent_purposes"]["optional"])
    return out


def code_from_mail(address: str) -> str:
    """The one-time code in the last email to this address (the mailbox is in memory here)."""
    message = [m for m in mail.outbox if address in m.to][-1]
    return re.search(r"\b(\d{6})\b", message.body).group(1)


@dataclass
class EnrollmentDesk:
    """What every enrollment of a run reads alike, read once per market: the consent version signed
    and the dermatologists who hand out cards."""

    program: Program
    population: Population
    versions: dict[str, ConsentVersion] = field(default_factory=dict)
    doctors: dict[str, list[Hcp]] = field(default_factory=dict)

    def version(self, country: str) -> ConsentVersion | None:
        if country not in self.versions:
            self.versions[country] = current_version(self.program, Market.objects.get(country=country),
                                                     ConsentDocument.Audience.PATIENT)
        return self.versions[country]

    def doctors_in(self, country: str) -> list[Hcp]:
        if country not in self.doctors:
            self.doctors[country] = list(Hcp.objects.filter(program=self.program, market__country=country,
                                                            status=Hcp.Status.ACTIVE).order_by("pk"))
        return self.doctors[country]


def invitation_card(sim: SimPatient, desk: EnrollmentDesk, seed: int) -> Invitation:
    """The card a dermatologist of the patient's market handed them at the consultation (the same one
    again if an interrupted run comes back to this patient)."""
    program = desk.program
    batch = f"simulation-{seed}-patient-{sim.index}"
    card = Invitation.objects.filter(program=program, batch=batch, accepted_at__isnull=True).first()
    if card is None:
        doctors = desk.doctors_in(sim.country)
        doctor = rng_for(seed, "doctor", sim.index).choice(doctors) if doctors else None
        [card] = issue_invitations(actor=PRINT_HOUSE, program=program, market=sim.country, count=1, hcp=doctor,
                                   batch=batch)
    return card


def enroll(sim: SimPatient, desk: EnrollmentDesk, seed: int, today: date) -> Patient:
    """Sign the consent on paper and, for those who do, confirm the emailed code. Run again after an
    interruption it finds the patient it enrolled before."""
    program = desk.program
    address = f"patient{sim.index}.seed{seed}@cohort.sim.example"
    found = patients_with_index(program, "email", email_index(address)).first()
    if found is None:
        rng = rng_for(seed, "identity", sim.index)
        # Names of the market's own where the simulator has them; elsewhere English ones.
        given_names, family_names = NAMES.get(sim.country, NAMES["GB"])
        given, family = rng.choice(given_names), rng.choice(family_names)
        traits = desk.population.markets[sim.country]
        street = f"{traits.address.street} {sim.index % 200 + 1}"
        version = desk.version(sim.country)
        answers = {code: True for code in version.purpose_codes(required=True)}
        answers.update({code: granted for code, granted in sim.choices.items() if code in version.purpose_codes()})
        mail.outbox = []
        card = invitation_card(sim, desk, seed)
        found = enroll_patient(
            actor=ENROLLING, program=program, market=sim.country, version_id=version.pk, locale=sim.locale,
            time_zone=sim.zone, answers=answers, signature=Signature(typed_name=f"{given} {family}", method="paper",
                                                                     signer_time_zone=sim.zone),
            referral_code=card.code,
            identity=PatientIdentity(given_name=given, family_name=family, email=address,
                                     phone=phone_number(traits.phone, seed * 7919 + sim.index),
                                     birth_date=today - timedelta(days=rng.randint(19 * 365, 80 * 365)),
                                     postal_address=PostalAddress(lines=(street,),
                                                                  postal_code=traits.address.postal_code,
                                                                  city=traits.address.city, region="",
                                                                  country=sim.country))).subject
        if sim.verifies:
            found = verify_patient(actor=ENROLLING, patient=found, code=code_from_mail(address))
        mail.outbox = []
    sim.pseudonym = found.pseudonym
    sim.status = "active" if found.status == Patient.Status.ACTIVE else "pending"
    return found
