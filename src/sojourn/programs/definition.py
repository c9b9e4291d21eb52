"""A program's definition: one human-readable YAML file, read whole and checked with line numbers.

What it holds is what a program manager sets up once and changes rarely: the program and sponsor,
the markets it runs in, its products, journey stages, needs and the questionnaire scales that measure
them, its own event types, the targets of its KPIs per stage and market, the names of its content
levels, and the forward deadline agreed with the sponsor's drug safety department. Content, instruments,
rules and consent texts have their own files and reviews; a definition names them only (a need's
questionnaire by canonical URL).

The format is documented field by field in docs/programs.md; `sojourn program export` writes any
program in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sojourn.core.packs import holiday_calendar_knows
from sojourn.core.yaml_documents import DocumentReading, Loc, read_yaml_file, read_yaml_text
from sojourn.insights.kpis import KPIS, PLACES
from sojourn.tracking.event_types import BUILTIN, CODE_PATTERN, FIELD_TYPES, NAME_PATTERN

WHAT = "a program definition"
LANGUAGES = ("en", "de", "fr", "ja")
CODE = r"^[a-z][a-z0-9_]{0,59}$"


def _language(labels: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(labels) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"labels are in {', '.join(LANGUAGES)}; not {', '.join(unknown)}")
    if not labels.get("en", "").strip():
        raise ValueError("give an English label at least (en)")
    return labels


Labels = Annotated[dict[str, Annotated[str, Field(min_length=1, max_length=120)]], AfterValidator(_language)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ProgramPart(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$")
    name: str = Field(min_length=2, max_length=200)
    indication: str = Field(min_length=2, max_length=200)


class SponsorPart(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$")
    name: str = Field(min_length=2, max_length=200)


class ProductPart(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$", description="as events name it (medication.refilled)")
    name: str = Field(min_length=2, max_length=200)
    strength: str = Field(default="", max_length=100)
    form: str = Field(default="", max_length=100)
    route: str = Field(default="", max_length=60)
    atc: str = Field(default="", pattern=r"^$|^[A-Z]\d\d[A-Z]{2}\d\d$",
                     description="WHO ATC code of the substance, seven characters (L04AC10)")


class StagePart(_Strict):
    code: str = Field(pattern=CODE)
    labels: Labels


class MeasuredBy(_Strict):
    questionnaire: str = Field(min_length=3, max_length=255, description="the instrument's canonical URL")
    scale: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,59}$")


class NeedPart(_Strict):
    code: str = Field(pattern=CODE)
    labels: Labels
    measured_by: list[MeasuredBy] = Field(default_factory=list)


class FieldPart(_Strict):
    type: Literal[FIELD_TYPES]  # type: ignore[valid-type]
    required: bool = False
    choices: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(default_factory=list)
    max_length: int = Field(default=120, ge=1, le=1000)


class EventTypePart(_Strict):
    code: str = Field(max_length=60)
    description: str = Field(default="", max_length=300)
    meaningful: bool = Field(default=False, description="the patient did something: counts towards engagement")
    fields: dict[str, FieldPart] = Field(default_factory=dict, max_length=30)


class Target(_Strict):
    target: float
    amber: float | None = Field(default=None, ge=0)


class KpiTargets(_Strict):
    target: float | None = None
    amber: float | None = Field(default=None, ge=0)
    placed_at: str | None = Field(default=None, description="the stage a KPI measured across the journey sits at")
    stages: dict[str, Target] = Field(default_factory=dict)
    markets: dict[str, Target] = Field(default_factory=dict)


class ContentLevelPart(_Strict):
    level: int = Field(ge=1, le=9, description="as content items and the unlock_level action give it")
    labels: Labels


class ForwardDeadline(_Strict):
    """How long the program has to pass an adverse event to the sponsor's drug safety department,
    from day zero: hours (absolute time) or the market's business days (safety/clocks.py)."""

    hours: int | None = Field(default=None, ge=1, le=720)
    business_days: int | None = Field(default=None, ge=1, le=10)


class SafetyPart(_Strict):
    forward_deadline: ForwardDeadline | None = None
    markets: dict[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], ForwardDeadline] = Field(default_factory=dict)


class ProgramDefinition(_Strict):
    definition_format: Literal[1]
    program: ProgramPart
    sponsor: SponsorPart
    markets: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list)
    products: list[ProductPart] = Field(default_factory=list)
    stages: list[StagePart] = Field(default_factory=list)
    needs: list[NeedPart] = Field(default_factory=list)
    event_types: list[EventTypePart] = Field(default_factory=list)
    kpis: dict[str, KpiTargets] = Field(default_factory=dict)
    content_levels: list[ContentLevelPart] = Field(default_factory=list)
    safety: SafetyPart = SafetyPart()


