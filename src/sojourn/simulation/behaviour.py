"""What a simulated patient does: answers questionnaires from their latent needs and well-being (the
PHQ and GAD items from how low their well-being is), reads the cards on their page (more often the
closer a card is to what they need), refills or misses doses, drifts away and comes back when
something the program sent them is worth opening."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sojourn.questionnaires.answers import enabled_items
from sojourn.questionnaires.definition import Definition, Item
from sojourn.simulation.cohort import SimPatient
from sojourn.simulation.population import Population

WEEK_12 = 84


@dataclass(frozen=True)
class Instrument:
    """A questionnaire as the simulator answers it: the definition and which scale each item feeds."""

    name: str
    definition: Definition
    scale_of: dict[str, str]  # linkId → scale id (a need code in the needs analysis)


def _closest(item: Item, target: float) -> Any:
    weighted = [o for o in item.options if o.weight is not None]
    if not weighted:
        return item.options[0].value
    return min(weighted, key=lambda o: abs(float(o.weight) - target)).value


def answers_for(instrument: Instrument, sim: SimPatient, wellbeing: float, rng: random.Random) -> dict[str, list]:
    """Answers a patient with these latent needs and this well-being would give."""
    answers: dict[str, list] = {}
    for item in instrument.definition.questions():
        if item.link_id not in enabled_items(instrument.definition, answers) or not item.options:
            continue
        scale = instrument.scale_of.get(item.link_id)
        if instrument.name == "who-5":
            target = wellbeing / 20 + rng.gauss(0, 0.6)  # five items of 0–5, times four: 0–100
        elif item.link_id == "phq9-9":
            # Thoughts of death or self-harm: rare, and only with low well-being (one patient in
            # ten at the bottom of the scale, none above 60).
            target = 1.0 if rng.random() < max(0.0, 0.6 - wellbeing / 100) / 6 else 0.0
        elif instrument.name in {"phq-9", "phq-2", "gad-7"}:
            # 0–3 per item: none above 60 % well-being, about two a day's frequency at the bottom
            # (a PHQ-9 total near 6 at 40 %, 12 at 20 %).
            target = max(0.0, (60 - wellbeing) / 30) + rng.gauss(0, 0.6)
        elif scale in sim.needs:
            top = max((float(o.weight) for o in item.options if o.weight is not None), default=3.0)
            target = sim.needs[scale] * top + rng.gauss(0, 0.35)
        else:
            answers[item.link_id] = [rng.choice(item.options).value]
            continue
        answers[item.link_id] = [_closest(item, target)]
    return answers


def wellbeing_on(sim: SimPatient, day: int, population: Population) -> float:
    """Well-being improves over the first twelve weeks for engaged patients, less for those who drift."""
    persona = population.personas[sim.persona]
    progress = min(max(day - sim.enroll_day, 0) / WEEK_12, 1.0)
    gain = persona.recovery * progress * (1.0 if sim.engaged else 0.3)
    return min(100.0, sim.wellbeing + gain)


def interest(sim: SimPatient, needs: list[str]) -> float:
    """How much a piece of content speaks to this patient: their strongest need among its tags."""
    return max((sim.needs.get(n, 0.0) for n in needs), default=0.3)


def visits_today(sim: SimPatient, day: int, rng: random.Random, population: Population) -> bool:
    if day == sim.enroll_day:
        return rng.random() < 0.85  # most look at their new page the day they join
    chance = population.personas[sim.persona].digital * population.markets[sim.country].digital
    return rng.random() < (chance if sim.engaged else chance * 0.08)


def drifts_this_week(sim: SimPatient, rng: random.Random, population: Population) -> bool:
    return sim.engaged and rng.random() < population.personas[sim.persona].lapse


def opens(sim: SimPatient, rng: random.Random, population: Population) -> bool:
    chance = population.personas[sim.persona].opens * population.markets[sim.country].digital
    return rng.random() < (chance if sim.engaged else chance * 0.35)


def comes_back(sim: SimPatient, rng: random.Random, population: Population) -> bool:
    return not sim.engaged and rng.random() < population.personas[sim.persona].comeback


def answers_call(sim: SimPatient, rng: random.Random, population: Population) -> bool:
    return rng.random() < population.personas[sim.persona].pickup * (1.0 if sim.engaged else 0.7)


def next_refill(sim: SimPatient, day: int, rng: random.Random, population: Population) -> int:
    """The next pack: on time (a day or two early or late) or days after the last one ran out."""
    on_time = population.personas[sim.persona].adherence * (1.0 if sim.engaged else 0.75)
    pack = population.medication.days_supply
    return day + (pack + rng.randint(-2, 2) if rng.random() < on_time else pack + rng.randint(4, 24))


def misses_a_dose(sim: SimPatient, rng: random.Random, population: Population) -> bool:
    return rng.random() < (1 - population.personas[sim.persona].adherence) * (0.03 if sim.engaged else 0.06)


def event(kind: str, sim: SimPatient, client_id: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"client_id": client_id, "type": kind, "patient": sim.pseudonym, "occurred_at": at.isoformat(),
            "data": data}


def moment(at: datetime, rng: random.Random) -> datetime:
    """Some time in the six hours before this tick of the clock."""
    return at - timedelta(minutes=rng.randint(1, 359))
