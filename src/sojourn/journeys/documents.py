"""A journey map as a document: its stages in order, each with touchpoints in the lanes of a service
blueprint, pain points, opportunities, the emotion felt, and the program stage it maps onto (which
brings the stage's KPIs and hypotheses onto the map). Checked with pydantic when a version is saved;
problems come back with their path (`stages.2.touchpoints.0.lane`). Also the two templates and the
diff between two versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sojourn.core.errors import ErrorDetail, InvalidInput

LANES = ("patient", "front", "back", "support")  # patient actions, front stage, back stage, support processes
CHANNELS = ("web", "email", "sms", "print", "phone", "in_person", "app", "pharmacy", "other")
MAX_STAGES = 12


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Touchpoint(_Strict):
    name: str = Field(min_length=1, max_length=120)
    lane: Literal["patient", "front", "back", "support"]
    channel: Literal["web", "email", "sms", "print", "phone", "in_person", "app", "pharmacy", "other"] = "other"
    owner: str = Field(default="", max_length=80)


class Stage(_Strict):
    code: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=80)
    program_stage: str | None = Field(default=None, max_length=60)
    emotion: int = Field(default=0, ge=-2, le=2)  # −2 very negative … +2 very positive
    touchpoints: list[Touchpoint] = Field(default_factory=list, max_length=30)
    pain_points: list[str] = Field(default_factory=list, max_length=20)
    opportunities: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("pain_points", "opportunities")
    @classmethod
    def _short_lines(cls, lines: list[str]) -> list[str]:
        lines = [line.strip() for line in lines]
        if any(not line or len(line) > 200 for line in lines):
            raise ValueError("each line holds 1 to 200 characters")
        return lines


class JourneyMap(_Strict):
    stages: list[Stage] = Field(min_length=1, max_length=MAX_STAGES)

    @model_validator(mode="after")
    def _stage_codes_once(self) -> JourneyMap:
        codes = [s.code for s in self.stages]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"stage codes must differ; used twice: {', '.join(twice)}")
        return self


def read_map(raw: Any, program_stages: set[str]) -> JourneyMap:
    """The checked map; every problem with its path, and program stages that do not exist."""
    try:
        parsed = JourneyMap.model_validate(raw)
    except ValidationError as error:
        details = [ErrorDetail(str(e.get("msg", "invalid")).removeprefix("Value error, "),
                               field=".".join(str(p) for p in ("map", *e.get("loc", ())))) for e in error.errors()]
        raise InvalidInput(_("The journey map is not valid."), details=details) from None
    unknown = [ErrorDetail(_("The program has no stage %(stage)s.") % {"stage": s.program_stage},
                           field=f"map.stages.{i}.program_stage")
               for i, s in enumerate(parsed.stages) if s.program_stage and s.program_stage not in program_stages]
    if unknown:
        raise InvalidInput(_("The journey map is not valid."), details=unknown)
    return parsed


def _tp(name: str, lane: str, channel: str = "other", owner: str = "") -> dict[str, str]:
    return {"name": name, "lane": lane, "channel": channel, "owner": owner}


TEMPLATES: dict[str, dict[str, Any]] = {
    "patient": {"stages": [
        {"code": "diagnosis", "name": "Diagnosis", "program_stage": "diagnosis", "emotion": -2,
         "touchpoints": [_tp("Sees the dermatologist", "patient", "in_person"),
                         _tp("Invitation card and enrollment", "front", "web", "Dermatologist"),
                         _tp("Welcome email and needs analysis", "front", "email", "Program"),
                         _tp("Consent recorded, profile built", "back", "other", "Program"),
                         _tp("Identity check and audit trail", "support", "other", "Platform")],
         "pain_points": ["Shock and worry about a lifelong condition"],
         "opportunities": ["Explain the disease in plain words within days"]},
        {"code": "treatment_initiation", "name": "Treatment initiation", "program_stage": "treatment_initiation",
         "emotion": -1,
         "touchpoints": [_tp("Starts the treatment", "patient", "other"),
                         _tp("Injection training call", "front", "phone", "Nurse"),
                         _tp("Side-effect article on the personal page", "front", "web", "Program"),
                         _tp("Nurse task for high psychosocial need", "back", "other", "Program"),
                         _tp("Adverse event intake", "support", "other", "Drug safety")],
         "pain_points": ["Unsure about side effects", "Afraid of the first self-injection"],
         "opportunities": ["A nurse call in the first week"]},
        {"code": "daily_management", "name": "Daily management", "program_stage": "daily_management", "emotion": 1,
         "touchpoints": [_tp("Refills and takes the treatment", "patient", "pharmacy"),
                         _tp("Refill reminders", "front", "sms", "Program"),
                         _tp("Printed magazine", "front", "print", "Print house"),
                         _tp("Rules watch for drifting away", "back", "other", "Program")],
         "pain_points": ["Forgets doses when life gets busy"], "opportunities": ["Tips matched to the top need"]},
        {"code": "switching", "name": "Switching", "program_stage": "switching", "emotion": -1,
         "touchpoints": [_tp("Talks to the dermatologist about a switch", "patient", "in_person"),
                         _tp("What changes with the new treatment", "front", "email", "Program")],
         "pain_points": ["Disappointed the first treatment failed"],
         "opportunities": ["Prepare questions for the doctor"]},
    ]},
    "hcp": {"stages": [
        {"code": "awareness", "name": "Awareness", "emotion": 0,
         "touchpoints": [_tp("Hears of the program", "patient", "in_person"),
                         _tp("Medical science liaison visit", "front", "in_person", "Sponsor")],
         "pain_points": ["Little time for another program"], "opportunities": ["One-page summary"]},
        {"code": "enrollment", "name": "Enrollment", "emotion": 0,
         "touchpoints": [_tp("Enrolls with e-consent", "patient", "web"),
                         _tp("Professional identifier checked", "back", "other", "Program")],
         "pain_points": ["Paperwork"], "opportunities": ["Enroll in two minutes"]},
        {"code": "first_prescription", "name": "First prescription", "emotion": 1,
         "touchpoints": [_tp("Hands out invitation cards", "patient", "in_person"),
                         _tp("Cards printed and sent", "back", "print", "Print house")],
         "pain_points": ["Unsure which patients to invite"], "opportunities": ["Suggest who benefits most"]},
        {"code": "follow_up", "name": "Follow-up", "emotion": 1,
         "touchpoints": [_tp("Sees patients better prepared", "patient", "in_person"),
                         _tp("Program summary for the practice", "front", "email", "Program")],
         "pain_points": ["No feedback from the program"], "opportunities": ["Quarterly aggregate report"]},
    ]},
}
TEMPLATES["caregiver"] = {"stages": [
    {"code": "taking_on_care", "name": "Taking on care", "program_stage": "treatment_initiation", "emotion": -1,
     "touchpoints": [_tp("Helps with the injections", "patient", "in_person"),
                     _tp("Caregiver's guide", "front", "web", "Program")],
     "pain_points": ["Feels unprepared"], "opportunities": ["Training for the caregiver too"]},
    {"code": "routine", "name": "Routine", "program_stage": "daily_management", "emotion": 0,
     "touchpoints": [_tp("Keeps track of refills", "patient", "pharmacy"),
                     _tp("Reminders to the caregiver", "front", "sms", "Program")],
     "pain_points": ["Carries the mental load"], "opportunities": ["Share the reminders"]},
]}


@dataclass
class StageChange:
    code: str
    name: str
    kind: str  # "added", "removed", "changed", "moved"
    changes: list[str] = field(default_factory=list)


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[StageChange]:
    """What changed from one version's map to another's, stage by stage, in words."""
    old = {s["code"]: (i, s) for i, s in enumerate(before["stages"])}
    new = {s["code"]: (i, s) for i, s in enumerate(after["stages"])}
    out: list[StageChange] = []
    for code, (_i, stage) in old.items():
        if code not in new:
            out.append(StageChange(code, stage["name"], "removed"))
    for code, (position, stage) in new.items():
        if code not in old:
            out.append(StageChange(code, stage["name"], "added"))
            continue
        was_position, was = old[code]
        lines: list[str] = []
        if was["name"] != stage["name"]:
            lines.append(_("renamed from “%(old)s”") % {"old": was["name"]})
        if was_position != position:
            lines.append(_("moved from position %(old)d to %(new)d") % {"old": was_position + 1, "new": position + 1})
        if was.get("emotion", 0) != stage.get("emotion", 0):
            lines.append(_("emotion %(old)+d → %(new)+d") % {"old": was.get("emotion", 0),
                                                              "new": stage.get("emotion", 0)})
        if was.get("program_stage") != stage.get("program_stage"):
            lines.append(_("maps onto program stage %(stage)s") % {"stage": stage.get("program_stage") or "—"})
        for key, label_added, label_removed in (
                ("pain_points", _("pain point added: %s"), _("pain point removed: %s")),
                ("opportunities", _("opportunity added: %s"), _("opportunity removed: %s"))):
            lines += [label_added % text for text in stage.get(key, []) if text not in was.get(key, [])]
            lines += [label_removed % text for text in was.get(key, []) if text not in stage.get(key, [])]
        was_tp = {(t["name"], t["lane"]) for t in was.get("touchpoints", [])}
        now_tp = {(t["name"], t["lane"]) for t in stage.get("touchpoints", [])}
        lines += [_("touchpoint added: %(name)s (%(lane)s)") % {"name": n, "lane": lane}
                  for n, lane in sorted(now_tp - was_tp)]
        lines += [_("touchpoint removed: %(name)s (%(lane)s)") % {"name": n, "lane": lane}
                  for n, lane in sorted(was_tp - now_tp)]
        if lines:
            out.append(StageChange(code, stage["name"], "changed", lines))
    return out
