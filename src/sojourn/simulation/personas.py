"""Who the simulated patients are: four personas with latent needs and habits, mixed differently in
each market. Figures are plausible for a psoriasis support program, not measured: change them to
rehearse a program before launch (how many calls a day, which needs go unserved)."""

from __future__ import annotations

from dataclasses import dataclass, field

NEEDS = ("itch", "sleep", "flare_management", "treatment_knowledge", "side_effects", "injection_confidence",
         "adherence", "psychosocial", "doctor_dialogue", "lifestyle", "practical_access")


@dataclass(frozen=True)
class Persona:
    code: str
    stage: str  # journey stage at enrollment
    needs: dict[str, float]  # mean latent need, 0–1 (each patient varies around it)
    digital: float  # chance per day of looking at the personal page while engaged
    opens: float  # chance of opening an email (clicking is a share of opens)
    adherence: float  # chance of refilling on time; late refills come days after the pack ran out
    lapse: float  # chance per week of drifting away
    comeback: float  # chance that a message read while drifting brings the patient back
    pickup: float  # chance of answering a nurse's call
    wellbeing: float  # mean WHO-5 (0–100) at enrollment
    recovery: float  # WHO-5 points gained by week 12 when the patient stays engaged
    switch_by: int = 0  # the dermatologist switches treatment within this many days (0: never)


def _needs(**high: float) -> dict[str, float]:
    base = dict.fromkeys(NEEDS, 0.3)
    base.update(high)
    return base


PERSONAS: dict[str, Persona] = {
    "newly_diagnosed": Persona(
        "newly_diagnosed", "diagnosis",
        _needs(treatment_knowledge=0.8, psychosocial=0.55, doctor_dialogue=0.65, itch=0.6, injection_confidence=0.6),
        digital=0.15, opens=0.55, adherence=0.8, lapse=0.03, comeback=0.35, pickup=0.7, wellbeing=48, recovery=12),
    "long_term": Persona(
        "long_term", "daily_management",
        _needs(itch=0.7, sleep=0.6, flare_management=0.65, lifestyle=0.55, adherence=0.5),
        digital=0.06, opens=0.4, adherence=0.7, lapse=0.06, comeback=0.2, pickup=0.55, wellbeing=56, recovery=5),
    "switching": Persona(
        "switching", "daily_management",
        _needs(side_effects=0.75, treatment_knowledge=0.65, doctor_dialogue=0.6, psychosocial=0.5,
               flare_management=0.6),
        digital=0.1, opens=0.5, adherence=0.65, lapse=0.05, comeback=0.3, pickup=0.65, wellbeing=44, recovery=9,
        switch_by=75),
    "caregiver_supported": Persona(
        "caregiver_supported", "treatment_initiation",
        _needs(injection_confidence=0.75, practical_access=0.65, adherence=0.6, psychosocial=0.6),
        digital=0.12, opens=0.6, adherence=0.85, lapse=0.02, comeback=0.45, pickup=0.8, wellbeing=46, recovery=10),
}


@dataclass(frozen=True)
class MarketTraits:
    share: float  # of the cohort
    locales: dict[str, float]
    personas: dict[str, float]
    sms: float  # share agreeing to text messages
    post: float  # share agreeing to the printed magazine
    research: float
    digital: float  # multiplies the personas' page and email habits
    zones: tuple[str, ...]
    # Shifts of the personas' latent needs in this market, so that the journey hypotheses of the demo
    # have something to find: visible skin weighs more on the mood in Japan and less in Germany, and
    # the cost of treatment worries more patients in the United States.
    needs: dict[str, float] = field(default_factory=dict)


MARKETS: dict[str, MarketTraits] = {
    "DE": MarketTraits(0.25, {"de-DE": 1.0}, {"newly_diagnosed": 0.3, "long_term": 0.35, "switching": 0.2,
                                              "caregiver_supported": 0.15},
                       sms=0.55, post=0.6, research=0.5, digital=0.9, zones=("Europe/Berlin",),
                       needs={"psychosocial": -0.1}),
    "US": MarketTraits(0.3, {"en-US": 1.0}, {"newly_diagnosed": 0.35, "long_term": 0.25, "switching": 0.3,
                                             "caregiver_supported": 0.1},
                       sms=0.8, post=0.3, research=0.6, digital=1.1,
                       zones=("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
                       needs={"practical_access": 0.12}),
    "GB": MarketTraits(0.15, {"en-GB": 1.0}, {"newly_diagnosed": 0.3, "long_term": 0.35, "switching": 0.2,
                                              "caregiver_supported": 0.15},
                       sms=0.7, post=0.4, research=0.55, digital=1.0, zones=("Europe/London",)),
    "JP": MarketTraits(0.2, {"ja-JP": 1.0}, {"newly_diagnosed": 0.25, "long_term": 0.4, "switching": 0.15,
                                             "caregiver_supported": 0.2},
                       sms=0.3, post=0.75, research=0.4, digital=0.75, zones=("Asia/Tokyo",),
                       needs={"psychosocial": 0.15}),
    "CA": MarketTraits(0.1, {"en-CA": 0.75, "fr-CA": 0.25}, {"newly_diagnosed": 0.3, "long_term": 0.3,
                                                              "switching": 0.25, "caregiver_supported": 0.15},
                       sms=0.7, post=0.45, research=0.6, digital=1.0, zones=("America/Toronto", "America/Vancouver")),
}

# Of the invitation cards dermatologists hand out, the share that patients use to enroll.
CARD_UPTAKE = {"DE": 0.6, "US": 0.45, "GB": 0.55, "JP": 0.5, "CA": 0.5}