def _twice(items: list, where: str) -> Iterator[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.code in seen:
            yield (where, i, "code"), f"{item.code} is defined twice (first at {where}[{seen[item.code]}])"
        seen.setdefault(item.code, i)


def semantic_problems(definition: ProgramDefinition) -> Iterator[tuple[Loc, str]]:
    """What the types alone cannot say: codes once each, references that resolve, shares within 0-1."""
    for where in ("products", "stages", "needs", "event_types"):
        yield from _twice(getattr(definition, where), where)
    for i, country in enumerate(definition.markets):
        if country in definition.markets[:i]:
            yield ("markets", i), f"{country} is listed twice"
    for i, need in enumerate(definition.needs):
        pairs = [(m.questionnaire, m.scale) for m in need.measured_by]
        for j, pair in enumerate(pairs):
            if pair in pairs[:j]:
                yield ("needs", i, "measured_by", j), "the same scale is listed twice"
    for i, event_type in enumerate(definition.event_types):
        if not CODE_PATTERN.match(event_type.code):
            yield (("event_types", i, "code"),
                   "an event type is named like 'diary.entry': lower-case words joined by dots")
        elif event_type.code in BUILTIN:
            yield ("event_types", i, "code"), f"{event_type.code} is a built-in event type"
        for name, declared in event_type.fields.items():
            if not NAME_PATTERN.match(name):
                yield (("event_types", i, "fields", name),
                       "a field name is lower-case letters, digits and _ (at most 40)")
            if declared.choices and declared.type not in ("string", "strings"):
                yield ("event_types", i, "fields", name, "choices"), "only text fields have choices"
    stages = {s.code for s in definition.stages}
    for code, targets in definition.kpis.items():
        kpi = KPIS.get(code)
        if kpi is None:
            yield ("kpis", code), f"no KPI is called {code}; the KPIs are {', '.join(sorted(KPIS))}"
            continue
        if targets.placed_at is not None and code not in PLACES:
            yield ("kpis", code, "placed_at"), "this KPI is measured at every stage: it is not placed at one"
        elif targets.placed_at is not None and targets.placed_at not in stages:
            yield ("kpis", code, "placed_at"), f"{targets.placed_at} is not one of the program's stages"
        levels: list[tuple[Loc, float | None]] = [(("kpis", code, "target"), targets.target)]
        for stage, target in targets.stages.items():
            if stage not in stages:
                yield ("kpis", code, "stages", stage), f"{stage} is not one of the program's stages"
            levels.append((("kpis", code, "stages", stage, "target"), target.target))
        for country, target in targets.markets.items():
            if country not in definition.markets:
                yield ("kpis", code, "markets", country), f"{country} is not one of the program's markets"
            levels.append((("kpis", code, "markets", country, "target"), target.target))
        for loc, value in levels:
            if value is not None and kpi.unit == "share" and not 0 <= value <= 1:
                yield loc, "a share is between 0 and 1 (0.8 for 80 %)"
            if value is not None and kpi.unit == "days" and value < 0:
                yield loc, "a number of days is not negative"
    yield from _level_problems(definition)
    yield from _safety_problems(definition)


def _level_problems(definition: ProgramDefinition) -> Iterator[tuple[Loc, str]]:
    # Patients start at level 1 and rules unlock upwards: a gap would be a level nobody can name.
    for i, part in enumerate(definition.content_levels):
        if part.level != i + 1:
            yield ("content_levels", i, "level"), f"levels are numbered 1, 2, 3… in order; this one should be {i + 1}"
            return


def _safety_problems(definition: ProgramDefinition) -> Iterator[tuple[Loc, str]]:
    safety = definition.safety
    agreed: list[tuple[Loc, ForwardDeadline, list[str]]] = []
    if safety.forward_deadline is not None:
        others = [c for c in definition.markets if c not in safety.markets]
        agreed.append((("safety", "forward_deadline"), safety.forward_deadline, others))
    for country, deadline in safety.markets.items():
        if country not in definition.markets:
            yield ("safety", "markets", country), f"{country} is not one of the program's markets"
        agreed.append((("safety", "markets", country), deadline, [country]))
    for loc, deadline, countries in agreed:
        if (deadline.hours is None) == (deadline.business_days is None):
            yield loc, "give the deadline as hours or as business_days, one of them"
        elif deadline.business_days is not None:
            for country in countries:
                if not holiday_calendar_knows(country):
                    yield ((*loc, "business_days"),
                           f"the holiday calendar (holidays package) does not know {country}; give hours instead")


def read_definition_text(text: str, path: str = "<definition>") -> DocumentReading[ProgramDefinition]:
    return read_yaml_text(text, path, ProgramDefinition, WHAT, semantic_problems)


def read_definition_file(path: str) -> DocumentReading[ProgramDefinition]:
    return read_yaml_file(path, ProgramDefinition, WHAT, semantic_problems)
