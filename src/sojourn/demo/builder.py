"""Build the demo's programs through the same services the product uses, each from its folder of
files (demo/folder.py); safe to run twice. The main program also gets its story: named patients with
their answers, journey hypotheses, a survey and journey maps."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from sojourn.consent.queries import current_version
from sojourn.consent.services.documents import (
    TextDraft,
    approve_consent_version,
    draft_consent_version,
    submit_consent_version,
)
from sojourn.core.actors import Actor
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Role
from sojourn.core.services.programs import launch_program
from sojourn.demo.cohort import enroll_demo_patients, enroll_dermatologists
from sojourn.demo.folder import DEMO_PROGRAMS, PSORIASIS, ProgramFolder
from sojourn.demo.hypotheses import propose_demo_hypotheses
from sojourn.demo.instruments import answer_baseline, approve_instruments
from sojourn.demo.journeys import build_demo_journeys
from sojourn.demo.library import stock_library
from sojourn.demo.needs import place_demo_patients
from sojourn.demo.rules import define_dialogue
from sojourn.demo.surveys import import_demo_survey
from sojourn.people.models import Hcp, Patient
from sojourn.people.services.staff import create_staff, grant_membership
from sojourn.programs.activation import go_live
from sojourn.programs.services import apply_definition
from sojourn.safety.models import Term
from sojourn.safety.services import import_terms

DEMO_PASSWORD = "companion-demo-2026"
PROGRAM_SLUG = PSORIASIS.slug
DEMO_MEDDRA_VERSION = "27.1"


@dataclass(frozen=True)
class DemoStaff:
    email: str
    name: str
    role: Role | None
    markets: tuple[str, ...] | None
    language: str
    time_zone: str


STAFF = (
    DemoStaff("admin@demo.sojourn.example", "Ada Admin", None, None, "en", "Europe/London"),
    DemoStaff("manager@demo.sojourn.example", "Mara Manager", Role.PROGRAM_MANAGER, None, "en", "Europe/Berlin"),
    DemoStaff("reviewer@demo.sojourn.example", "Rudi Reviewer", Role.CONTENT_REVIEWER, None, "de", "Europe/Berlin"),
    DemoStaff("nurse.de@demo.sojourn.example", "Nora Schwester", Role.NURSE, ("DE",), "de", "Europe/Berlin"),
    DemoStaff("nurse.jp@demo.sojourn.example", "Naoko Kango", Role.NURSE, ("JP",), "ja", "Asia/Tokyo"),
    DemoStaff("nurse.na@demo.sojourn.example", "Nia Nurse", Role.NURSE, ("US", "CA"), "en", "America/Toronto"),
    DemoStaff("nurse.gb@demo.sojourn.example", "Gwen Nurse", Role.NURSE, ("GB",), "en", "Europe/London"),
    DemoStaff("analyst@demo.sojourn.example", "Ines Insights", Role.INSIGHTS_ANALYST, None, "en", "Europe/London"),
    DemoStaff("safety@demo.sojourn.example", "Sam Safety", Role.SAFETY_OFFICER, None, "en", "Europe/London"),
    DemoStaff("agency@demo.sojourn.example", "Alex Agency", Role.AGENCY_USER, None, "fr", "America/Toronto"),
)

MANAGER, REVIEWER, ADMIN = "manager@demo.sojourn.example", "reviewer@demo.sojourn.example", "admin@demo.sojourn.example"
ANALYST = "analyst@demo.sojourn.example"
Progress = Callable[[str], None]


def approve_demo_consent(program: Program, market: Market, audience: str, texts: dict) -> None:
    """Write the demo consent for a market, then review and approve it as the reviewers would.
    `texts` are the folder's for the audience: {language: {title, body, purposes}}."""
    actor = Actor.system("demo builder")
    if audience == "patient":
        pack = market.pack["regulatory"]["consent_purposes"]
        purposes = ([{"code": c, "required": True} for c in pack["required"]]
                    + [{"code": c, "required": False} for c in pack["optional"]])
    else:
        purposes = [{"code": "program_participation", "required": True},
                    {"code": "contact_email", "required": False}]
    drafts = {locale: TextDraft(title=texts[locale.split("-")[0]]["title"], body=texts[locale.split("-")[0]]["body"],
                                purpose_texts=texts[locale.split("-")[0]]["purposes"]) for locale in market.locales}
    version = draft_consent_version(actor=actor, program=program, market=market, audience=audience,
                                    title=drafts[market.default_locale].title, purposes=purposes, texts=drafts)
    submit_consent_version(actor=actor, version=version)
    approve_consent_version(actor=actor, version=version)


