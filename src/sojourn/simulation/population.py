"""Who a simulated cohort is: one YAML file per program (`cohort.yaml` beside the demo's program
definitions), read whole and checked with line numbers like a definition.

It holds what the simulator cannot know from the program: personas with their latent needs and
habits, how each market mixes them, the medicine patients refill, what else they log, and the
details of a plausible identity in each market (address, phone pattern, how many doctors hand out
cards). Figures are plausible for a program, not measured: change them to rehearse a program before
launch (how many calls a day, which needs go unserved). The format is in docs/simulation.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

import phonenumbers
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.yaml_documents import DocumentReading, Loc, read_yaml_file, read_yaml_text
from sojourn.tracking.models import Need, Stage

WHAT = "a simulated cohort"
Share = Annotated[float, Field(ge=0, le=1)]
Weights = dict[Annotated[str, Field(min_length=1, max_length=60)], Annotated[float, Field(gt=0)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Persona(_Strict):
    stage: str = Field(min_length=1, description="journey stage at enrollment")
    needs: dict[str, Share] = Field(default_factory=dict, description="mean latent needs above the baseline")
    digital: Share = Field(description="chance per day of looking at the personal page while engaged")
    opens: Share = Field(description="chance of opening an email (clicking is a share of opens)")
    adherence: Share = Field(description="chance of refilling on time")
    lapse: Share = Field(description="chance per week of drifting away")
    comeback: Share = Field(description="chance that a message read while drifting brings the patient back")
    pickup: Share = Field(description="chance of answering a nurse's call")
    wellbeing: float = Field(ge=0, le=100, description="mean WHO-5 (0-100) at enrollment")
    recovery: float = Field(ge=0, le=100, description="WHO-5 points gained by week 12 when engaged")
    switch_by: int = Field(default=0, ge=0, le=3650, description="a switch of treatment within these days (0: never)")
    first_refill: tuple[int, int] | None = Field(
        default=None, description="days after enrolling of the first refill, from-to (default: within one pack)")


class Address(_Strict):
    street: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)


class MarketTraits(_Strict):
    share: float = Field(gt=0, description="of the cohort (weights: they need not add up to one)")
    locales: Weights
    personas: Weights
    sms: Share = Field(description="share agreeing to text messages")
    post: Share = Field(description="share agreeing to the printed magazine")
    research: Share
    digital: float = Field(gt=0, le=3, description="multiplies the personas' page and email habits")
    zones: list[Annotated[str, Field(min_length=3)]] = Field(min_length=1)
    needs: dict[str, Annotated[float, Field(ge=-1, le=1)]] = Field(
        default_factory=dict, description="shifts of the personas' latent needs in this market")
    card_uptake: float = Field(gt=0, le=1, description="of the invitation cards doctors hand out, the share used")
    doctors: int = Field(default=10, ge=0, le=10_000, description="doctors the demo enrolls in the market")
    address: Address
    phone: str = Field(min_length=4, max_length=30, description="a phone number with # for each varying digit")


class Medication(_Strict):
    product: str = Field(min_length=1, max_length=60)
    days_supply: int = Field(ge=1, le=365)


class Switch(_Strict):
    event: str = Field(min_length=3, max_length=60)
    reasons: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)


class Diary(_Strict):
    event: str = Field(min_length=3, max_length=60)
    per_week: Share = Field(description="chance per week that an engaged patient logs one")
    data: dict[str, Weights] = Field(default_factory=dict, description="each field's values with their weights")


class Population(_Strict):
    cohort_format: Literal[1]
    program: str = Field(min_length=2, max_length=60, description="the program's slug")
    baseline_need: Share = 0.3
    medication: Medication
    switch: Switch | None = None
    diary: list[Diary] = Field(default_factory=list)
    personas: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")], Persona] = Field(min_length=1)
    markets: dict[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], MarketTraits] = Field(min_length=1)

    def card_uptake(self) -> dict[str, float]:
        return {country: traits.card_uptake for country, traits in self.markets.items()}


def phone_number(pattern: str, n: int) -> str:
    """The pattern with its # filled by the digits of n (zero-padded, the last digits of n)."""
    width = pattern.count("#")
    digits = iter(f"{n % 10 ** width:0{width}d}")
    return "".join(next(digits) if ch == "#" else ch for ch in pattern)


def _semantic(population: Population) -> Iterator[tuple[Loc, str]]:
    for country, traits in population.markets.items():
        for code in traits.personas:
            if code not in population.personas:
                yield ("markets", country, "personas", code), "is not a persona of this file"
        for locale in traits.locales:
            if not locale.startswith(tuple(f"{lang}-" for lang in ("de", "en", "fr", "ja"))) \
                    or not locale.endswith(f"-{country}"):
                yield ("markets", country, "locales", locale), f"a locale of {country} in de, en, fr or ja"
        for filled in ("0", "9"):
            number = traits.phone.replace("#", filled)
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(number, country))
            except phonenumbers.NumberParseException:
                valid = False
            if not valid:
                yield ("markets", country, "phone"), f"{number} is not a valid phone number in {country}"
                break
    for code, persona in population.personas.items():
        low, high = persona.first_refill or (0, 0)
        if not 0 <= low <= high <= 3650:
            yield ("personas", code, "first_refill"), "from and to, in days: 0 ≤ from ≤ to"


def read_population_text(text: str, path: str = "<cohort>") -> DocumentReading[Population]:
    return read_yaml_text(text, path, Population, WHAT, _semantic)


def read_population_file(path: str) -> DocumentReading[Population]:
    return read_yaml_file(path, Population, WHAT, _semantic)


def check_population(population: Population, program: Program) -> None:
    """The cohort fits the program: its stages, needs and markets are the program's. Raises
    InvalidInput naming every field that does not."""
    problems: list[ErrorDetail] = []
    if population.program != program.slug:
        problems.append(ErrorDetail(message=_("This cohort is for the program %(slug)s.") % {
            "slug": population.program}, field="program"))
    stages = set(Stage.objects.filter(program=program).values_list("code", flat=True))
    needs = set(Need.objects.filter(program=program).values_list("code", flat=True))
    countries = set(program.program_markets.values_list("market__country", flat=True))
    for code, persona in population.personas.items():
        if persona.stage not in stages:
            problems.append(ErrorDetail(message=_("The program has no stage %(code)s.") % {"code": persona.stage},
                                        field=f"personas.{code}.stage"))
        problems += [ErrorDetail(message=_("The program has no need %(code)s.") % {"code": need},
                                 field=f"personas.{code}.needs.{need}") for need in persona.needs if need not in needs]
    for country, traits in population.markets.items():
        if country not in countries:
            problems.append(ErrorDetail(message=_("The program does not run in %(country)s.") % {"country": country},
                                        field=f"markets.{country}"))
        problems += [ErrorDetail(message=_("The program has no need %(code)s.") % {"code": need},
                                 field=f"markets.{country}.needs.{need}") for need in traits.needs if need not in needs]
    if problems:
        raise InvalidInput(_("This cohort does not fit the program."), details=problems)


def population_from(data: dict, program: Program) -> Population:
    """A population as a run saved it (JSON), checked against the program again."""
    population = Population.model_validate(data)
    check_population(population, program)
    return population