def _staff(program: Program) -> None:
    """The demo team: each member's role in the program, in the markets of theirs the program runs in."""
    actor = Actor.system("demo builder")
    countries = set(program.program_markets.values_list("market__country", flat=True))
    users = get_user_model().objects
    for member in STAFF:
        user = users.filter(username=member.email).first() or create_staff(
            actor=actor, email=member.email, display_name=member.name, password=DEMO_PASSWORD,
            language=member.language, time_zone=member.time_zone, is_platform_admin=member.role is None)
        markets = sorted(set(member.markets) & countries) if member.markets else None
        if member.role is not None and markets != []:
            grant_membership(actor=actor, user=user, program=program, role=member.role, markets=markets)


def build_program(folder: ProgramFolder, progress: Progress = lambda _msg: None, *, dialogue: bool = True,
                  story: Callable[[Program], None] | None = None) -> Program:
    """A program from its folder: definition, staff, consents, doctors, instruments and, unless
    `dialogue` is off (the engine benchmark brings its own rules), its content library and live rule
    set, each market taken live and the program launched. `story` runs once the instruments are in."""
    actor = Actor.system("demo builder")
    progress("program definition")
    # The program (its markets, products, stages, needs, event types and KPI targets) is its file;
    # what follows loads data into it.
    program = apply_definition(actor=actor, text=folder.definition_text, path="program.yaml").program
    if not Term.objects.filter(program=program).exists():
        progress("safety term list")
        # As a sponsor imports its licensed MedDRA subset: the demo's is a sample of common terms.
        import_terms(actor=actor, program=program, version=DEMO_MEDDRA_VERSION, at=timezone.now(),
                     text=(Path(__file__).parent / "meddra_sample.csv").read_text(encoding="utf-8"))
    progress("staff")
    _staff(program)
    progress("consent documents")
    consents = folder.consents()
    for market in Market.objects.filter(program_markets__program=program):
        for audience in ("patient", "hcp"):
            if current_version(program, market, audience) is None:
                approve_demo_consent(program, market, audience, consents[audience])
    progress("doctors")
    if not Hcp.objects.filter(program=program).exists():
        for _hcp in enroll_dermatologists(program, random.Random(2026), folder.population):
            pass
    progress("questionnaires")
    # Approving a needs analysis maps its scales onto the needs, as the definition declares.
    approve_instruments(program, MANAGER, REVIEWER, own=folder.questionnaires(),
                        measuring={m.questionnaire for need in folder.definition.needs for m in need.measured_by})
    if story is not None:
        story(program)
    if not dialogue:
        return program  # without its library the markets are not ready to go live
    progress("content library")
    stock_library(program, folder.library(), MANAGER, REVIEWER)
    progress("rules")
    define_dialogue(program, *folder.rules(), MANAGER, REVIEWER)
    progress("launch")
    for country in program.program_markets.values_list("market__country", flat=True):
        go_live(actor=actor, program=program, country=country)
    return launch_program(actor=actor, program=program)


def _psoriasis_story(progress: Progress) -> Callable[[Program], None]:
    def story(program: Program) -> None:
        progress("patients")
        if not Patient.objects.filter(program=program).exists():
            for _patient in enroll_demo_patients(program):
                pass
        answer_baseline(program, random.Random(2027))
        progress("profiles")
        place_demo_patients(program, ADMIN)
        progress("journey hypotheses")
        propose_demo_hypotheses(program, ANALYST)
        import_demo_survey(program, ANALYST)
        progress("journey maps and personas")
        build_demo_journeys(program, ANALYST)
    return story


def build_demo(progress: Progress = lambda _msg: None, *, dialogue: bool = True) -> Program:
    """The demo's main program (the psoriasis companion) with its story."""
    return build_program(PSORIASIS, progress, dialogue=dialogue, story=_psoriasis_story(progress))


def build_demo_programs(progress: Progress = lambda _msg: None) -> list[Program]:
    """Every program of the demo: the main one, then the others from their folders alone."""
    programs = [build_demo(progress)]
    for folder in DEMO_PROGRAMS[1:]:
        programs.append(build_program(folder, lambda step, name=folder.slug: progress(f"{name}: {step}")))
    return programs
